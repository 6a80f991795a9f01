"""The admins' JSON API under /api/admin/ (the seed's paths): a panel session (X-CSRFToken header on writes) or an
API token (`Authorization: Bearer chk_...`). Each route is declared once more as an OpenAPI operation
(`documented`) with the pydantic models of schemas.py, which validate its query and body and shape its answer.
A domain error a service raises is answered by the blueprint's one handler (admin_panel.web.errors)."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel, ValidationError

from admin_panel.admin_api import schemas as A
from admin_panel.web.auth import roles_required
from admin_panel.web.context import actor, service_session
from admin_panel.web.errors import answer_domain_errors_for_admins, plain
from admin_panel.web.openapi import Operation
from admin_panel.web.security import read_json
from core.errors import DomainError, InvalidInput
from core.models import AdminRole, TransactionStatus
from core.services import analytics, mentorship, topups
from core.services.topups import TopupRequest
from core.timeutil import CAIRO

OWNER, FINANCE, MENTOR = AdminRole.OWNER, AdminRole.FINANCE, AdminRole.MENTOR

api = answer_domain_errors_for_admins(Blueprint("api", __name__, url_prefix="/api/admin"))
OPERATIONS: list[Operation] = []  # added to the OpenAPI document by admin_panel.admin_api.docs
SECURITY = ("adminToken", "panelSession")


ADMIN_ERROR_TEXT = {
    400: "Bad input, or a request with the session cookie but without its X-CSRFToken header (CSRF_FAILED)",
    401: "Not logged in: no panel session cookie, or an unknown or revoked API token (Authorization: Bearer)",
    403: "The account's role may not do this (see Roles)",
    404: "Not found",
    409: "Conflict with the current state (already decided by another admin, or in flight)",
}


def documented(
    method: str,
    rule: str,
    summary: str,
    response: type[BaseModel],
    *,
    roles: tuple[AdminRole, ...],
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
):
    """Declare the route's OpenAPI operation (the same rule as the blueprint's, under /api/admin); a test checks
    that every served /api/ route is declared."""
    names = tuple(re.findall(r"<int:(\w+)>", rule))
    path = "/api/admin" + re.sub(r"<int:(\w+)>", r"{\1}", rule)
    who = ", ".join(r.value for r in roles)
    OPERATIONS.append(
        Operation(
            method,
            path,
            summary,
            "admin",
            response,
            query=query,
            body=body,
            path_params=names,
            security=SECURITY,
            errors=tuple(sorted({401, 403, *errors, *((404,) if names else ())})),
            error_text=ADMIN_ERROR_TEXT,
            description=f"Roles: {who}."
            + (" With a session cookie, send the X-CSRFToken header." if method != "GET" else ""),
        )
    )

    def decorator(fn):
        return fn

    return decorator


def respond(model: type[BaseModel], data, status: int = 200):
    """The answer, shaped (and checked) by its documented model."""
    return jsonify(model.model_validate(plain(data)).dump()), status


def _invalid(err: ValidationError) -> InvalidInput:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return InvalidInput(f"{where}: {first.get('msg', 'invalid')}"[:300], field=where)


def body_of(model: type[BaseModel]):
    """The JSON body, read bounded with exact numbers and validated by the route's documented model."""
    raw = request.get_data(cache=True)
    try:
        data = read_json(raw) if raw.strip() else None
    except ValueError:
        raise InvalidInput("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("send a JSON object with the fields of " + model.__name__)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise _invalid(err) from None


def query_of(model: type[BaseModel], args: dict):
    try:
        return model.model_validate(args)
    except ValidationError as err:
        raise _invalid(err) from None


@api.get("/csrf-token")
@documented(
    "GET",
    "/csrf-token",
    "The X-CSRFToken for this session's PUT requests (not needed with a token)",
    A.CsrfTokenOut,
    roles=(OWNER, FINANCE, MENTOR),
)
@roles_required(OWNER, FINANCE, MENTOR)
def csrf_token():
    """The token to send as X-CSRFToken with PUT requests of this session."""
    return respond(A.CsrfTokenOut, {"csrfToken": generate_csrf()})


def _topup_json(t: TopupRequest) -> dict:
    return {
        "id": t.id,
        "userId": t.user_id,
        "student": t.student,
        "username": t.username,
        "amount": t.amount,
        "status": t.status,
        "walletNumber": t.wallet_masked,
        "adminNotes": t.admin_notes,
        "processedBy": t.processed_by,
        "createdAt": t.created_at,
        "decidedAt": t.decided_at,
        "updatedAt": t.decided_at or t.created_at,
    }


@api.get("/topup-requests")
@documented(
    "GET",
    "/topup-requests",
    "Top-up requests, newest first",
    A.TopupRequestList,
    roles=(OWNER, FINANCE),
    query=A.TopupListQuery,
    errors=(400,),
)
@roles_required(OWNER, FINANCE)
def list_topups():
    args = request.args.to_dict()
    if args.get("status"):
        args["status"] = args["status"].upper()  # ?status=pending too
    else:
        args.pop("status", None)
    if args.get("limit", "").lstrip("-").isdigit():  # out of range is clamped, not refused
        args["limit"] = min(max(int(args["limit"]), 1), 500)
    q = query_of(A.TopupListQuery, args)
    with service_session() as s:
        rows = topups.list_topups(s, status=TransactionStatus(q.status) if q.status else None, limit=q.limit)
    return respond(A.TopupRequestList, {"items": [_topup_json(t) for t in rows]})


@api.put("/topup-requests/<int:tx_id>")
@documented(
    "PUT",
    "/topup-requests/<int:tx_id>",
    "Approve (credits the student) or reject a pending top-up",
    A.TopupDecisionOut,
    roles=(OWNER, FINANCE),
    body=A.TopupDecisionIn,
    errors=(400, 409),
)
@roles_required(OWNER, FINANCE)
def decide_topup(tx_id: int):
    """Approve or reject. Approving a request that no received transfer matches, or rejecting one that a
    transfer matches, is refused with 409 CONFIRMATION_REQUIRED unless the body says `confirm: true`
    (approving then needs a reason: `reason`, or `adminNotes`)."""
    b: A.TopupDecisionIn = body_of(A.TopupDecisionIn)
    reason = b.reason if b.reason is not None else b.admin_notes
    with service_session() as s:
        if b.status == "APPROVED":
            result = topups.approve(s, tx_id, actor=actor(), reason=reason, confirmed=b.confirm)
        else:
            result = topups.reject(s, tx_id, reason or "", actor=actor(), confirmed=b.confirm)
    return respond(
        A.TopupDecisionOut,
        {
            "id": result.transaction_id,
            "status": result.status,
            "amount": result.amount,
            "balance": result.balance,
            "processedBy": result.processed_by,
        },
    )


def _parse_session_date(raw: str) -> datetime:
    if not raw.strip():
        raise ValueError
    value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    value = value.replace(tzinfo=CAIRO) if value.tzinfo is None else value
    if not 2000 <= value.year <= 2100:  # 0001-01-01 or 9999-12-31 would overflow in UTC
        raise ValueError
    return value


@api.put("/mentorship/<int:booking_id>/confirm")
@documented(
    "PUT",
    "/mentorship/<int:booking_id>/confirm",
    "Confirm a pending booking with its date (the student is told)",
    A.ConfirmBookingOut,
    roles=(OWNER, MENTOR),
    body=A.ConfirmBookingIn,
    errors=(400, 409),
)
@roles_required(OWNER, MENTOR)
def confirm_booking(booking_id: int):
    b: A.ConfirmBookingIn = body_of(A.ConfirmBookingIn)
    try:
        when = _parse_session_date(b.session_date)
    except ValueError:
        raise InvalidInput(
            "sessionDate must be an ISO date-time, e.g. 2026-12-01T18:30 (Africa/Cairo when no offset is given)",
            field="sessionDate",
        ) from None
    with service_session() as s:
        mentorship.get_booking_for_admin(s, booking_id, current_user.role, current_user.mentor_user_id)
        info = mentorship.confirm(s, booking_id, when, b.admin_notes, actor=actor())
    return respond(
        A.ConfirmBookingOut,
        {"id": info.id, "status": info.status, "sessionDate": info.session_date, "adminNotes": info.admin_notes},
    )


@api.put("/mentorship/settings")
@documented(
    "PUT",
    "/mentorship/settings",
    "The default hourly rate and whether mentorship is open",
    A.MentorshipSettingsOut,
    roles=(OWNER,),
    body=A.MentorshipSettingsIn,
    errors=(400,),
)
@roles_required(OWNER)
def mentorship_settings():
    b: A.MentorshipSettingsIn = body_of(A.MentorshipSettingsIn)
    if b.hourly_rate is None and b.is_available is None:
        raise InvalidInput("give hourlyRate and/or isAvailable")
    try:
        with service_session() as s:
            settings = mentorship.set_mentorship_settings(
                s, actor=actor(), hourly_rate=b.hourly_rate, is_available=b.is_available
            )
    except DomainError as err:
        if err.details.get("field") == "hourly_rate":  # this API's name for the field
            err.details["field"] = "hourlyRate"
        raise
    return respond(
        A.MentorshipSettingsOut,
        {
            "hourlyRate": settings.mentor_default_rate,
            "isAvailable": settings.mentorship_available,
            "durations": list(settings.durations),
        },
    )


@api.get("/analytics/financial")
@documented(
    "GET",
    "/analytics/financial",
    "Revenue, top-ups, wallet float, ARPU and lifetime value",
    A.FinancialOut,
    roles=(OWNER, FINANCE),
)
@roles_required(OWNER, FINANCE)
def analytics_financial():
    with service_session() as s:
        return respond(A.FinancialOut, analytics.financial(s))


@api.get("/analytics/engagement")
@documented(
    "GET",
    "/analytics/engagement",
    "Active students, wallet adoption, completion, bookings, mentors",
    A.EngagementOut,
    roles=(OWNER, FINANCE),
)
@roles_required(OWNER, FINANCE)
def analytics_engagement():
    with service_session() as s:
        return respond(A.EngagementOut, analytics.engagement(s))


@api.get("/analytics/platforms")
@documented(
    "GET",
    "/analytics/platforms",
    "Each platform's enrollments, revenue and completion rate",
    A.PlatformStatsList,
    roles=(OWNER, FINANCE),
)
@roles_required(OWNER, FINANCE)
def analytics_platforms():
    with service_session() as s:
        return respond(A.PlatformStatsList, {"items": analytics.platform_performance(s)})
