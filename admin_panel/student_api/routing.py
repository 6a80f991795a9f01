"""How a route of the students' API runs: the caller verified (Telegram init data), path, query and body
validated by the route's pydantic models, money POSTs made idempotent (Idempotency-Key), the handler called,
and every refusal answered in the one error envelope in the student's language."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import NamedTuple

from flask import current_app, jsonify, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from admin_panel.student_api.auth import AuthError, StudentContext, authenticate, telegram_user_id
from admin_panel.student_api.texts import domain_message, error_message
from admin_panel.web.errors import error_response
from admin_panel.web.openapi import MAX_ID, Operation
from admin_panel.web.security import read_json
from core.errors import DomainError, InvalidInput
from core.services import idempotency
from core.timeutil import utcnow
from core.words import language_of

KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


class Route(NamedTuple):
    """One route, declared once: the blueprint's rule, its handler and its OpenAPI operation come from it."""

    method: str
    rule: str
    handler: Callable
    summary: str
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel]
    idempotent: bool  # a money POST: needs an Idempotency-Key; 201 on success


@dataclass
class Call:
    """What a handler gets: the session, the student, the clock and the validated input."""

    session: Session
    ctx: StudentContext
    now: datetime
    query: BaseModel | None
    body: BaseModel | None
    idempotency_key: str | None = None

    @property
    def student_id(self) -> int:
        return self.ctx.student.id

    @property
    def language(self) -> str:
        """The language the student reads: the request's Accept-Language (as the Mini App sends it), else the
        student's own."""
        return request_language() if request.accept_languages else self.ctx.language

    @property
    def currency(self) -> str:
        return current_app.extensions["codehub"].settings.currency


def fail(code: str, status: int, language: str, **details):
    """The envelope with the message for `code` in the student's language; details as text."""
    return error_response(
        code, error_message(code, language, **details), status, {k: str(v) for k, v in details.items()}
    )


def request_language() -> str:
    return language_of(request.accept_languages.best_match(["en", "ar"]) or "en")


def _json_body() -> dict:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise InvalidInput("send a JSON object")
    try:  # bounded, and numbers read exactly: 150.5 becomes Decimal("150.5"), never a float
        data = read_json(raw)
    except ValueError:
        raise InvalidInput("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("send a JSON object")
    return data


def _validation_fail(err: ValidationError, language: str):
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    limit = (first.get("ctx") or {}).get("max_length") if first.get("type") == "string_too_long" else None
    extra = {"limit": limit} if limit else {}
    return fail("INVALID_INPUT", 400, language, field=where, detail=first.get("msg", "")[:200], **extra)


def _respond(status: int, body: dict, replayed: bool = False):
    response = jsonify(body)
    response.status_code = status
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def wrap(handler: Callable, op: Operation, db_sessions) -> Callable:
    @wraps(handler)
    def view(**path):
        language = request_language()
        with db_sessions() as session:
            try:
                ctx = authenticate(session)
            except AuthError as err:
                return fail(err.code, err.status, language)
            language = ctx.language
            if any(not 1 <= v <= MAX_ID for v in path.values()):
                return fail("NOT_FOUND", 404, language)
            try:
                query = op.query.model_validate(request.args.to_dict()) if op.query else None
                body = op.body.model_validate(_json_body()) if op.body else None
            except ValidationError as err:
                return _validation_fail(err, language)
            except InvalidInput as err:
                return fail("INVALID_INPUT", 400, language, detail=str(err))
            call = Call(session, ctx, utcnow(), query, body)
            if not op.idempotent:
                return _run(handler, call, path, language, op.status)
            if not current_app.extensions["limiter_health"].ok():
                return fail("PAYMENTS_PAUSED", 503, language)
            key = request.headers.get("Idempotency-Key", "")
            if not key:
                return fail("IDEMPOTENCY_KEY_MISSING", 400, language)
            if not KEY_RE.match(key):
                return fail("INVALID_INPUT", 400, language, field="Idempotency-Key")
            call.idempotency_key = f"api:{key}"
            fingerprint = idempotency.fingerprint(
                request.method, request.path, body.model_dump(mode="json", by_alias=True) if body else None
            )
            operation = handler.__name__
            try:
                stored = idempotency.claim(session, ctx.student.id, key, fingerprint, operation=operation, now=call.now)
            except DomainError as err:
                return fail(err.code, err.http_status, language)
            if stored is not None:
                return _respond(stored.status_code, stored.body, replayed=True)
            try:
                response, status = _run(handler, call, path, language, op.status)
            except BaseException:
                idempotency.release(session, ctx.student.id, key, operation=operation)
                raise
            idempotency.complete(
                session, ctx.student.id, key, status, response.get_json(), operation=operation, now=call.now
            )
            return response, status

    return view


def _run(handler: Callable, call: Call, path: dict, language: str, status: int):
    try:
        result = handler(call, **path)
    except DomainError as err:
        message = domain_message(err, language)
        if isinstance(err, InvalidInput) and err.details.get("reason") == "MENTOR_REQUIRED":
            message = error_message("MENTOR_REQUIRED", language)
        return error_response(err.code, message, err.http_status, {k: str(v) for k, v in err.details.items()})
    return jsonify(result.dump()), status


def openapi_path(rule: str) -> tuple[str, tuple[str, ...]]:
    names = tuple(re.findall(r"<int:(\w+)>", rule))
    return "/api" + re.sub(r"<int:(\w+)>", lambda m: "{" + m.group(1) + "}", rule), names


REDIS_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}  # an unreachable Redis costs 0.5 s, once


class LimiterHealth:
    """Whether the rate limiter's shared storage (Redis) answers, asked at most every few seconds."""

    EVERY = 5.0

    def __init__(self, limiter: Limiter, *, shared: bool):
        self.limiter, self.shared = limiter, shared
        self._ok, self._asked = True, float("-inf")

    def ok(self) -> bool:
        if not self.shared:
            return True
        now = time.monotonic()
        if now - self._asked >= self.EVERY:
            self._asked = now
            try:
                self._ok = bool(self.limiter.storage.check())
            except Exception:  # noqa: BLE001 - any failure of the storage means "down"
                self._ok = False
        return self._ok


def rate_key() -> str:
    user_id = telegram_user_id()
    return f"tg:{user_id}" if user_id is not None else f"ip:{get_remote_address()}"


def errors_of(method: str, names: tuple[str, ...], money_path: bool) -> tuple[int, ...]:
    codes = {401, 403, 429}
    if names:
        codes.add(404)
    if method == "POST":
        codes |= {400, 404, 409, 422}
    if money_path:
        codes.add(503)  # PAYMENTS_PAUSED: the rate limiter's Redis is down
    return tuple(sorted(codes))
