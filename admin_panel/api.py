"""JSON endpoints for admins (the seed's paths): a panel session (X-CSRFToken header on writes) or an API token
(`Authorization: Bearer chk_...`). Each route is declared once more as an OpenAPI operation (`documented`),
with the pydantic models of admin_schemas, which also shape its answer; /api/openapi.json lists them."""
from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from decimal import Decimal
from enum import Enum

from flask import Blueprint, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel

from core.errors import DomainError, InvalidInput
from core.models import AdminRole, TransactionStatus
from core.services import analytics, mentorship, topups
from core.services.topups import TopupRequest
from core.timeutil import CAIRO, as_utc
from admin_panel import admin_schemas as A
from admin_panel.auth import roles_required
from admin_panel.openapi import Operation
from admin_panel.views.base import actor, service_session

OWNER, FINANCE, MENTOR = AdminRole.OWNER, AdminRole.FINANCE, AdminRole.MENTOR

api = Blueprint("api", __name__, url_prefix="/api/admin")
OPERATIONS: list[Operation] = []  # added to the OpenAPI document by admin_panel.miniapp.init_app
SECURITY = ("adminToken", "panelSession")


def documented(method: str, rule: str, summary: str, response: type[BaseModel], *, roles: tuple[AdminRole, ...],
               query: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
               errors: tuple[int, ...] = ()):
    """Declare the route's OpenAPI operation (the same rule as the blueprint's, under /api/admin); a test checks
    that every served /api/ route is declared."""
    names = tuple(re.findall(r"<int:(\w+)>", rule))
    path = "/api/admin" + re.sub(r"<int:(\w+)>", r"{\1}", rule)
    who = ", ".join(r.value for r in roles)
    OPERATIONS.append(Operation(
        method, path, summary, "admin", response, query=query, body=body, path_params=names, security=SECURITY,
        errors=tuple(sorted({401, 403, *errors, *((404,) if names else ())})),
        description=f"Roles: {who}." + (" With a session cookie, send the X-CSRFToken header." if method != "GET"
                                         else "")))

    def decorator(fn):
        return fn
    return decorator


def respond(model: type[BaseModel], data, status: int = 200):
    """The answer, shaped (and checked) by its documented model."""
    return jsonify(model.model_validate(_plain(data)).dump()), status


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def fail(message: str, **details):
    """Malformed input (the service was not called): 400 with the INVALID_INPUT code."""
    return jsonify({"error": {**_plain(details), "code": InvalidInput.code, "message": message}}), 400


def domain_fail(err: DomainError, *, fields: dict[str, str] | None = None):
    """A domain error as JSON; `fields` renames the service's field names to this API's."""
    details = _plain(err.details)
    if fields and details.get("field") in fields:
        details["field"] = fields[details["field"]]
    return jsonify({"error": {**details, "code": err.code, "message": str(err)}}), err.http_status


def _body() -> dict | None:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


@api.get("/csrf-token")
@documented("GET", "/csrf-token", "The X-CSRFToken for this session's PUT requests (not needed with a token)",
            A.CsrfTokenOut, roles=(OWNER, FINANCE, MENTOR))
@roles_required(OWNER, FINANCE, MENTOR)
def csrf_token():
    """The token to send as X-CSRFToken with PUT requests of this session."""
    return respond(A.CsrfTokenOut, {"csrfToken": generate_csrf()})


def _topup_json(t: TopupRequest) -> dict:
    return {"id": t.id, "userId": t.user_id, "student": t.student, "username": t.username,
            "amount": t.amount, "status": t.status, "walletNumber": t.wallet_masked,
            "adminNotes": t.admin_notes, "processedBy": t.processed_by, "createdAt": t.created_at,
            "decidedAt": t.decided_at, "updatedAt": t.decided_at or t.created_at}


@api.get("/topup-requests")
@documented("GET", "/topup-requests", "Top-up requests, newest first", A.TopupRequestList, roles=(OWNER, FINANCE),
            query=A.TopupListQuery, errors=(400,))
@roles_required(OWNER, FINANCE)
def list_topups():
    status = (request.args.get("status") or "").upper()
    if status and status not in TransactionStatus.__members__:
        return fail("status must be PENDING, APPROVED or REJECTED", field="status")
    try:
        limit = min(max(int(request.args.get("limit", 100)), 1), 500)
    except ValueError:
        return fail("limit must be a number", field="limit")
    with service_session() as s:
        rows = topups.list_topups(s, status=TransactionStatus(status) if status else None, limit=limit)
    return respond(A.TopupRequestList, {"items": [_topup_json(t) for t in rows]})


@api.put("/topup-requests/<int:tx_id>")
@documented("PUT", "/topup-requests/<int:tx_id>", "Approve (credits the student) or reject a pending top-up",
            A.TopupDecisionOut, roles=(OWNER, FINANCE), body=A.TopupDecisionIn, errors=(400, 409))
@roles_required(OWNER, FINANCE)
def decide_topup(tx_id: int):
    """Approve or reject. Approving a request that no received transfer matches, or rejecting one that a
    transfer matches, is refused with 409 CONFIRMATION_REQUIRED unless the body says `confirm: true`
    (approving then needs a reason: `reason`, or `adminNotes`)."""
    body = _body()
    if body is None:
        return fail("send a JSON object: {status, adminNotes, confirm, reason}")
    status = body.get("status")
    notes = body.get("adminNotes")
    reason = body.get("reason")
    confirm = body.get("confirm", False)
    if status not in ("APPROVED", "REJECTED"):
        return fail("status must be APPROVED or REJECTED", field="status")
    for name, value in (("adminNotes", notes), ("reason", reason)):
        if value is not None and not isinstance(value, str):
            return fail(f"{name} must be text", field=name)
    if not isinstance(confirm, bool):
        return fail("confirm must be true or false", field="confirm")
    reason = reason if reason is not None else notes
    try:
        with service_session() as s:
            if status == "APPROVED":
                result = topups.approve(s, tx_id, actor=actor(), reason=reason, confirmed=confirm)
            else:
                result = topups.reject(s, tx_id, reason or "", actor=actor(), confirmed=confirm)
    except DomainError as err:
        return domain_fail(err)
    return respond(A.TopupDecisionOut, {"id": result.transaction_id, "status": result.status,
                                        "amount": result.amount, "balance": result.balance,
                                        "processedBy": result.processed_by})


def _parse_session_date(raw) -> datetime:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 40:
        raise ValueError
    value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    value = value.replace(tzinfo=CAIRO) if value.tzinfo is None else value
    if not 2000 <= value.year <= 2100:  # 0001-01-01 or 9999-12-31 would overflow in UTC
        raise ValueError
    return value


@api.put("/mentorship/<int:booking_id>/confirm")
@documented("PUT", "/mentorship/<int:booking_id>/confirm", "Confirm a pending booking with its date (the "
            "student is told)", A.ConfirmBookingOut, roles=(OWNER, MENTOR), body=A.ConfirmBookingIn, errors=(400, 409))
@roles_required(OWNER, MENTOR)
def confirm_booking(booking_id: int):
    body = _body()
    if body is None:
        return fail("send a JSON object: {sessionDate, adminNotes}")
    try:
        when = _parse_session_date(body.get("sessionDate"))
    except ValueError:
        return fail("sessionDate must be an ISO date-time, e.g. 2026-12-01T18:30 "
                                     "(Africa/Cairo when no offset is given)", field="sessionDate")
    notes = body.get("adminNotes")
    if notes is not None and not isinstance(notes, str):
        return fail("adminNotes must be text", field="adminNotes")
    try:
        with service_session() as s:
            mentorship.get_booking_for_admin(s, booking_id, current_user.role, current_user.mentor_user_id)
            info = mentorship.confirm(s, booking_id, when, notes, actor=actor())
    except DomainError as err:
        return domain_fail(err)
    return respond(A.ConfirmBookingOut, {"id": info.id, "status": info.status, "sessionDate": info.session_date,
                                         "adminNotes": info.admin_notes})


@api.put("/mentorship/settings")
@documented("PUT", "/mentorship/settings", "The default hourly rate and whether mentorship is open",
            A.MentorshipSettingsOut, roles=(OWNER,), body=A.MentorshipSettingsIn, errors=(400,))
@roles_required(OWNER)
def mentorship_settings():
    body = _body()
    if body is None:
        return fail("send a JSON object: {hourlyRate, isAvailable}")
    rate, available = body.get("hourlyRate"), body.get("isAvailable")
    if rate is None and available is None:
        return fail("give hourlyRate and/or isAvailable")
    if rate is not None and (isinstance(rate, (bool, float)) or not isinstance(rate, (str, int))):
        return fail("hourlyRate must be a string like \"300.00\" or a whole number",
                    field="hourlyRate")
    if available is not None and not isinstance(available, bool):
        return fail("isAvailable must be true or false", field="isAvailable")
    try:
        with service_session() as s:
            settings = mentorship.set_mentorship_settings(s, actor=actor(), hourly_rate=rate,
                                                          is_available=available)
    except DomainError as err:
        return domain_fail(err, fields={"hourly_rate": "hourlyRate"})
    return respond(A.MentorshipSettingsOut, {"hourlyRate": settings.mentor_default_rate,
                                             "isAvailable": settings.mentorship_available,
                                             "durations": list(settings.durations)})


@api.get("/analytics/financial")
@documented("GET", "/analytics/financial", "Revenue, top-ups, wallet float, ARPU and lifetime value",
            A.FinancialOut, roles=(OWNER, FINANCE))
@roles_required(OWNER, FINANCE)
def analytics_financial():
    with service_session() as s:
        return respond(A.FinancialOut, analytics.financial(s))


@api.get("/analytics/engagement")
@documented("GET", "/analytics/engagement", "Active students, wallet adoption, completion, bookings, mentors",
            A.EngagementOut, roles=(OWNER, FINANCE))
@roles_required(OWNER, FINANCE)
def analytics_engagement():
    with service_session() as s:
        return respond(A.EngagementOut, analytics.engagement(s))


@api.get("/analytics/platforms")
@documented("GET", "/analytics/platforms", "Each platform's enrollments, revenue and completion rate",
            A.PlatformStatsList, roles=(OWNER, FINANCE))
@roles_required(OWNER, FINANCE)
def analytics_platforms():
    with service_session() as s:
        return respond(A.PlatformStatsList, {"items": analytics.platform_performance(s)})
