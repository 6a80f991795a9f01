"""The SMS webhook (authentication, sender id, retries) and the panel's transfer pages."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from admin_panel import create_app
from core.models import TransactionStatus, Transfer
from core.services import students, topups, wallet
from core.services.common import Actor
from core.services.settings import update_settings
from tests.helpers import make_settings
from tests.panel.helpers import Panel

SECRET = "forwarder-secret-123"
TEXT = (
    "تم استلام مبلغ 150.00 جنيه من رقم 01012345678 المسجل باسم Omar Hassan على رقم محفظتك 01099998888.\n"
    "رصيدك الحالي: 900.00 جنيه.\nرقم العملية: 022755550001"
)


@pytest.fixture
def hooked(panel_template, tmp_path):
    """The panel with the webhook switched on (the tests' school: students with pending top-ups)."""
    import shutil

    template, (founder, other) = panel_template
    path = tmp_path / "codehub.db"
    shutil.copy(template, path)
    app = create_app(make_settings(f"sqlite:///{path}", tmp_path, sms_webhook_secret=SECRET))
    app.config["TESTING"] = True
    p = Panel(app, app.extensions["codehub"].db, founder, other)
    yield p
    p.db.dispose()


def plain(text=TEXT, sender="VF-Cash", stamp=1764165900000):
    return json.dumps({"from": sender, "text": text, "sentStamp": stamp, "receivedStamp": stamp + 900, "sim": "SIM1"})


def gateway(text=TEXT, sender="VF-Cash", event="sms:received"):
    return json.dumps(
        {
            "deviceId": "ffffffffceb0b1db0000018e937c815b",
            "event": event,
            "id": "Ey6ECgOkVVFjz3CL48B8C",
            "payload": {
                "messageId": "abc123",
                "message": text,
                "phoneNumber": sender,
                "simNumber": 1,
                "receivedAt": "2026-11-26T15:46:11.000+02:00",
            },
            "webhookId": "w1",
        }
    )


def signed(body: str, secret=SECRET, stamp=None):
    stamp = str(int(time.time()) if stamp is None else stamp)
    sig = hmac.new(secret.encode(), body.encode() + stamp.encode(), hashlib.sha256).hexdigest()
    return {"X-Signature": sig, "X-Timestamp": stamp, "Content-Type": "application/json"}


def bearer(secret=SECRET):
    return {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}


def transfers(p) -> int:
    return p.count(Transfer)


def test_a_signed_gateway_event_stores_the_transfer_once_however_often_it_is_retried(hooked):
    c = hooked.app.test_client()
    body = gateway()
    replies = [c.post("/api/sms/webhook", data=body, headers=signed(body)) for _ in range(10)]
    assert [r.status_code for r in replies] == [200] * 10
    assert replies[0].get_json()["stored"] is True
    assert all(r.get_json()["duplicate"] for r in replies[1:])
    assert transfers(hooked) == 1


def test_a_plain_forwarder_body_with_the_token(hooked):
    c = hooked.app.test_client()
    r = c.post("/api/sms/webhook", data=plain(), headers=bearer())
    assert r.status_code == 200 and r.get_json()["reference"] == "022755550001"
    r = c.post("/api/sms/webhook?token=" + SECRET, data=plain(), headers={"Content-Type": "application/json"})
    assert r.get_json()["duplicate"] is True
    assert transfers(hooked) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"X-Webhook-Token": ""},
    ],
)
def test_unauthenticated_requests_store_nothing(hooked, headers):
    r = hooked.app.test_client().post("/api/sms/webhook", data=plain(), headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "AUTH_FAILED"
    assert transfers(hooked) == 0


def test_bad_signatures_and_replayed_old_signatures_are_refused(hooked):
    c = hooked.app.test_client()
    body = gateway()
    assert c.post("/api/sms/webhook", data=body, headers=signed(body, secret="other")).status_code == 401
    old = signed(body, stamp=int(time.time()) - 3600)  # a captured request replayed an hour later
    assert c.post("/api/sms/webhook", data=body, headers=old).status_code == 401
    tampered = signed(body)
    assert c.post("/api/sms/webhook", data=body.replace("150.00", "950.00"), headers=tampered).status_code == 401
    assert transfers(hooked) == 0


def test_only_hmac_when_configured(panel_template, tmp_path):
    import shutil

    template, _ids = panel_template
    shutil.copy(template, tmp_path / "codehub.db")
    app = create_app(
        make_settings(
            f"sqlite:///{tmp_path / 'codehub.db'}", tmp_path, sms_webhook_secret=SECRET, sms_webhook_auth="hmac"
        )
    )
    c = app.test_client()
    assert c.post("/api/sms/webhook", data=plain(), headers=bearer()).status_code == 401
    body = plain()
    assert c.post("/api/sms/webhook", data=body, headers=signed(body)).status_code == 200
    app.extensions["codehub"].db.dispose()


def test_texts_from_other_senders_and_other_events_create_nothing(hooked):
    c = hooked.app.test_client()
    r = c.post("/api/sms/webhook", data=plain(sender="+201012345678"), headers=bearer())
    assert r.status_code == 200 and r.get_json() == {"stored": False, "ignored": "SENDER"}
    body = gateway(event="sms:sent")
    assert c.post("/api/sms/webhook", data=body, headers=signed(body)).get_json()["ignored"] == "EVENT"
    outgoing = plain(text="تم تحويل 150.00 جنيه لرقم 01012345678. رقم العملية: 022755550009")
    assert c.post("/api/sms/webhook", data=outgoing, headers=bearer()).get_json()["kind"] == "other"
    assert transfers(hooked) == 0


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        json.dumps({"from": 5, "text": None}),
        json.dumps({"from": "VF-Cash", "text": "تم استلام\x00 مبلغ"}),
        "\xff",
    ],
)
def test_bad_bodies_get_a_clear_4xx(hooked, body):
    r = hooked.app.test_client().post("/api/sms/webhook", data=body, headers=bearer())
    assert r.status_code == 400 and r.is_json
    assert transfers(hooked) == 0


def test_the_webhook_is_off_without_a_secret(panel):
    r = panel.app.test_client().post("/api/sms/webhook", data=plain(), headers=bearer())
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "SMS_WEBHOOK_OFF"


def test_a_forwarded_sms_settles_a_pending_request_when_auto_approval_is_on(hooked):
    with hooked.session() as s:
        update_settings(
            s, {"auto_approve_transfers": "true", "auto_approve_new_sender_max": "500.00"}, actor=Actor.system()
        )
        uid = students.register(s, 5550001, full_name="Omar Hassan").user.id
        asked = datetime.fromtimestamp(1764165900 - 600, tz=timezone.utc)  # 10 minutes before the SMS stamp
        # a number of the student's own (the school's Omar topped up from 01012345678: a shared number waits)
        req = topups.request_topup(s, uid, "150", "01012345670", idempotency_key="k1", now=asked)
        before = wallet.balance(s, uid)
    r = hooked.app.test_client().post(
        "/api/sms/webhook", data=plain(TEXT.replace("01012345678", "01012345670")), headers=bearer()
    )
    assert r.get_json()["settled_request"] == req.transaction_id
    assert hooked.tx(req.transaction_id).status == TransactionStatus.APPROVED
    with hooked.session() as s:
        assert wallet.balance(s, uid) == before + 150
        assert wallet.check_ledger(s) == []


def _page(client, url):
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.text


def test_paste_many_texts_then_approve_the_suggested_pair_in_one_click(panel, finance):
    with panel.session() as s:
        uid = students.register(s, 5550002, full_name="Omar Hassan").user.id
        req = topups.request_topup(s, uid, "150", "01012345678", idempotency_key="k2")
    other = TEXT.replace("022755550001", "022755550002").replace("150.00", "75.00")
    blob = f"{TEXT}\n\n{other}\n\nتم تحويل 5 جنيه لرقم 01012345678"
    r = finance.post("/admin/transfers/paste", data={"csrf_token": finance.csrf, "texts": blob}, follow_redirects=True)
    assert "Message 1: transfer 022755550001 of 150.00 EGP: stored." in r.text
    assert "Message 3: not money received" in r.text
    assert panel.count(Transfer) == 2
    queue = _page(finance, "/admin/topups/")
    assert "matches transfer 022755550001" in queue
    review = _page(finance, f"/admin/topups/request/{req.transaction_id}")
    # the school's Omar topped up from this number before: the pair is no "unique match", and the page says why
    assert "Approve with this transfer" in review and "unique match" not in review
    assert "this sender number is also used by another student: check who paid" in review
    with panel.session() as s:  # closed: an open session would hold its read transaction
        t_id = s.scalar(select(Transfer.id).where(Transfer.reference == "022755550001"))
    r = finance.post(
        f"/admin/topups/request/{req.transaction_id}/approve",
        data={"csrf_token": finance.csrf, "transfer_id": t_id},
        follow_redirects=True,
    )
    assert "approved: 150.00 EGP credited" in r.text
    page = _page(finance, "/admin/transfers/")
    assert "022755550002" in page  # still unmatched
    assert f"#{req.transaction_id}" in page
    with panel.session() as s:
        assert wallet.check_ledger(s) == []


def test_rejecting_a_request_with_a_matching_transfer_asks_first(panel, finance):
    with panel.session() as s:
        uid = students.register(s, 5550003, full_name="Omar").user.id
        req = topups.request_topup(s, uid, "150", "01012345678", idempotency_key="k3")
    finance.post("/admin/transfers/paste", data={"csrf_token": finance.csrf, "texts": TEXT})
    r = finance.post(
        f"/admin/topups/request/{req.transaction_id}/reject",
        data={"csrf_token": finance.csrf, "reason": "no"},
        follow_redirects=True,
    )
    assert "confirm to reject" in r.text and panel.tx(req.transaction_id).status == TransactionStatus.PENDING
    r = finance.post(
        f"/admin/topups/request/{req.transaction_id}/reject",
        data={"csrf_token": finance.csrf, "reason": "no", "confirmed": "1"},
        follow_redirects=True,
    )
    assert panel.tx(req.transaction_id).status == TransactionStatus.REJECTED


def test_statement_upload_maps_previews_then_imports(panel, finance):
    import io

    csv_bytes = (
        "Transaction number,Type,Amount,Sender\n022766660001,Received,40.00,01012345678\n"
        "022766660002,Sent,10.00,01012345678\n"
    ).encode()
    r = finance.post(
        "/admin/transfers/statement",
        data={"csrf_token": finance.csrf, "file": (io.BytesIO(csv_bytes), "vf.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200 and "1 of 2 row(s) are money received" in r.text
    assert "skipped: not money received" in r.text and panel.count(Transfer) == 0
    data = re.search(r'name="data" value="([^"]+)"', r.text).group(1)
    form = {
        "csrf_token": finance.csrf,
        "data": data,
        "name": "vf.csv",
        "confirm": "import",
        "col_reference": "0",
        "col_direction": "1",
        "col_amount": "2",
        "col_sender": "3",
    }
    r = finance.post("/admin/transfers/statement", data=form, follow_redirects=True)
    assert "1 new transfer(s)" in r.text and panel.count(Transfer) == 1
    r = finance.post("/admin/transfers/statement", data={**form, "data": "@@@"}, follow_redirects=True)
    assert r.status_code == 200 and "damaged" in r.text
    r = finance.post(
        "/admin/transfers/statement",
        data={"csrf_token": finance.csrf, "file": (io.BytesIO(b"x"), "vf.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert r.status_code == 200 and "csv or .xlsx" in r.text


def test_signals_page_and_settings_checkbox(panel, owner):
    assert "No signals." in _page(owner, "/admin/transfers/signals") or "fraud-signals" in _page(
        owner, "/admin/transfers/signals"
    )
    settings_page = _page(owner, "/admin/settings/")
    assert 'type="checkbox" id="auto_approve_transfers"' in settings_page


def test_mentors_cannot_see_transfers(panel, mentor):
    assert mentor.get("/admin/transfers/").status_code == 403
    assert mentor.post("/admin/transfers/paste", data={"csrf_token": mentor.csrf, "texts": TEXT}).status_code == 403


# --- in Chromium -------------------------------------------------------------------------------------
from tests.panel.test_browser import live, page  # noqa: E402,F401 - the browser fixtures (browser: tests/conftest.py)


@pytest.mark.slow
@pytest.mark.browser
def test_browser_paste_and_match(page, live):  # noqa: F811 - pytest fixtures
    from tests.external import require_chromium

    require_chromium()
    panel, _base = live
    with panel.session() as s:
        uid = students.register(s, 5550009, full_name="Omar Hassan").user.id
        req = topups.request_topup(s, uid, "150", "010 1234 5678", idempotency_key="browser-1")
        before = wallet.balance(s, uid)
    page.goto("/admin/transfers/")
    page.fill("#paste-texts", TEXT + "\n\nتم تحويل 5 جنيه لرقم 01012345678")
    page.click("#paste-form button[type=submit]")
    page.wait_for_selector(".alert-success")
    assert "transfer 022755550001 of 150.00 EGP: stored" in page.inner_text(".alert-success")
    row = page.locator("#unmatched-transfers tr[data-reference='022755550001']")
    row.locator(f"button:text-is('Approve top-up #{req.transaction_id}')").click()
    page.wait_for_selector(".alert-success")
    assert "approved with its transfer: 150.00 EGP credited" in page.inner_text(".alert-success")
    assert page.locator("#unmatched-transfers tr[data-reference='022755550001']").count() == 0
    assert panel.tx(req.transaction_id).status == TransactionStatus.APPROVED
    with panel.session() as s:
        assert wallet.balance(s, uid) == before + 150
        assert wallet.check_ledger(s) == []


def test_signals_show_on_the_student_and_the_request(panel, owner):
    with panel.session() as s:
        a = students.register(s, 5550011, full_name="Ali").user.id
        b = students.register(s, 5550012, full_name="Mona").user.id
        topups.request_topup(s, a, "50", "01512345678", idempotency_key="s1")
        rb = topups.request_topup(s, b, "60", "01512345678", idempotency_key="s2").transaction_id
    assert "shared sender" in _page(owner, f"/admin/students/student/{a}")
    assert "shared sender" in _page(owner, f"/admin/topups/request/{rb}")
    assert "shared sender" in _page(owner, "/admin/transfers/signals")
