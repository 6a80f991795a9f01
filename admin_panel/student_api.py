"""The student JSON API under /api (the seed's endpoints), for the Telegram Mini App.

Every handler reads its input, calls one core service and shapes the answer; the rules (prices,
limits, who may cancel, idempotency of money) live in core.services. `register` declares each route
once: validation, auth, Idempotency-Key, rate limit and its OpenAPI description come from it.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import wraps

from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from admin_panel import student_schemas as S
from admin_panel.openapi import MAX_ID, ApiSpec, Operation
from admin_panel.security import read_json
from admin_panel.student_auth import AuthError, StudentContext, authenticate, telegram_user_id
from admin_panel.student_texts import domain_message, error_message, language_of
from core.errors import DomainError, InvalidInput, InvalidTransferReference
from core.models import TransactionStatus, TransactionType
from core.services import enrollment, idempotency, mentorship, receipts, students, topups, wallet
from core.services.settings import get_settings
from core.services.wallet import LedgerEntry
from core.timeutil import as_utc, utcnow

READ_LIMIT = "120 per minute"
MONEY_LIMIT = "20 per minute"
KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


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
    def currency(self) -> str:
        return current_app.extensions["codehub"].settings.currency


# --- wallet ---------------------------------------------------------------------------------------

def get_me(call: Call) -> S.Me:
    s = students.get_user(call.session, call.student_id)
    return S.Me(id=s.id, telegram_id=s.telegram_id, full_name=s.full_name, username=s.username,
                language=s.language if s.language in ("en", "ar") else "en", balance=S.money(s.balance),
                currency=call.currency)


def get_balance(call: Call) -> S.Balance:
    return S.Balance(balance=S.money(wallet.balance(call.session, call.student_id)), currency=call.currency)


def _tx(e: LedgerEntry) -> S.TransactionOut:
    return S.TransactionOut(id=e.id, type=e.type.value, amount=S.money(e.amount), description=e.description,
                            status=e.status.value, wallet_number=e.wallet_masked, reference=e.reference,
                            balance_after=S.money(e.balance_after), admin_notes=e.admin_notes,
                            created_at=as_utc(e.created_at), decided_at=e.decided_at and as_utc(e.decided_at))


def get_transactions(call: Call) -> S.TransactionPage:
    q: S.PageQuery = call.query
    page = wallet.history(call.session, call.student_id, page=q.page, per_page=q.limit)
    return S.TransactionPage(transactions=[_tx(e) for e in page.items] if page.page == q.page else [],
                             pagination=S.Pagination(page=q.page, limit=q.limit, total=page.total, pages=page.pages))


def get_receipt(call: Call, transaction_id: int) -> S.TransactionOut:
    return _tx(receipts.receipt(call.session, call.student_id, transaction_id))


def get_topup_info(call: Call) -> S.TopupInfo:
    settings = get_settings(call.session)
    pending = wallet.history(call.session, call.student_id, per_page=50, type=TransactionType.TOP_UP,
                             status=TransactionStatus.PENDING)
    return S.TopupInfo(wallet_number=settings.vodafone_cash_number, min_amount=S.money(settings.min_topup),
                       max_amount=S.money(settings.max_topup), currency=call.currency,
                       pending=[_tx(e) for e in pending.items])


def post_topup(call: Call) -> S.TopupOut:
    b: S.TopupIn = call.body
    try:
        result = topups.request_topup(call.session, call.student_id, b.amount, b.wallet_number,
                                      description=b.description, transfer_reference=b.transaction_number,
                                      idempotency_key=call.idempotency_key, now=call.now)
    except InvalidTransferReference as err:  # named as this API names the field
        raise InvalidTransferReference(*err.args, field="transactionNumber") from None
    return S.TopupOut(id=result.transaction_id, amount=S.money(result.amount), status=result.status.value,
                      wallet_number=result.wallet_masked, transaction_number=result.transfer_reference,
                      created_at=as_utc(result.created_at),
                      balance=S.money(wallet.balance(call.session, call.student_id)))


# --- platforms and enrollments --------------------------------------------------------------------

def _platform(p, include_price: bool = True) -> S.PlatformOut:
    return S.PlatformOut(id=p.id, name=p.name, description=p.description,
                         price=S.money(p.price) if include_price else None, is_free=p.is_free,
                         is_active=p.is_active, access_days=p.access_days, task_count=p.task_count,
                         enrolled=p.enrolled, expires_at=p.expires_at and as_utc(p.expires_at), expired=p.expired)


def get_platforms(call: Call) -> S.PlatformList:
    q: S.PlatformsQuery = call.query
    items = enrollment.list_platforms(call.session, call.student_id, now=call.now)
    return S.PlatformList(platforms=[_platform(p, q.include_price) for p in items])


def post_enrollment(call: Call) -> S.EnrollOut:
    b: S.EnrollIn = call.body
    result = enrollment.enroll(call.session, call.student_id, b.platform_id, idempotency_key=call.idempotency_key,
                               expected_price=Decimal(b.expected_price) if b.expected_price else None,
                               renew=b.renew, now=call.now)
    return S.EnrollOut(id=result.enrollment_id, platform_id=result.platform_id, platform_name=result.platform_name,
                       price=S.money(result.price), balance=S.money(result.balance),
                       expires_at=result.expires_at and as_utc(result.expires_at), renewed=result.renewed)


def get_my_enrollments(call: Call) -> S.EnrollmentList:
    items = enrollment.my_enrollments(call.session, call.student_id, now=call.now)
    return S.EnrollmentList(enrollments=[S.EnrollmentOut(
        id=e.enrollment_id, platform_id=e.platform_id, platform_name=e.platform_name,
        enrolled_at=as_utc(e.enrolled_at), expires_at=e.expires_at and as_utc(e.expires_at), is_active=e.active,
        progress=S.Progress(done=e.done, total=e.total)) for e in items])


def get_enrollment_check(call: Call, platform_id: int) -> S.EnrollmentCheck:
    p = enrollment.get_platform(call.session, platform_id, call.student_id, now=call.now)
    return S.EnrollmentCheck(platform_id=p.id, enrolled=p.enrolled, expires_at=p.expires_at and as_utc(p.expires_at),
                             expired=p.expired)


def get_tasks(call: Call, platform_id: int) -> S.TaskList:
    tasks = enrollment.platform_tasks(call.session, call.student_id, platform_id, now=call.now)
    return S.TaskList(platform_id=platform_id, tasks=[S.TaskOut(
        id=t.id, platform_id=t.platform_id, title=t.title, body=t.body, position=t.position, done=t.done)
        for t in tasks], progress=S.Progress(done=sum(t.done for t in tasks), total=len(tasks)))


def post_task_done(call: Call, task_id: int) -> S.TaskDone:
    p = enrollment.complete_task(call.session, call.student_id, task_id, now=call.now)
    return S.TaskDone(task_id=p.task_id, platform_id=p.platform_id, progress=S.Progress(done=p.done, total=p.total))


# --- mentorship -----------------------------------------------------------------------------------

def get_mentorship_info(call: Call) -> S.MentorshipInfo:
    settings = get_settings(call.session)
    mentors = mentorship.list_mentors(call.session, settings=settings)
    return S.MentorshipInfo(
        is_available=settings.mentorship_available, hourly_rate=S.money(settings.mentor_default_rate),
        durations=list(settings.durations), currency=call.currency,
        mentors=[S.MentorOut(id=m.id, name=m.name, bio=m.bio, hourly_rate=S.money(m.rate), is_available=m.available,
                             average_rating=str(m.average_rating) if m.average_rating is not None else None,
                             ratings=m.ratings,
                             prices=[S.Price(duration=d, price=S.money(mentorship.quote(call.session, m.id, d)))
                                     for d in settings.durations])
                 for m in mentors if m.id != call.student_id])


def _booking(b) -> S.BookingOut:
    return S.BookingOut(id=b.id, student_id=b.student_id, mentor_id=b.mentor_id, mentor_name=b.mentor_name,
                        session_date=b.session_date and as_utc(b.session_date), duration=b.duration,
                        total_cost=S.money(b.total_cost), status=b.status.value, student_notes=b.student_notes,
                        admin_notes=b.admin_notes, feedback=b.feedback, rating=b.rating,
                        created_at=as_utc(b.created_at))


def post_book(call: Call) -> S.BookOut:
    b: S.BookIn = call.body
    mentor_id = b.mentor_id
    if mentor_id is None:  # the seed books "the" mentor; with several, the student must choose
        available = [m for m in mentorship.list_mentors(call.session, include_unavailable=False)
                     if m.id != call.student_id]
        if len(available) != 1:
            raise InvalidInput("choose a mentor (mentorId)", field="mentorId", reason="MENTOR_REQUIRED")
        mentor_id = available[0].id
    result = mentorship.book(call.session, call.student_id, mentor_id, b.duration, b.student_notes,
                             idempotency_key=call.idempotency_key,
                             expected_cost=Decimal(b.expected_cost) if b.expected_cost else None, now=call.now)
    return S.BookOut(booking=_booking(result.booking), balance=S.money(result.balance))


def get_my_bookings(call: Call) -> S.BookingList:
    return S.BookingList(bookings=[_booking(b) for b in mentorship.student_bookings(call.session, call.student_id)])


def post_cancel(call: Call, booking_id: int) -> S.CancelOut:
    result = mentorship.cancel(call.session, booking_id, student_id=call.student_id, now=call.now)
    return S.CancelOut(booking=_booking(result.booking), refund=S.money(result.refund),
                       balance=S.money(result.balance))


def post_feedback(call: Call, booking_id: int) -> S.BookingOut:
    b: S.FeedbackIn = call.body
    return _booking(mentorship.leave_feedback(call.session, booking_id, call.student_id, b.rating, b.feedback,
                                              now=call.now))


# --- the machinery --------------------------------------------------------------------------------

def fail(code: str, status: int, language: str, **details):
    message = error_message(code, language, **details)
    return jsonify({"error": {**{k: str(v) for k, v in details.items()}, "code": code, "message": message}}), status


def _request_language() -> str:
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
    return fail("INVALID_INPUT", 400, language, field=where, detail=first.get("msg", "")[:200])


def _respond(status: int, body: dict, replayed: bool = False):
    response = jsonify(body)
    response.status_code = status
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _wrap(handler: Callable, op: Operation, db_sessions) -> Callable:
    @wraps(handler)
    def view(**path):
        language = _request_language()
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
            fingerprint = idempotency.fingerprint(request.method, request.path,
                                                 body.model_dump(mode="json", by_alias=True) if body else None)
            operation = handler.__name__
            try:
                stored = idempotency.claim(session, ctx.student.id, key, fingerprint, operation=operation,
                                           now=call.now)
            except DomainError as err:
                return fail(err.code, err.http_status, language)
            if stored is not None:
                return _respond(stored.status_code, stored.body, replayed=True)
            try:
                response, status = _run(handler, call, path, language, op.status)
            except BaseException:
                idempotency.release(session, ctx.student.id, key, operation=operation)
                raise
            idempotency.complete(session, ctx.student.id, key, status, response.get_json(), operation=operation,
                                 now=call.now)
            return response, status
    return view


def _run(handler: Callable, call: Call, path: dict, language: str, status: int):
    try:
        result = handler(call, **path)
    except DomainError as err:
        body = {"error": {**{k: str(v) for k, v in err.details.items()}, "code": err.code,
                          "message": domain_message(err, language)}}
        if isinstance(err, InvalidInput) and err.details.get("reason") == "MENTOR_REQUIRED":
            body["error"]["message"] = error_message("MENTOR_REQUIRED", language)
        return jsonify(body), err.http_status
    return jsonify(result.dump()), status


ROUTES = [
    # method, rule, handler, summary, tag, query, body, response, idempotent
    ("GET", "/me", get_me, "The student, their language and balance", "wallet", None, None, S.Me, False),
    ("GET", "/wallet/balance", get_balance, "Current balance", "wallet", None, None, S.Balance, False),
    ("GET", "/wallet/transactions", get_transactions, "Transaction history, newest first", "wallet",
     S.PageQuery, None, S.TransactionPage, False),
    ("GET", "/wallet/transactions/<int:transaction_id>", get_receipt, "One transaction as a receipt", "wallet",
     None, None, S.TransactionOut, False),
    ("GET", "/wallet/topup-info", get_topup_info, "Where to send money, limits, pending requests", "wallet",
     None, None, S.TopupInfo, False),
    ("POST", "/wallet/topup", post_topup, "Request a top-up (an admin approves it)", "wallet",
     None, S.TopupIn, S.TopupOut, True),
    ("GET", "/platforms", get_platforms, "Active platforms with price and this student's access", "platforms",
     S.PlatformsQuery, None, S.PlatformList, False),
    ("POST", "/enrollments", post_enrollment, "Enroll (pays the price from the balance)", "platforms",
     None, S.EnrollIn, S.EnrollOut, True),
    ("GET", "/enrollments/my", get_my_enrollments, "My enrollments with expiry and progress", "platforms",
     None, None, S.EnrollmentList, False),
    ("GET", "/enrollments/check/<int:platform_id>", get_enrollment_check, "Do I have access now?", "platforms",
     None, None, S.EnrollmentCheck, False),
    ("GET", "/platforms/<int:platform_id>/tasks", get_tasks, "Tasks of an enrolled platform", "platforms",
     None, None, S.TaskList, False),
    ("POST", "/tasks/<int:task_id>/done", post_task_done, "Mark a task done (a repeat changes nothing)",
     "platforms", None, None, S.TaskDone, False),
    ("GET", "/mentorship/info", get_mentorship_info, "Mentors, durations and prices", "mentorship",
     None, None, S.MentorshipInfo, False),
    ("POST", "/mentorship/book", post_book, "Book and pay a session", "mentorship", None, S.BookIn, S.BookOut, True),
    ("GET", "/mentorship/my-bookings", get_my_bookings, "My bookings, upcoming first", "mentorship",
     None, None, S.BookingList, False),
    ("POST", "/mentorship/bookings/<int:booking_id>/cancel", post_cancel,
     "Cancel my pending booking (full refund)", "mentorship", None, None, S.CancelOut, True),
    ("POST", "/mentorship/feedback/<int:booking_id>", post_feedback, "Rate a completed session", "mentorship",
     None, S.FeedbackIn, S.BookingOut, False),
]


def _openapi_path(rule: str) -> tuple[str, tuple[str, ...]]:
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


def create_student_api(app: Flask, spec: ApiSpec) -> Blueprint:
    """The blueprint, its rate limiter (Redis when REDIS_URL is set) and its OpenAPI operations."""
    settings = app.extensions["codehub"].settings
    # Redis down (REDIS_URL set): reads fail open, counted per process in memory meanwhile (swallow_errors and the
    # in-memory fallback); money POSTs answer 503 PAYMENTS_PAUSED (see _wrap): their limits are what keeps a
    # guesser or a runaway client in check across replicas, so they wait for Redis rather than go unlimited.
    limiter = Limiter(key_func=rate_key, app=app, storage_uri=settings.redis_url or "memory://",
                      storage_options=REDIS_TIMEOUTS if settings.redis_url else {}, swallow_errors=True,
                      in_memory_fallback_enabled=True, headers_enabled=True, strategy="fixed-window",
                      key_prefix="codehub-api")
    app.extensions["student_limiter"] = limiter
    app.extensions["limiter_health"] = LimiterHealth(limiter, shared=bool(settings.redis_url))
    sessions = app.extensions["codehub"].db.sessions
    bp = Blueprint("student_api", __name__, url_prefix="/api")
    for method, rule, handler, summary, tag, query, body, response, money_path in ROUTES:
        path, names = _openapi_path(rule)
        op = spec.add(Operation(method, path, summary, tag, response, 201 if money_path else 200, query, body,
                                names, money_path, errors=_errors(method, names, money_path)))
        view = limiter.limit(MONEY_LIMIT if method == "POST" else READ_LIMIT)(_wrap(handler, op, sessions))
        bp.add_url_rule(rule, endpoint=handler.__name__, view_func=view, methods=[method])

    @bp.errorhandler(429)
    def _too_many(_err):  # before the student is loaded: Telegram's language of the verified caller
        data = g.get("tma")
        language = language_of(data.user.language_code) if getattr(data, "user", None) else _request_language()
        return fail("RATE_LIMITED", 429, language)

    return bp


def _errors(method: str, names: tuple[str, ...], money_path: bool) -> tuple[int, ...]:
    codes = {401, 403, 429}
    if names:
        codes.add(404)
    if method == "POST":
        codes |= {400, 404, 409}
    if money_path:
        codes.add(503)  # PAYMENTS_PAUSED: the rate limiter's Redis is down
    return tuple(sorted(codes))
