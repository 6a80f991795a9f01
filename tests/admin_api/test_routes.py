"""The JSON API with the seed's paths: session auth, CSRF header on writes, validated input, coded errors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from core.models import BookingStatus, TransactionStatus
from core.services import reconciliation, wallet
from core.timeutil import CAIRO, utcnow
from tests.factories import feed_a_transfer
from tests.panel.helpers import login, token
from tests.panel.test_topups import matching_sms
from tests.student_api.test_idempotency import run_together


def _put(client, url, body):
    return client.put(url, json=body, headers={"X-CSRFToken": client.csrf})


def test_anonymous_gets_401_json(panel, client):
    r = client.get("/api/admin/topup-requests")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "UNAUTHENTICATED"


def test_list_topup_requests(panel, finance):
    items = finance.get("/api/admin/topup-requests?status=PENDING").get_json()["items"]
    assert [i["amount"] for i in items] == ["200.00", "150.50"]
    assert all("****" in i["walletNumber"] for i in items)
    assert len(finance.get("/api/admin/topup-requests").get_json()["items"]) == 4
    r = finance.get("/api/admin/topup-requests?status=LOST")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "INVALID_INPUT"
    assert finance.get("/api/admin/topup-requests?limit=x").status_code == 400


def test_approve_then_conflict(panel, finance, owner):
    tx = panel.pending_topups()[0]
    before = panel.user(tx.user_id).balance
    with panel.session() as s:
        feed_a_transfer(s)  # transfers are fed in: "no transfer matches" now counts against a request
    r = _put(finance, f"/api/admin/topup-requests/{tx.id}", {"status": "APPROVED", "adminNotes": "ok"})
    assert r.status_code == 409  # no received transfer matches: a confirmation is needed
    assert r.get_json()["error"]["code"] == "CONFIRMATION_REQUIRED" and r.get_json()["error"]["action"] == "approve"
    assert panel.tx(tx.id).status == TransactionStatus.PENDING
    r = _put(finance, f"/api/admin/topup-requests/{tx.id}", {"status": "APPROVED", "adminNotes": "ok", "confirm": True})
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "APPROVED" and body["balance"] == str(before + Decimal("200.00"))
    r = _put(owner, f"/api/admin/topup-requests/{tx.id}", {"status": "REJECTED", "adminNotes": "late"})
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "ALREADY_PROCESSED" and err["by"] == "finance"
    assert panel.tx(tx.id).status == TransactionStatus.APPROVED


@pytest.mark.parametrize(
    "body,code,status",
    [
        ({"status": "MAYBE"}, "INVALID_INPUT", 400),
        ({"status": "REJECTED"}, "REASON_REQUIRED", 400),
        ({"status": "REJECTED", "adminNotes": 5}, "INVALID_INPUT", 400),
        ({"status": "APPROVED", "adminNotes": "n" * 3000}, "INVALID_INPUT", 400),
        ({"status": "APPROVED"}, "CONFIRMATION_REQUIRED", 409),
        ({"status": "APPROVED", "confirm": True}, "CONFIRMATION_REQUIRED", 409),  # and a reason
        ({"status": "APPROVED", "confirm": True, "reason": "  "}, "CONFIRMATION_REQUIRED", 409),
        ({"status": "APPROVED", "confirm": "yes", "reason": "checked"}, "INVALID_INPUT", 400),
        ({"status": "APPROVED", "confirm": True, "reason": 5}, "INVALID_INPUT", 400),
        ([1, 2], "INVALID_INPUT", 400),
    ],
)
def test_decide_topup_bad_input(panel, finance, body, code, status):
    tx = panel.pending_topups()[0]
    with panel.session() as s:
        feed_a_transfer(s)
    r = _put(finance, f"/api/admin/topup-requests/{tx.id}", body)
    assert r.status_code == status and r.get_json()["error"]["code"] == code
    assert panel.tx(tx.id).status == TransactionStatus.PENDING


def test_without_a_transfer_feed_one_call_approves(panel, finance):
    """A fresh install has no transfer feed (no SMS webhook, nothing imported): the admin checked the phone, and
    one call approves, as the owner's flow has it; no reason is asked."""
    tx = panel.pending_topups()[0]
    before = panel.user(tx.user_id).balance
    r = _put(finance, f"/api/admin/topup-requests/{tx.id}", {"status": "APPROVED"})
    assert r.status_code == 200 and r.get_json()["balance"] == str(before + tx.amount)


def test_approve_with_a_matching_transfer_needs_no_confirmation(panel, finance):
    a, b = panel.pending_topups()
    matching_sms(panel, b)
    r = _put(finance, f"/api/admin/topup-requests/{b.id}", {"status": "APPROVED"})
    assert r.status_code == 200 and r.get_json()["status"] == "APPROVED"
    with panel.session() as s:
        assert reconciliation.transfer_paying_for(s, b.id).reference == "022755560001"
    r = _put(finance, f"/api/admin/topup-requests/{b.id}", {"status": "APPROVED"})  # a repeat
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ALREADY_PROCESSED"
    r = _put(
        finance,
        f"/api/admin/topup-requests/{a.id}",
        {"status": "APPROVED", "confirm": True, "reason": "Paid at the office"},
    )
    assert r.status_code == 200 and panel.tx(a.id).admin_notes == "Paid at the office"
    with panel.session() as s:
        assert wallet.check_ledger(s) == []


def test_reject_with_a_matching_transfer_needs_confirm(panel, finance):
    b = panel.pending_topups()[1]
    matching_sms(panel, b)
    r = _put(finance, f"/api/admin/topup-requests/{b.id}", {"status": "REJECTED", "adminNotes": "fake"})
    err = r.get_json()["error"]
    assert r.status_code == 409 and err["code"] == "CONFIRMATION_REQUIRED" and err["reference"] == "022755560001"
    assert panel.tx(b.id).status == TransactionStatus.PENDING
    r = _put(
        finance, f"/api/admin/topup-requests/{b.id}", {"status": "REJECTED", "adminNotes": "fake", "confirm": True}
    )
    assert r.status_code == 200 and panel.tx(b.id).status == TransactionStatus.REJECTED


def test_two_admins_approving_at_once_credit_once(panel, finance, owner):
    b = panel.pending_topups()[1]
    matching_sms(panel, b)
    before = panel.user(b.user_id).balance
    clients = [finance, owner, login_as(panel, "finance"), login_as(panel, "owner")]
    results = [
        r.status_code
        for r in run_together(
            *[lambda c=c: _put(c, f"/api/admin/topup-requests/{b.id}", {"status": "APPROVED"}) for c in clients]
        )
    ]
    assert sorted(results) == [200, 409, 409, 409], results
    assert panel.user(b.user_id).balance == before + b.amount
    with panel.session() as s:
        assert wallet.check_ledger(s) == []


def login_as(panel, username):
    c = panel.app.test_client()
    login(c, username)
    c.csrf = token(c)
    return c


def test_decide_unknown_topup_and_no_csrf(panel, finance):
    r = _put(finance, "/api/admin/topup-requests/99999", {"status": "APPROVED"})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "NOT_FOUND"
    tx = panel.pending_topups()[0]
    r = finance.put(f"/api/admin/topup-requests/{tx.id}", json={"status": "APPROVED"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "CSRF_FAILED"
    assert panel.tx(tx.id).status == TransactionStatus.PENDING


def test_confirm_booking(panel, owner):
    b = panel.bookings(BookingStatus.PENDING)[0]
    when = (utcnow() + timedelta(days=3)).astimezone(CAIRO).replace(second=0, microsecond=0, tzinfo=None)
    r = _put(owner, f"/api/admin/mentorship/{b.id}/confirm", {"sessionDate": when.isoformat(), "adminNotes": "Zoom"})
    assert r.status_code == 200 and r.get_json()["status"] == "CONFIRMED"
    assert panel.booking(b.id).session_date == when.replace(tzinfo=CAIRO)


@pytest.mark.parametrize(
    "body,code",
    [
        ({"sessionDate": "2020-01-01T10:00"}, "DATE_IN_PAST"),
        ({"sessionDate": "soon"}, "INVALID_INPUT"),
        ({}, "INVALID_INPUT"),
        ({"sessionDate": "2099-01-01T10:00", "adminNotes": ["x"]}, "INVALID_INPUT"),
    ],
)
def test_confirm_booking_bad_input(panel, owner, body, code):
    b = panel.bookings(BookingStatus.PENDING)[0]
    r = _put(owner, f"/api/admin/mentorship/{b.id}/confirm", body)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == code
    assert panel.booking(b.id).status == BookingStatus.PENDING


def test_confirm_booking_of_another_mentor_is_not_found(panel):
    c = panel.app.test_client()
    login(c, "mentor2")
    c.csrf = token(c)
    b = panel.bookings(BookingStatus.PENDING)[0]
    r = _put(c, f"/api/admin/mentorship/{b.id}/confirm", {"sessionDate": "2099-01-01T10:00"})
    assert r.status_code == 404
    r = _put(c, "/api/admin/mentorship/99999/confirm", {"sessionDate": "2099-01-01T10:00"})
    assert r.status_code == 404


def test_mentorship_settings(panel, owner):
    r = _put(owner, "/api/admin/mentorship/settings", {"hourlyRate": "275.50", "isAvailable": False})
    assert r.status_code == 200 and r.get_json() == {
        "hourlyRate": "275.50",
        "isAvailable": False,
        "durations": [30, 60, 90, 120],
    }
    assert panel.audits("settings.update")


@pytest.mark.parametrize(
    "body",
    [
        {"hourlyRate": -5},
        {"hourlyRate": "abc"},
        {"hourlyRate": 1.5},
        {"isAvailable": "yes"},
        {},
        {"hourlyRate": "1e400"},
    ],
)
def test_mentorship_settings_bad_input(panel, owner, body):
    r = _put(owner, "/api/admin/mentorship/settings", body)
    assert r.status_code == 400 and r.get_json()["error"]["code"] in ("INVALID_INPUT", "INVALID_SETTING")
    assert not panel.audits("settings.update")


def test_analytics_endpoints(panel, finance):
    fin = finance.get("/api/admin/analytics/financial").get_json()
    assert fin["topups"]["PENDING"] == {"count": 2, "amount": "350.50"}
    eng = finance.get("/api/admin/analytics/engagement").get_json()
    assert eng["students"] == 4 and eng["bookings_by_status"]["COMPLETED"] == 1
    platforms = finance.get("/api/admin/analytics/platforms").get_json()["items"]
    assert {p["name"] for p in platforms} >= {"Python Foundations", "Web Development with Flask"}


def test_the_success_metrics_endpoint(panel, finance, mentor):
    """The numbers of the Analytics page, as JSON (money and rates as strings, a missing rate null)."""
    from tests.factories import seed_metrics_school

    with panel.session() as s:
        seed_metrics_school(s, 2024)
    r = finance.get("/api/admin/analytics/metrics?from=2024-09&to=2024-11")
    assert r.status_code == 200, r.text
    m = r.get_json()
    assert (m["from"], m["to"], m["months"]) == ("2024-09", "2024-11", ["2024-09", "2024-10", "2024-11"])
    assert [(x["revenue"], x["growth_pct"]) for x in m["revenue"]] == [
        ("250.00", "0.0"),
        ("200.00", "-20.0"),
        ("350.00", "75.0"),
    ]
    assert [(x["active"], x["students"], x["share_pct"]) for x in m["adoption"]] == [
        (2, 3, "66.7"),
        (2, 4, "50.0"),
        (5, 5, "100.0"),
    ]
    assert m["completion_rate_pct"] == "50.0" and m["bookings"][2]["by_status"]["PENDING"] == 1
    rates = {p["name"]: p["rate_pct"] for p in m["completion"]}
    assert rates["DSA 2024"] == "33.3" and rates["No tasks yet 2024"] is None
    assert [c["value"] for c in m["cohorts"]] == ["250.00", "350.00", "0.00"]
    bad = finance.get("/api/admin/analytics/metrics?from=2024-11&to=2024-09")
    assert bad.status_code == 400 and "after it ends" in bad.get_json()["error"]["message"]
    assert finance.get("/api/admin/analytics/metrics?from=24-1").status_code == 400
    assert finance.get("/api/admin/analytics/metrics?month=2024-01").status_code == 400  # unknown parameter
    assert finance.get("/api/admin/analytics/metrics").status_code == 200  # the last 6 months
    assert mentor.get("/api/admin/analytics/metrics").status_code == 403
