"""Wallet endpoints: balance, paged history with receipts, top-up requests (seed field names, money as strings)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from core.models import Transaction, TransactionStatus, TransactionType
from core.timeutil import CAIRO
from tests.student_api.conftest import MARIAM, NEWCOMER, OMAR, Student
from tests.student_api.test_idempotency import race_api, run_together  # noqa: F401 - race_api is a fixture


def test_balance_and_history_pages(api, omar):
    assert omar.get("/api/wallet/balance").get_json() == {"balance": "100.00", "currency": "EGP"}
    first = omar.get("/api/wallet/transactions?page=1&limit=2").get_json()
    assert first["pagination"] == {"page": 1, "limit": 2, "total": 4, "pages": 2}
    assert [t["type"] for t in first["transactions"]] == ["MENTORSHIP_PAYMENT", "TOP_UP"]
    tx = first["transactions"][0]
    assert tx["amount"] == "-300.00" and tx["balanceAfter"] == "100.00" and tx["status"] == "APPROVED"
    assert set(tx) >= {"id", "type", "amount", "description", "status", "walletNumber", "createdAt"}
    second = omar.get("/api/wallet/transactions?page=2&limit=2").get_json()
    assert [t["type"] for t in second["transactions"]] == ["PLATFORM_PURCHASE", "SIGNUP_BONUS"]
    assert omar.get("/api/wallet/transactions?page=9&limit=2").get_json()["transactions"] == []


def test_bad_paging_is_400_not_500(api, omar):
    for query in ("page=0", "limit=51", "page=abc", "limit=-1"):
        r = omar.get(f"/api/wallet/transactions?{query}")
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "INVALID_INPUT", query


def test_receipt_of_my_transaction_but_not_of_anothers(api, omar, mariam):
    mine = omar.get("/api/wallet/transactions").get_json()["transactions"][1]
    r = omar.get(f"/api/wallet/transactions/{mine['id']}")
    assert r.status_code == 200 and r.get_json()["walletNumber"] == "010****5678"
    assert r.get_json()["decidedAt"] is not None
    r = mariam.get(f"/api/wallet/transactions/{mine['id']}")
    assert r.status_code == 404 and r.get_json()["error"]["message"] == "هذا العنصر غير موجود (أو لم يعد موجودًا)."


def test_topup_request_is_pending_and_shown(api, omar):
    info = omar.get("/api/wallet/topup-info").get_json()
    assert info["walletNumber"] == "01099998888" and info["pending"] == []
    r = omar.post(
        "/api/wallet/topup",
        {"amount": "150.50", "walletNumber": "010 1234 5678", "description": "From my brother's phone"},
    )
    assert r.status_code == 201, r.text
    body = r.get_json()
    assert body["amount"] == "150.50" and body["status"] == "PENDING" and body["walletNumber"] == "010****5678"
    assert body["balance"] == "100.00"  # nothing credited before an admin approves
    pending = omar.get("/api/wallet/topup-info").get_json()["pending"]
    assert [(p["id"], p["description"]) for p in pending] == [(body["id"], "From my brother's phone")]
    assert (
        api.rows(OMAR, Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.PENDING) == 1
    )


def test_json_numbers_are_read_exactly(api, omar):
    r = omar.client.post(
        "/api/wallet/topup",
        data='{"amount": 150.10, "walletNumber": "01012345678"}',
        headers=omar.headers("exact-number-1", **{"Content-Type": "application/json"}),
    )
    assert r.status_code == 201 and r.get_json()["amount"] == "150.10"
    r = omar.client.post(
        "/api/wallet/topup",
        data='{"amount": 1.005, "walletNumber": "01012345678"}',
        headers=omar.headers("exact-number-2", **{"Content-Type": "application/json"}),
    )
    assert r.status_code == 400 and r.get_json()["error"]["reason"] == "TOO_MANY_DECIMALS"


def test_bad_topups_are_explained_in_english_and_arabic(api, omar, mariam):
    # the bot's words (core.words), amounts as the bot writes them in each language
    cases = [
        ({"amount": "0", "walletNumber": "01012345678"}, "INVALID_AMOUNT", "more than zero", "أكبر من صفر"),
        (
            {"amount": "5", "walletNumber": "01012345678"},
            "INVALID_AMOUNT",
            "below the minimum of 10.00 EGP",
            "الحد الأدنى ١٠٫٠٠ ج.م",
        ),
        (
            {"amount": "100", "walletNumber": "0101234"},
            "INVALID_WALLET_NUMBER",
            "Egyptian mobile number",
            "رقم موبايل مصري",
        ),
        ({"amount": True, "walletNumber": "01012345678"}, "INVALID_INPUT", "Enter the amount", "اكتب المبلغ"),
        ({"amount": "100"}, "INVALID_INPUT", "Vodafone Cash number you sent from", "رقم فودافون كاش الذي حولت منه"),
        ({"amount": "100", "walletNumber": ""}, "INVALID_INPUT", "11 digits, like 01012345678", "١١ رقمًا"),
        ({"amount": "100", "walletNumber": "01012345678", "extra": 1}, "INVALID_INPUT", "not valid", "غير صالح"),
    ]
    for body, code, english, arabic in cases:
        for student, words in ((omar, english), (mariam, arabic)):
            r = student.post("/api/wallet/topup", body)
            assert r.status_code == 400, (body, r.text)
            error = r.get_json()["error"]
            assert error["code"] == code and words in error["message"], (body, error)
    assert (
        api.rows(OMAR, Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.PENDING) == 0
    )


def test_not_json_is_400(api, omar):
    for data in ("", "nope", "[1, 2]", '{"amount": NaN, "walletNumber": "01012345678"}'):
        r = omar.client.post(
            "/api/wallet/topup", data=data, headers=omar.headers("not-json-key", **{"Content-Type": "application/json"})
        )
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "INVALID_INPUT", data


def test_topup_limits_come_from_the_service(api, mariam):
    for _ in range(3):
        assert mariam.post("/api/wallet/topup", {"amount": "20", "walletNumber": "01012345678"}).status_code == 201
    r = mariam.post("/api/wallet/topup", {"amount": "20", "walletNumber": "01012345678"})
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "TOO_MANY_PENDING_TOPUPS"
    assert "٣" in r.get_json()["error"]["message"] and api.rows(MARIAM, Transaction.type == TransactionType.TOP_UP) == 3


# --- the optional Vodafone Cash transaction number ----------------------------------------------------

REF = "022768543034"


def vf_sms(amount="150.00", sender="01012345678", ref=REF):
    return (
        f"تم استلام مبلغ {amount} جنيه من رقم {sender} المسجل باسم Student على رقم محفظتك 01099998888.\n"
        f"رصيدك الحالي: 906.82 جنيه.\nرقم العملية: {ref}"
    )


def test_topup_with_a_transaction_number_stores_and_returns_it(api, omar):
    r = omar.post(
        "/api/wallet/topup", {"amount": "150", "walletNumber": "01012345678", "transactionNumber": "٠٢٢٧ ٦٨٥٤ ٣٠٣٤"}
    )
    assert r.status_code == 201, r.text
    assert r.get_json()["transactionNumber"] == REF and r.get_json()["status"] == "PENDING"
    with api.session() as s:
        assert s.get(Transaction, r.get_json()["id"]).transfer_reference == REF
    r = omar.post("/api/wallet/topup", {"amount": "150", "walletNumber": "01012345678", "transactionNumber": ""})
    assert r.status_code == 201 and r.get_json()["transactionNumber"] is None  # blank means none


def test_a_bad_transaction_number_is_explained_and_stores_nothing(api, omar, mariam):
    for bad in ("12", "abc", "1" * 21, "0227 6854 30x4"):
        for student, words in ((omar, "6 to 20 digits"), (mariam, "رقم العملية من ٦ إلى ٢٠ رقمًا")):
            r = student.post(
                "/api/wallet/topup", {"amount": "150", "walletNumber": "01012345678", "transactionNumber": bad}
            )
            error = r.get_json()["error"]
            assert r.status_code == 400 and error["code"] == "INVALID_TRANSACTION_NUMBER", (bad, error)
            assert error["field"] == "transactionNumber" and words in error["message"], (bad, error)
    r = omar.post("/api/wallet/topup", {"amount": "150", "walletNumber": "01012345678", "transactionNumber": 2276})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "INVALID_INPUT"  # a string, as documented
    for student in (OMAR, MARIAM):
        assert (
            api.rows(
                student, Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.PENDING
            )
            == 0
        )


@pytest.mark.slow
def test_a_transfer_that_arrived_first_settles_the_request_once(race_api):
    """The SMS came first; the same request sent six times at once (one key) credits once, a replay
    returns the first answer, and a second request naming the same number stays pending."""
    from core.services import reconciliation
    from core.services.common import Actor
    from core.services.settings import update_settings

    student = race_api.as_student(NEWCOMER, "en")
    student.get("/api/me")
    with race_api.session() as s:
        update_settings(s, {"auto_approve_transfers": "true"}, actor=Actor("qa"))
        assert reconciliation.receive_sms(s, vf_sms()).stored
    body = {"amount": "150.00", "walletNumber": "01012345678", "transactionNumber": REF}
    key = f"vf-{uuid.uuid4()}"
    clients = [Student(race_api.app.test_client(), NEWCOMER) for _ in range(6)]
    results = run_together(*[(lambda c=c: c.post("/api/wallet/topup", body, key=key)) for c in clients])
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    first = next(r.get_json() for r in results if r.status_code == 201)
    assert first["status"] == "APPROVED" and first["balance"] == "650.00" and first["transactionNumber"] == REF
    replay = student.post("/api/wallet/topup", body, key=key)
    assert replay.get_json() == first and replay.headers.get("Idempotent-Replayed") == "true"
    again = student.post("/api/wallet/topup", body)  # another request claiming the same transfer
    assert again.status_code == 201 and again.get_json()["status"] == "PENDING"
    assert race_api.balance(NEWCOMER) == Decimal("650.00") and race_api.ledger_ok()
    assert race_api.rows(NEWCOMER, Transaction.type == TransactionType.TOP_UP) == 2


def test_history_filters_by_type_status_and_cairo_month(api, omar):
    every = omar.get("/api/wallet/transactions?limit=50").get_json()["transactions"]
    top_ups = omar.get("/api/wallet/transactions?type=TOP_UP").get_json()
    assert [t["type"] for t in top_ups["transactions"]] == ["TOP_UP"] and top_ups["pagination"]["total"] == 1
    approved = omar.get("/api/wallet/transactions?status=APPROVED&limit=50").get_json()["transactions"]
    assert [t["id"] for t in approved] == [t["id"] for t in every if t["status"] == "APPROVED"]
    # each Cairo month holds exactly its rows; a month without rows is an empty page, not an error
    months = [datetime.fromisoformat(t["createdAt"]).astimezone(CAIRO).strftime("%Y-%m") for t in every]
    for month in set(months):
        found = omar.get(f"/api/wallet/transactions?month={month}&limit=50").get_json()["transactions"]
        assert [t["id"] for t in found] == [t["id"] for t, m in zip(every, months) if m == month], month
    first = datetime.fromisoformat(every[-1]["createdAt"]).astimezone(CAIRO)
    before = (first.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    empty = omar.get(f"/api/wallet/transactions?month={before}").get_json()
    assert empty["transactions"] == [] and empty["pagination"]["total"] == 0


def test_a_bad_history_filter_is_400_naming_the_field(api, omar):
    for query, field in (("type=TOPUP", "type"), ("status=done", "status"), ("month=2026-13", "month")):
        r = omar.get(f"/api/wallet/transactions?{query}")
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "INVALID_INPUT", query
        assert r.get_json()["error"].get("field") == field, r.get_json()
