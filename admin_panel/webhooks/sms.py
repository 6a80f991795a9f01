"""The SMS-forwarding webhook: the receiving phone POSTs every incoming SMS here.

Two forms are read: a plain JSON body {from, text, sentStamp, receivedStamp, sim} (e.g. "SMS to URL
forwarder" apps, with the secret as a bearer token), and android-sms-gateway's `sms:received` event,
signed with HMAC-SHA256 over body + X-Timestamp. Authentication is SMS_WEBHOOK_SECRET (token, hmac or
any, per SMS_WEBHOOK_AUTH); only texts from SMS_SENDER_IDS reach core.services.reconciliation, which
stores each transaction number once, so the forwarders' retries are answered without a second effect.
Everything that is not an error answers 2xx, so the forwarder stops retrying.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify, request

from admin_panel.web.errors import admin_message, error_response
from admin_panel.web.security import read_json
from core.errors import DomainError
from core.services import reconciliation
from core.sms import is_wallet_sender
from core.timeutil import as_utc, utcnow

sms_webhook = Blueprint("sms_webhook", __name__, url_prefix="/api/sms")


def _fail(status: int, code: str, message: str):
    return error_response(code, message, status)


def _token_ok(secret: str) -> bool:
    auth = request.headers.get("Authorization", "")
    candidates = [request.headers.get("X-Webhook-Token", ""), request.args.get("token", "")]
    if auth.lower().startswith("bearer "):
        candidates.append(auth[7:].strip())
    return any(c and hmac.compare_digest(c.encode(), secret.encode()) for c in candidates)


def _signature_ok(secret: str, raw: bytes, now: datetime, skew: int) -> bool:
    signature = request.headers.get("X-Signature", "").strip().lower()
    stamp = request.headers.get("X-Timestamp", "").strip()
    if not signature or not stamp.isdigit() or len(stamp) > 12:
        return False
    if abs(now.timestamp() - int(stamp)) > skew:  # an old signed request replayed later
        return False
    expected = hmac.new(secret.encode(), raw + stamp.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def authenticated(raw: bytes, now: datetime) -> bool:
    settings = current_app.extensions["codehub"].settings
    secret = settings.sms_webhook_secret.get_secret_value()
    mode = settings.sms_webhook_auth
    if mode in ("any", "hmac") and _signature_ok(secret, raw, now, settings.sms_max_skew_seconds):
        return True
    return mode in ("any", "token") and _token_ok(secret)


def _stamp(value) -> datetime | None:
    """Milliseconds since the epoch (forwarder apps) or ISO 8601 with offset (android-sms-gateway)."""
    try:
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            or (isinstance(value, str) and value.isdigit())
        ):
            moment = datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
        elif isinstance(value, str) and value:
            moment = as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.year >= 2000 else None


def _message(data: dict):
    """(sender, text, received_at) from either form, or None if this is no incoming SMS."""
    if "event" in data:
        payload = data.get("payload")
        if data.get("event") != "sms:received" or not isinstance(payload, dict):
            return None
        return payload.get("phoneNumber"), payload.get("message"), _stamp(payload.get("receivedAt"))
    return data.get("from"), data.get("text"), _stamp(data.get("receivedStamp")) or _stamp(data.get("sentStamp"))


@sms_webhook.post("/webhook")
def receive():
    panel = current_app.extensions["codehub"]
    if panel.settings.sms_webhook_secret is None or not panel.settings.sms_webhook_secret.get_secret_value():
        return _fail(403, "SMS_WEBHOOK_OFF", "set SMS_WEBHOOK_SECRET to receive forwarded SMS")
    now = utcnow()
    raw = request.get_data(cache=True)
    if not authenticated(raw, now):
        return _fail(401, "AUTH_FAILED", "missing or wrong secret or signature")
    try:
        data = read_json(raw)
    except ValueError:
        return _fail(400, "BAD_REQUEST", "expected a JSON body")
    if not isinstance(data, dict):
        return _fail(400, "BAD_REQUEST", "expected a JSON object")
    message = _message(data)
    if message is None:
        return jsonify({"stored": False, "ignored": "EVENT"}), 200
    sender, text, received_at = message
    if not isinstance(sender, str) or not isinstance(text, str):
        return _fail(400, "BAD_REQUEST", "expected the sender and the text as strings")
    if not is_wallet_sender(sender, panel.settings.sms_sender_ids):
        return jsonify({"stored": False, "ignored": "SENDER"}), 200
    try:
        with panel.db.sessions() as session:
            result = reconciliation.receive_sms(session, text, source="sms", received_at=received_at, now=now)
    except DomainError as err:
        return _fail(err.http_status, err.code, admin_message(err))
    transfer = result.transfer
    return jsonify(
        {
            "kind": result.kind,
            "stored": result.stored,
            "duplicate": result.duplicate,
            "problem": result.problem,
            "reference": transfer.reference if transfer else None,
            "settled_request": result.settled_request,
        }
    ), 200
