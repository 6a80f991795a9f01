"""Students: registration with the welcome credit, language, blocking and activity marks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.errors import InvalidInput, NotFound
from core.models import Transaction, TransactionStatus, TransactionType, User
from core.money import ZERO
from core.services import audit
from core.services.common import Actor
from core.services.settings import get_setting
from core.text import strip_controls
from core.timeutil import as_utc
from core.words import LANGUAGES, language_of

MAX_TELEGRAM_ID = 2**53 - 1  # Telegram's ids have at most 52 significant bits


@dataclass(frozen=True)
class UserInfo:
    id: int
    telegram_id: int | None
    full_name: str
    username: str | None
    language: str
    balance: Decimal
    is_blocked: bool
    is_mentor: bool
    created_at: datetime
    reachable: bool = True  # False after the student blocked the bot (until they come back)


@dataclass(frozen=True)
class RegisterResult:
    user: UserInfo
    created: bool
    bonus: Decimal


def user_info(user: User) -> UserInfo:
    return UserInfo(
        user.id,
        user.telegram_id,
        user.full_name,
        user.username,
        user.language,
        user.balance,
        user.is_blocked,
        user.is_mentor,
        user.created_at,
        user.bot_blocked_at is None,
    )


def _register_statements(dialect_insert):
    """The registration's two statements, built once per dialect (building them per call, with the values
    inlined, was a fifth of a first /start): the student unless the Telegram id exists, and the welcome row."""
    users, ledger = User.__table__, Transaction.__table__
    first = dialect_insert(users).on_conflict_do_nothing(index_elements=["telegram_id"]).returning(users.c.id)
    welcome = dialect_insert(ledger).values(
        type=TransactionType.SIGNUP_BONUS,
        status=TransactionStatus.APPROVED,
        description="Welcome credit",
        idempotency_key="signup-bonus",
    )
    return first, welcome


_REGISTER = (_register_statements(sqlite_insert), _register_statements(pg_insert))  # by "is PostgreSQL"


def register(
    session: Session,
    telegram_id: int,
    *,
    full_name: str = "",
    username: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> RegisterResult:
    """Create the student with the welcome credit, once; a repeat returns the existing student."""
    if not 0 < telegram_id <= MAX_TELEGRAM_ID:
        raise InvalidInput("not a Telegram user id", field="telegram_id")
    now = as_utc(now)
    full_name = strip_controls(full_name)[:200]  # from Telegram: not ours to refuse, so cleaned
    username = strip_controls(username)[:64] or None
    language = language if language in LANGUAGES else language_of(language)
    with unit_of_work(session):
        bonus = get_setting(session, "signup_bonus")
        first, welcome = _REGISTER[session.get_bind().dialect.name == "postgresql"]
        values = dict(
            telegram_id=telegram_id,
            full_name=full_name,
            username=username,
            language=language,
            balance=bonus,
            created_at=now,
            last_seen_at=now,
        )
        user_id = session.scalar(first, values)  # the new student first: the common case
        if user_id is None:  # registered already (a repeat, or a concurrent /start was first)
            existing = session.scalar(select(User).where(User.telegram_id == telegram_id))
            if (existing.full_name, existing.username) != (full_name, username):
                existing.full_name, existing.username = full_name, username
            existing.last_seen_at = now
            return RegisterResult(user_info(existing), False, ZERO)
        session.execute(
            welcome,
            dict(user_id=user_id, amount=bonus, balance_after=bonus, created_at=now, decided_at=now, updated_at=now),
        )
    student = UserInfo(
        user_id, telegram_id, full_name, username, language, bonus, is_blocked=False, is_mentor=False, created_at=now
    )
    return RegisterResult(student, True, bonus)


def welcome_back_needed(student: UserInfo, *, full_name: str = "", username: str | None = None) -> bool:
    """Whether a returning student's /start changes anything (welcome_back writes only then): a new Telegram
    name or handle, or coming back after blocking the bot. Asked without the database."""
    cleaned = (strip_controls(full_name)[:200], strip_controls(username)[:64] or None)
    return (student.full_name, student.username) != cleaned or not student.reachable


def welcome_back(
    session: Session,
    student: UserInfo,
    *,
    full_name: str = "",
    username: str | None = None,
    now: datetime | None = None,
) -> UserInfo:
    """A returning student's /start: their Telegram name and handle kept current, and reachable again if
    they had blocked the bot. Nothing is written (no write transaction is even begun) when nothing changed,
    the common case; activity marks are StudentMiddleware's (mark_active, at most hourly)."""
    if not welcome_back_needed(student, full_name=full_name, username=username):
        return student
    full_name = strip_controls(full_name)[:200]
    username = strip_controls(username)[:64] or None
    with unit_of_work(session):
        session.execute(
            update(User)
            .where(User.id == student.id)
            .values(full_name=full_name, username=username, last_seen_at=as_utc(now), bot_blocked_at=None)
            .execution_options(synchronize_session=False)
        )
        return user_info(session.get(User, student.id, populate_existing=True))


def students_only():
    """Who the panel lists as students: not the mentor accounts (they have the Mentors page)."""
    return User.is_mentor.is_(False)


def get_user(session: Session, user_id: int) -> UserInfo:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("student not found", entity="user", id=user_id)
    return user_info(user)


_U = User.__table__
# What a UserInfo is read from, in its fields' order (the bot reads a student on every update: Core statements
# built once, no ORM object, no identity map); STUDENT_COLUMNS[0] is NULL when no student matched an outer join.
STUDENT_COLUMNS = (
    _U.c.id,
    _U.c.telegram_id,
    _U.c.full_name,
    _U.c.username,
    _U.c.language,
    _U.c.balance,
    _U.c.is_blocked,
    _U.c.is_mentor,
    _U.c.created_at,
    _U.c.bot_blocked_at.is_(None),
)
_BY_TELEGRAM = select(*STUDENT_COLUMNS).where(_U.c.telegram_id == bindparam("telegram_id"))


def student_of_row(values) -> UserInfo | None:
    """The UserInfo in the first len(STUDENT_COLUMNS) values of a row (None for an outer join's empty side)."""
    return UserInfo(*values) if values[0] is not None else None


def find_by_telegram(session: Session, telegram_id: int) -> UserInfo | None:
    return find_by_telegram_on(session.connection(), telegram_id)


def find_by_telegram_on(conn: Connection, telegram_id: int) -> UserInfo | None:
    """find_by_telegram on a Connection (the bot's per-update read, BriefAsyncSession.read_point)."""
    if not 0 < telegram_id <= MAX_TELEGRAM_ID:
        return None  # never sent to the database: 2^64 overflows its BIGINT
    row = conn.execute(_BY_TELEGRAM, {"telegram_id": telegram_id}).first()
    return student_of_row(row) if row else None


def set_language(session: Session, user_id: int, language: str) -> UserInfo:
    if language not in LANGUAGES:
        raise InvalidInput("language must be en or ar")
    with unit_of_work(session):
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("student not found", entity="user", id=user_id)
        user.language = language
        return user_info(user)


def set_blocked(
    session: Session, user_id: int, blocked: bool, *, actor: Actor, now: datetime | None = None
) -> UserInfo:
    with unit_of_work(session):
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("student not found", entity="user", id=user_id)
        before = user.is_blocked
        user.is_blocked = blocked
        audit.record(
            session,
            actor,
            "user.block" if blocked else "user.unblock",
            "user",
            user_id,
            before={"is_blocked": before},
            after={"is_blocked": blocked},
            now=now,
        )
        return user_info(user)


def touch(session: Session, user_id: int, *, now: datetime | None = None) -> None:
    """Mark the student active now, and reachable again if they had blocked the bot."""
    with unit_of_work(session):
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(last_seen_at=as_utc(now), bot_blocked_at=None)
            .execution_options(synchronize_session=False)
        )


def mark_active(
    session: Session, user_id: int, *, now: datetime | None = None, every: timedelta = timedelta(hours=1)
) -> bool:
    """Record activity for the engagement numbers, at most once per `every` (one conditional UPDATE)."""
    now = as_utc(now)
    with unit_of_work(session):
        return bool(
            session.execute(
                update(User)
                .where(User.id == user_id, (User.last_seen_at.is_(None)) | (User.last_seen_at < now - every))
                .values(last_seen_at=now, bot_blocked_at=None)
                .execution_options(synchronize_session=False)
            ).rowcount
        )
