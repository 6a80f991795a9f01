"""Who is calling the student API: Telegram's signed init data on every request (no cookies, no bypass).

`Authorization: tma <initData>`; the HMAC is checked by aiogram against BOT_TOKEN, and auth_date must
be at most 24 h old (aiogram does not check it; 5 minutes of clock skew allowed). A Telegram user the
bot has never seen is registered exactly as /start would register them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.utils.web_app import WebAppInitData, safe_parse_webapp_init_data
from flask import current_app, g, request

from core.services import students
from core.services.students import MAX_TELEGRAM_ID, UserInfo
from core.timeutil import as_utc, utcnow

MAX_AGE = timedelta(hours=24)
SKEW = timedelta(seconds=300)
MAX_INIT_DATA = 4096


class AuthError(Exception):
    def __init__(self, code: str, status: int = 401):
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class StudentContext:
    student: UserInfo
    init_data: WebAppInitData
    language: str


def bot_token() -> str:
    token = current_app.extensions["codehub"].settings.bot_token
    return token.get_secret_value() if token else ""


def raw_init_data() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "tma" or not value.strip() or len(value) > MAX_INIT_DATA:
        return None
    return value.strip()


def verify(token: str, raw: str | None, *, now: datetime | None = None) -> WebAppInitData:
    """The parsed init data, or AuthError: unsigned, wrongly signed, stale, from the future, no user."""
    if not token or not raw:
        raise AuthError("AUTH_FAILED")
    try:
        data = safe_parse_webapp_init_data(token, raw)
    except Exception:  # noqa: BLE001 - a bad signature, bad JSON or bad fields: all mean "not Telegram"
        raise AuthError("AUTH_FAILED") from None
    now = as_utc(now)
    signed_at = as_utc(data.auth_date)
    if signed_at > now + SKEW:
        raise AuthError("AUTH_FAILED")
    if now - signed_at > MAX_AGE:
        raise AuthError("AUTH_EXPIRED")
    if data.user is None or data.user.is_bot or not 0 < data.user.id <= MAX_TELEGRAM_ID:
        raise AuthError("AUTH_FAILED")  # a signed id past 2^53 is no Telegram user (and no BIGINT holds 2^64)
    return data


def telegram_user_id() -> int | None:
    """The verified Telegram id of this request (cached), for rate-limit keys."""
    if "tma" not in g:
        try:
            g.tma = verify(bot_token(), raw_init_data())
        except AuthError as err:
            g.tma = err
    return g.tma.user.id if isinstance(g.tma, WebAppInitData) else None


def authenticate(session) -> StudentContext:
    """Verify, then find or register the student; a blocked student gets 403."""
    telegram_user_id()
    if isinstance(g.tma, AuthError):
        raise g.tma
    data: WebAppInitData = g.tma
    user = data.user
    student = students.find_by_telegram(session, user.id)
    if student is None:
        full_name = " ".join(p for p in (user.first_name, user.last_name) if p)
        student = students.register(
            session, user.id, full_name=full_name, username=user.username, language=user.language_code, now=utcnow()
        ).user
    if student.is_blocked:
        raise AuthError("USER_BLOCKED", 403)
    return StudentContext(student, data, student.language if student.language in ("en", "ar") else "en")
