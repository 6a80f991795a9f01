"""The wallet: balance, the ledger (history, credits, debits, admin adjustments) and its invariant check."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, bindparam, cast, func, select, update
from sqlalchemy.orm import Session

from core.db.prepared import PointRead
from core.errors import BalanceLimit, InsufficientFunds, NotFound
from core.models import NotificationKind, Transaction, TransactionStatus, TransactionType, User
from core.money import ZERO, parse_signed_amount
from core.services import audit, notifications
from core.services.common import Actor, ledger_key, require_reason, run_idempotent
from core.timeutil import as_utc, cairo_month

MAX_ADJUSTMENT = Decimal("1000000.00")
MAX_BALANCE = Decimal("1000000000.00")  # far above any real wallet, far below 2**63 piastres


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    type: TransactionType
    amount: Decimal
    status: TransactionStatus
    description: str
    created_at: datetime
    balance_after: Decimal | None
    reference: str | None
    wallet_masked: str | None
    admin_notes: str | None
    processed_by: str | None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class AdjustResult:
    transaction_id: int
    user_id: int
    amount: Decimal
    balance: Decimal
    replayed: bool = False


def entry(row: Transaction) -> LedgerEntry:
    return LedgerEntry(
        row.id,
        row.type,
        row.amount,
        row.status,
        row.description,
        row.created_at,
        row.balance_after,
        row.reference,
        row.wallet_number_masked,
        row.admin_notes,
        row.processed_by,
        row.decided_at,
    )


def balance(session: Session, user_id: int) -> Decimal:
    value = session.scalar(select(User.balance).where(User.id == user_id))
    if value is None:
        raise NotFound("student not found", entity="user", id=user_id)
    return value


_T = Transaction.__table__
_ENTRY = (
    _T.c.id,
    _T.c.type,
    _T.c.amount,
    _T.c.status,
    _T.c.description,
    _T.c.created_at,
    _T.c.balance_after,
    _T.c.reference,
    _T.c.wallet_number_masked,
    _T.c.admin_notes,
    _T.c.processed_by,
    _T.c.decided_at,
)
_HISTORY: dict[tuple[bool, bool, bool], tuple] = {}


def _history_statements(by_type: bool, by_status: bool, by_month: bool) -> tuple:
    """(count, page) Core statements for history, built once per filter combination (the bot's /balance and
    /history read these on every view; building ORM statements and loading ORM rows was most of their cost)."""
    found = _HISTORY.get((by_type, by_status, by_month))
    if found is None:
        conditions = [_T.c.user_id == bindparam("uid")]
        if by_type:
            conditions.append(_T.c.type == bindparam("type"))
        if by_status:
            conditions.append(_T.c.status == bindparam("status"))
        if by_month:  # a Cairo month, on ix_transactions_user_created
            conditions += [_T.c.created_at >= bindparam("since"), _T.c.created_at < bindparam("until")]
        found = _HISTORY[(by_type, by_status, by_month)] = (
            select(func.count()).select_from(_T).where(*conditions),
            select(*_ENTRY)
            .where(*conditions)
            .order_by(_T.c.created_at.desc(), _T.c.id.desc())
            .limit(bindparam("limit"))
            .offset(bindparam("offset")),
        )
    return found


# a student's newest entries, for the bot's /balance on every view (BriefAsyncSession.read_rows)
RECENT = PointRead(
    select(*_ENTRY)
    .where(_T.c.user_id == bindparam("uid"))
    .order_by(_T.c.created_at.desc(), _T.c.id.desc())
    .limit(bindparam("limit"))
)


def recent_params(user_id: int, limit: int) -> dict:
    return {"uid": user_id, "limit": limit}


def entries_of(rows) -> list[LedgerEntry]:
    return [LedgerEntry(*r) for r in rows]


def history(
    session: Session,
    user_id: int,
    *,
    page: int = 1,
    per_page: int = 10,
    type: TransactionType | None = None,
    status: TransactionStatus | None = None,
    month: tuple[int, int] | None = None,
) -> Page:
    """Newest first, paged; optional filters by type, status and Cairo month (year, month)."""
    count, rows = _history_statements(type is not None, status is not None, month is not None)
    params = {"uid": user_id, "type": type, "status": status}
    if month is not None:
        params["since"], params["until"] = cairo_month(*month)
    conn = session.connection()
    total = conn.execute(count, params).scalar() or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    found = conn.execute(rows, {**params, "limit": per_page, "offset": (page - 1) * per_page})
    return Page([LedgerEntry(*r) for r in found], page, pages, total)


def debit(session: Session, user_id: int, amount: Decimal) -> Decimal:
    """One conditional statement; returns the new balance or raises InsufficientFunds."""
    new_balance = session.execute(
        update(User)
        .where(User.id == user_id, User.balance >= amount)
        .values(balance=User.balance - amount)
        .returning(User.balance)
        .execution_options(synchronize_session=False)
    ).scalar()
    if new_balance is None:
        current = balance(session, user_id)
        raise InsufficientFunds("not enough balance", balance=current, required=amount, shortfall=amount - current)
    return new_balance


def credit(session: Session, user_id: int, amount: Decimal) -> Decimal:
    """One conditional statement; a balance never grows past MAX_BALANCE (a 64-bit column's overflow)."""
    new_balance = session.execute(
        update(User)
        .where(User.id == user_id, User.balance <= MAX_BALANCE - amount)
        .values(balance=User.balance + amount)
        .returning(User.balance)
        .execution_options(synchronize_session=False)
    ).scalar()
    if new_balance is None:
        current = balance(session, user_id)  # raises NotFound for an unknown student
        raise BalanceLimit(
            "the balance would exceed the maximum a wallet may hold", balance=current, maximum=MAX_BALANCE
        )
    return new_balance


def adjust_balance(
    session: Session,
    user_id: int,
    amount: Decimal | str,
    reason: str,
    *,
    actor: Actor,
    idempotency_key: str,
    now: datetime | None = None,
) -> AdjustResult:
    """An admin correction: a signed ADJUSTMENT row with a mandatory reason."""
    now = as_utc(now)
    reason = require_reason(reason)
    amount = parse_signed_amount(amount, maximum=MAX_ADJUSTMENT)
    key = ledger_key(TransactionType.ADJUSTMENT, idempotency_key)

    def do() -> AdjustResult:
        if session.get(User, user_id) is None:
            raise NotFound("student not found", entity="user", id=user_id)
        before = balance(session, user_id)
        new_balance = debit(session, user_id, -amount) if amount < 0 else credit(session, user_id, amount)
        row = Transaction(
            user_id=user_id,
            type=TransactionType.ADJUSTMENT,
            amount=amount,
            status=TransactionStatus.APPROVED,
            description=reason[:500],
            admin_id=actor.admin_id,
            processed_by=actor.name,
            idempotency_key=key,
            balance_after=new_balance,
            created_at=now,
            decided_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        notifications.enqueue(
            session,
            kind=NotificationKind.BALANCE_ADJUSTED,
            user_id=user_id,
            now=now,
            payload={"amount": str(amount), "balance": str(new_balance), "reason": reason},
        )
        audit.record(
            session,
            actor,
            "balance.adjust",
            "user",
            user_id,
            before={"balance": before},
            after={"balance": new_balance, "amount": amount, "reason": reason},
            now=now,
        )
        return AdjustResult(row.id, user_id, amount, new_balance)

    def replay(prior: Transaction) -> AdjustResult:
        return AdjustResult(prior.id, user_id, prior.amount, prior.balance_after or ZERO, replayed=True)

    return run_idempotent(session, user_id, key, TransactionType.ADJUSTMENT, do, replay)


@dataclass(frozen=True)
class LedgerMismatch:
    user_id: int
    name: str
    balance: Decimal
    ledger: Decimal


def check_ledger(session: Session) -> list[LedgerMismatch]:
    """Every user whose balance differs from the sum of approved rows, or is negative."""
    piastres = cast(Transaction.amount, BigInteger)  # raw integers: compare and sum in SQL exactly
    approved = (
        select(Transaction.user_id, func.sum(piastres).label("total"))
        .where(Transaction.status == TransactionStatus.APPROVED)
        .group_by(Transaction.user_id)
        .subquery()
    )
    total = func.coalesce(approved.c.total, 0)
    rows = session.execute(
        select(User.id, User.full_name, User.balance, total.label("ledger"))
        .outerjoin(approved, approved.c.user_id == User.id)
        .where((User.balance != total) | (User.balance < 0))  # as stored: a stray fraction shows too
        .order_by(User.id)
    ).all()
    return [LedgerMismatch(r.id, r.full_name, r.balance, Decimal(int(r.ledger)) / 100) for r in rows]
