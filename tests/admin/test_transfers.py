"""The SMS webhook (authentication, sender id, retries) and the panel's transfer pages."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from admin_panel import create_app
from core.models import Transaction, TransactionStatus, TransactionType, Transfer
from core.services import wallet
from core.services.common import Actor
from core.services.settings import update_settings
from tests.admin.conftest import Panel, csrf_from
from tests.conftest import make_settings

SECRET = "forwarder-secret-123"
TEXT = ("تم استلام مبلغ 150.00 جنيه من رقم 01012345678 المسجل باسم Omar Hassan على رقم محفظتك 01099998888.\n"
        "رصيدك الحالي: 900.00 جنيه.\nرقم العملية: 022755550001")


@pytest.fixture
def hooked(panel_template, tmp_path):
    """The panel with the webhook switched on (the demo data: students with pending top-ups)."""
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
    return json.dumps({"from": sender, "text": text, "sentStamp": stamp, "receivedStamp": stamp + 900,
                       "sim": "SIM1"})


def gateway(text=TEXT, sender="VF-Cash", event="sms:received"):
    return json.dumps({"deviceId": "ffffffffceb0b1db0000018e937c815b", "event": event, "id": "Ey6ECgOkVVFjz3CL48B8C",
                       "payload": {"messageId": "abc123", "message": text, "phoneNumber": sender, "simNumber": 1,
                                   "receivedAt": "2026-11-26T15:46:11.000+02:00"}, "webhookId": "w1"})


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


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"X-Webhook-Token": ""},
])
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
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'codehub.db'}", tmp_path, sms_webhook_secret=SECRET,
                                   sms_webhook_auth="hmac"))
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


@pytest.mark.parametrize("body", ["not json", "[1, 2]", json.dumps({"from": 5, "text": None}),
                                  json.dumps({"from": "VF-Cash", "text": "تم استلام\x00 مبلغ"}), "\xff"])
def test_bad_bodies_get_a_clear_4xx(hooked, body):
    r = hooked.app.test_client().post("/api/sms/webhook", data=body, headers=bearer())
    assert r.status_code == 400 and r.is_json
    assert transfers(hooked) == 0


def test_the_webhook_is_off_without_a_secret(panel):
    r = panel.app.test_client().post("/api/sms/webhook", data=plain(), headers=bearer())
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "SMS_WEBHOOK_OFF"


def test_a_forwarded_sms_settles_a_pending_request_when_auto_approval_is_on(hooked):
    with hooked.session() as s:
        update_settings(s, {"auto_approve_transfers": "true"}, actor=Actor.system())
        uid = wallet.register(s, 5550001, full_name="Omar Hassan").user.id
        asked = datetime.fromtimestamp(1764165900 - 600, tz=timezone.utc)  # 10 minutes before the SMS stamp
        req = wallet.request_topup(s, uid, "150", "01012345678", idempotency_key="k1", now=asked)
        before = wallet.balance(s, uid)
    r = hooked.app.test_client().post("/api/sms/webhook", data=plain(), headers=bearer())
    assert r.get_json()["settled_request"] == req.transaction_id
    assert hooked.tx(req.transaction_id).status == TransactionStatus.APPROVED
    with hooked.session() as s:
        assert wallet.balance(s, uid) == before + 150
        assert wallet.check_ledger(s) == []
