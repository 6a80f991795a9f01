"""The one error envelope of every JSON interface, `{"error": {"code", "message", ...details}}`, the words for
admins a domain error becomes (the panel's flashes and the admin API say the same), and the error pages.

Each JSON blueprint answers its refusals through `error_response`; the students' API words its messages in the
student's language (admin_panel.student_api.texts), the admins' through `admin_message`: in the panel in the admin's
language (admin_panel.web.i18n), in the admins' API always in English.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from enum import Enum

from flask import Blueprint, Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from core.errors import (
    AlreadyProcessed,
    AuthFailed,
    DateInPast,
    DomainError,
    HasEnrollments,
    InsufficientFunds,
    InvalidAmount,
    InvalidState,
    ReasonRequired,
    WeakPassword,
)
from core.timeutil import as_utc

AMOUNT_REASONS = {
    "EMPTY": _l("Enter an amount."),
    "NOT_A_NUMBER": _l("The amount is not a number (use digits like 150 or 150.50)."),
    "TOO_MANY_DECIMALS": _l("The amount can have at most 2 decimal places."),
    "NOT_POSITIVE": _l("The amount must not be zero."),
    "TOO_LARGE": _l("The amount is too large."),
    "TOO_SMALL": _l("The amount is too small."),
}
PASSWORD_REASONS = {
    "TOO_LONG": _l("The password is too long (at most 128 characters)."),
    "TOO_SHORT": _l("The password must have at least 12 characters."),
    "INVALID": _l("The password must not be blank or contain control characters."),
    "CONTAINS_USERNAME": _l("The password must not contain the username."),
    "TOO_WEAK": _l("The password is too easy to guess. Use a longer phrase of unrelated words."),
}
HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "TOO_LARGE",
    500: "SERVER_ERROR",
}


def plain(value):
    """A detail as JSON has it: amounts as strings, instants in ISO 8601 (UTC), enums by their value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def error_response(code: str, message: str, status: int, details: dict | None = None):
    """The envelope; `details` (e.g. field, a status) sit beside code and message."""
    return jsonify({"error": {**plain(details or {}), "code": code, "message": message}}), status


def admin_message(err: DomainError) -> str:
    """A sentence an admin understands, from a domain error's code and details (English outside the panel)."""
    d = err.details
    if isinstance(err, AlreadyProcessed):
        return _(
            "Already processed by %(by)s (now %(status)s); nothing was changed.",
            by=d.get("by", "?"),
            status=_status(d.get("status", "")).lower(),
        )
    if isinstance(err, InvalidState):
        reason = err.args[0] if err.args else _("wrong status")
        if d.get("by"):
            return _(
                "Not possible: %(reason)s (status %(status)s by %(by)s).",
                reason=reason,
                status=_status(d.get("status", "?")),
                by=d["by"],
            )
        return _("Not possible: %(reason)s (status %(status)s).", reason=reason, status=_status(d.get("status", "?")))
    if isinstance(err, InvalidAmount):
        return str(AMOUNT_REASONS.get(err.reason, _l("Invalid amount.")))
    if isinstance(err, InsufficientFunds):
        return _("Not enough balance: the student has %(balance)s.", balance=d.get("balance"))
    if isinstance(err, ReasonRequired):
        return _("A reason is required.")
    if isinstance(err, DateInPast):
        return _("The session date must be in the future (Africa/Cairo time).")
    if isinstance(err, HasEnrollments):
        return _(
            "This platform has %(count)s enrollment(s) and cannot be deleted. "
            "Deactivate it instead (untick 'Active'): students keep their access, nobody new can buy it.",
            count=d.get("count"),
        )
    if isinstance(err, WeakPassword) and d.get("reason") in PASSWORD_REASONS:
        return str(PASSWORD_REASONS[d["reason"]])
    if isinstance(err, AuthFailed):
        return _("The current password is wrong.")
    message = err.args[0] if err.args else err.code
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _status(value) -> str:
    """A status as the reader says it (the students' catalog has every status name in both languages)."""
    from admin_panel.web.i18n import core_words
    from core.words.labels import status_name

    return status_name(value, core_words())


def answer_domain_errors_for_admins(bp: Blueprint) -> Blueprint:
    """A domain error raised by a route of `bp` becomes the envelope with the admins' sentence."""

    @bp.errorhandler(DomainError)
    def _domain(err: DomainError):
        return error_response(err.code, admin_message(err), err.http_status, err.details)

    return bp


def wants_json() -> bool:
    return request.path.startswith("/api/")


def register_error_pages(app: Flask) -> None:
    """HTTP errors as the envelope under /api/, as a page of the panel elsewhere."""

    def page(status: int, title: str, message: str):
        if wants_json():
            return error_response(HTTP_CODES.get(status, "ERROR"), message, status)
        return render_template("admin_panel/error.html", status=status, title=title, message=message), status

    @app.errorhandler(CSRFError)
    def _csrf(err):
        if wants_json():
            return error_response("CSRF_FAILED", err.description, 400)
        return page(
            400,
            _("Form expired"),
            _(
                "The form was missing its security token or it expired. "
                "Go back, reload the page and try again. Nothing was changed."
            ),
        )

    @app.errorhandler(400)
    def _bad(err):
        return page(400, _("Bad request"), getattr(err, "description", _("Bad request")))

    @app.errorhandler(403)
    def _forbidden(err):
        return page(403, _("Not allowed"), _("Your role does not allow this page or action."))

    @app.errorhandler(404)
    def _missing(err):
        return page(404, _("Not found"), _("There is nothing at this address, or the record no longer exists."))

    @app.errorhandler(405)
    def _method(err):
        return page(405, _("Not allowed"), _("This address does not accept that kind of request."))

    @app.errorhandler(413)
    def _large(err):
        return page(413, _("Too large"), _("The submitted data is too large."))

    @app.errorhandler(500)
    def _server(err):
        app.logger.exception("unhandled error")
        return page(500, _("Something went wrong"), _("The error was logged. Nothing was changed."))
