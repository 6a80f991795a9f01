"""Platforms, enrollment (paid from the balance, through core.services.enrollment), access and tasks."""

from __future__ import annotations

from core.models import Transaction, TransactionType
from tests.student_api.conftest import NEWCOMER, OMAR


def platform_id(student, name: str) -> int:
    return next(p["id"] for p in student.get("/api/platforms").get_json()["platforms"] if p["name"] == name)


def test_platforms_with_and_without_price(api, mariam):
    items = mariam.get("/api/platforms?includePrice=true").get_json()["platforms"]
    flask = next(p for p in items if p["name"] == "Web Development with Flask")
    assert flask["price"] == "250.00" and flask["enrolled"] is True and flask["expiresAt"] and flask["taskCount"] == 5
    assert flask["accessDays"] and flask["canRenew"] is False  # bought 9 days ago: no Renew yet
    assert all(p["canRenew"] is False for p in items if not p["enrolled"] and not p["expired"])
    assert next(p for p in items if p["name"] == "Python Foundations")["isFree"] is True
    assert all(p["price"] is None for p in mariam.get("/api/platforms?includePrice=false").get_json()["platforms"])


def test_enroll_debits_once_and_opens_the_tasks(api, newcomer):
    mariam = newcomer
    pid = platform_id(mariam, "Telegram Bots with aiogram")
    assert mariam.get(f"/api/enrollments/check/{pid}").get_json()["enrolled"] is False
    r = mariam.get(f"/api/platforms/{pid}/tasks")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "ACCESS_DENIED"
    before = api.balance(NEWCOMER)
    r = mariam.post("/api/enrollments", {"platformId": pid, "expectedPrice": "150.00"})
    assert r.status_code == 201, r.text
    assert r.get_json()["balance"] == f"{before - 150:.2f}" and r.get_json()["price"] == "150.00"
    assert mariam.get("/api/wallet/balance").get_json()["balance"] == f"{before - 150:.2f}"
    assert mariam.get(f"/api/enrollments/check/{pid}").get_json()["enrolled"] is True
    mine = mariam.get("/api/enrollments/my").get_json()["enrollments"]
    assert any(e["platformId"] == pid and e["progress"] == {"done": 0, "total": 4} for e in mine)
    tasks = mariam.get(f"/api/platforms/{pid}/tasks").get_json()
    first = tasks["tasks"][0]["id"]
    done = mariam.post(f"/api/tasks/{first}/done", key=None).get_json()
    assert done["progress"] == {"done": 1, "total": 4}
    assert mariam.post(f"/api/tasks/{first}/done", key=None).get_json()["progress"] == {"done": 1, "total": 4}
    r = mariam.post("/api/enrollments", {"platformId": pid})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ALREADY_ENROLLED"
    assert "مشترك بالفعل" in r.get_json()["error"]["message"]
    assert api.ledger_ok()


def test_insufficient_funds_and_changed_price(api, omar):
    pid = platform_id(omar, "Web Development with Flask")
    r = omar.post("/api/enrollments", {"platformId": pid})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "INSUFFICIENT_FUNDS"
    # the bot's words for it (core.words): one sentence for both faces
    assert r.get_json()["error"]["message"] == (
        "Not enough balance: you need 250.00 EGP and have 100.00 EGP (short by 150.00 EGP)."
    )
    free = platform_id(omar, "Python Foundations")
    r = omar.post("/api/enrollments", {"platformId": free, "expectedPrice": "10.00"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "PRICE_CHANGED"
    assert api.rows(OMAR, Transaction.type == TransactionType.PLATFORM_PURCHASE) == 1


def test_unknown_platform_and_task_are_404(api, omar):
    assert omar.post("/api/enrollments", {"platformId": 999}).status_code == 404
    assert omar.get("/api/enrollments/check/999").status_code == 404
    assert omar.get("/api/platforms/999/tasks").status_code == 404
    assert omar.post("/api/tasks/999/done", key=None).status_code == 404
    assert omar.get("/api/enrollments/check/99999999999").status_code == 404
    r = omar.post("/api/enrollments", {"platformId": "2"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "platformId"  # the schema says integer
