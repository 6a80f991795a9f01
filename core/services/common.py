"""Small helpers shared by the services: actors, idempotent replay, dialect-neutral upserts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.errors import InvalidInput, NotFound, ReasonRequired, UserBlocked
from core.models import Transaction, TransactionType, User
from core.text import check_text

T = TypeVar("T")
MAX_TEXT = 1000
MAX_KEY = 112  # + the longest operation prefix ("enroll:") fits the ledger's 120 characters


@dataclass(frozen=True)
class Actor:
    """Who performs an admin action: a panel account, a Telegram admin, or the system."""

    name: str
    admin_id: int | None = None
    telegram_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(name="system")


# The ledger keeps a caller's idempotency key within one operation: the same key sent for a top-up and later for
# a booking is two keys, so a replay only ever returns the same student's row of the same operation.
KEY_SCOPES = {
    TransactionType.TOP_UP: "topup",
    TransactionType.PLATFORM_PURCHASE: "enroll",
    TransactionType.MENTORSHIP_PAYMENT: "book",
    TransactionType.ADJUSTMENT: "adjust",
}


def ledger_key(kind: TransactionType, key: str) -> str:
    """The ledger's idempotency key for the caller's `key` of one operation (checked: 1 to 120 characters)."""
    check_key(key)
    return f"{KEY_SCOPES[kind]}:{key}"


def run_idempotent(
    session: Session,
    user_id: int,
    key: str,
    kind: TransactionType,
    do: Callable[[], T],
    replay: Callable[[Transaction], T],
) -> T:
    """Run `do` once per (user, operation, key); a repeat returns `replay(first ledger row)`.

    `key` is the ledger key (`ledger_key(kind, caller's key)`), which `do` writes on its row of type `kind`.

    On SQLite BEGIN IMMEDIATE serialises writers, so the lookup sees the first effect. On
    PostgreSQL the user's row is locked first (SELECT ... FOR UPDATE), so money commands of one
    user queue and each lookup, a fresh READ COMMITTED snapshot, sees what the previous one
    committed (without the lock, racing repeats of one enrollment would fail with AlreadyEnrolled
    instead of replaying). The UNIQUE(user_id, idempotency_key) index stays as
    the last guard: a violation rolls the whole transaction back and the retry replays.
    """
    for attempt in range(2):
        try:
            with unit_of_work(session):
                # the student's row, loaded (active_user then needs no second read) and, on PostgreSQL, locked
                # (held in a local: the identity map keeps only what is referenced)
                student = session.scalar(  # noqa: F841 - kept referenced, see above
                    select(User)
                    .where(User.id == user_id)
                    .with_for_update()  # noqa: F841
                    .execution_options(populate_existing=True)
                )
                prior = session.scalar(
                    select(Transaction).where(
                        Transaction.user_id == user_id, Transaction.idempotency_key == key, Transaction.type == kind
                    )
                )
                if prior is not None:
                    return replay(prior)
                return do()
        except IntegrityError:
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY:
        raise InvalidInput(f"idempotency key is required (at most {MAX_KEY} characters)")


def clean_text(value: str | None, *, limit: int = MAX_TEXT, field: str = "text") -> str | None:
    if value is None:
        return None
    value = check_text(value, field=field).strip()
    if len(value) > limit:
        raise InvalidInput(f"{field} is too long (at most {limit} characters)", field=field, limit=limit)
    return value or None


def require_reason(reason: str | None, *, limit: int = 500) -> str:
    cleaned = clean_text(reason, limit=limit, field="reason")
    if not cleaned:
        raise ReasonRequired("a reason is required")
    return cleaned


def active_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("student not found", entity="user", id=user_id)
    if user.is_blocked:
        raise UserBlocked("this account is blocked")
    return user
