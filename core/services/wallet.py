"""Wallet: registration with the welcome credit, balance, history, top-ups and admin adjustments."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import BigInteger, bindparam, cast, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.crypto import mask_wallet
from core.db import context_of, unit_of_work
from core.errors import (AlreadyProcessed, BalanceLimit, DailyTopupLimit, InsufficientFunds, InvalidAmount,
                         InvalidInput, InvalidTransferReference, NotFound, TooManyPendingTopups, TransferAlreadyUsed)
from core.models import NotificationKind, Transaction, TransactionStatus, TransactionType, Transfer, User
from core.money import ZERO, parse_amount, parse_signed_amount
from core.phone import normalize_wallet
from core.services import audit, matching, notifications
from core.services.common import Actor, active_user, clean_text, ledger_key, require_reason, run_idempotent
from core.services.notifications import insert_ignore
from core.services.settings import get_settings
from core.sms import normalize_reference
from core.text import strip_controls
from core.timeutil import as_utc, cairo_day_start

MAX_ADJUSTMENT = Decimal("1000000.00")
MAX_BALANCE = Decimal("1000000000.00")  # far above any real wallet, far below 2**63 piastres
LANGUAGES = ("en", "ar")
MAX_TELEGRAM_ID = 2**53 - 1  # Telegram's ids have at most 52 significant bits
AUTO_MATCH = Actor(name="auto-match")  # the actor of approvals made by reconciliation


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
class TopupResult:
    transaction_id: int
    user_id: int
    amount: Decimal
    status: TransactionStatus
    wallet_masked: str
    created_at: datetime
    replayed: bool = False
    transfer_reference: str | None = None  # the Vodafone Cash transaction number the student gave


@dataclass(frozen=True)
class TopupDecision:
    transaction_id: int
    user_id: int
    amount: Decimal
    status: TransactionStatus
    balance: Decimal
    processed_by: str


@dataclass(frozen=True)
class AdjustResult:
    transaction_id: int
    user_id: int
    amount: Decimal
    balance: Decimal
    replayed: bool = False


def user_info(user: User) -> UserInfo:
    return UserInfo(user.id, user.telegram_id, user.full_name, user.username, user.language,
                    user.balance, user.is_blocked, user.is_mentor, user.created_at, user.bot_blocked_at is None)


def entry(row: Transaction) -> LedgerEntry:
    return LedgerEntry(row.id, row.type, row.amount, row.status, row.description, row.created_at,
                       row.balance_after, row.reference, row.wallet_number_masked, row.admin_notes,
                       row.processed_by, row.decided_at)


def pick_language(code: str | None) -> str:
    return "ar" if (code or "").lower().startswith("ar") else "en"


def register(session: Session, telegram_id: int, *, full_name: str = "", username: str | None = None,
             language: str | None = None, now: datetime | None = None) -> RegisterResult:
    """Create the student with the welcome credit, once; a repeat returns the existing student."""
    if not 0 < telegram_id <= MAX_TELEGRAM_ID:
        raise InvalidInput("not a Telegram user id", field="telegram_id")
    now = as_utc(now)
    full_name = strip_controls(full_name)[:200]  # from Telegram: not ours to refuse, so cleaned
    username = strip_controls(username)[:64] or None
    with unit_of_work(session):
        existing = session.scalar(select(User).where(User.telegram_id == telegram_id))
        if existing is not None:
            if (existing.full_name, existing.username) != (full_name, username):
                existing.full_name, existing.username = full_name, username
            existing.last_seen_at = now
            return RegisterResult(user_info(existing), False, ZERO)
        bonus = get_settings(session).signup_bonus
        user_id = insert_ignore(session, User, dict(
            telegram_id=telegram_id, full_name=full_name, username=username,
            language=language if language in LANGUAGES else pick_language(language),
            balance=bonus, created_at=now, last_seen_at=now), ["telegram_id"])
        if user_id is None:  # a concurrent /start created it first
            user = session.scalar(select(User).where(User.telegram_id == telegram_id))
            return RegisterResult(user_info(user), False, ZERO)
        session.add(Transaction(user_id=user_id, type=TransactionType.SIGNUP_BONUS, amount=bonus,
                                status=TransactionStatus.APPROVED, description="Welcome credit",
                                idempotency_key="signup-bonus", balance_after=bonus,
                                created_at=now, decided_at=now, updated_at=now))
        session.flush()
        user = session.get(User, user_id)
        return RegisterResult(user_info(user), True, bonus)


def welcome_back(session: Session, student: UserInfo, *, full_name: str = "", username: str | None = None,
                 now: datetime | None = None) -> UserInfo:
    """A returning student's /start: their Telegram name and handle kept current, and reachable again if
    they had blocked the bot. Nothing is written (no write transaction is even begun) when nothing changed,
    the common case; activity marks are StudentMiddleware's (mark_active, at most hourly)."""
    full_name = strip_controls(full_name)[:200]
    username = strip_controls(username)[:64] or None
    if (student.full_name, student.username) == (full_name, username) and student.reachable:
        return student
    with unit_of_work(session):
        session.execute(update(User).where(User.id == student.id).values(
            full_name=full_name, username=username, last_seen_at=as_utc(now), bot_blocked_at=None)
            .execution_options(synchronize_session=False))
        return user_info(session.get(User, student.id, populate_existing=True))


def get_user(session: Session, user_id: int) -> UserInfo:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("student not found", entity="user", id=user_id)
    return user_info(user)


_U = User.__table__
# the bot reads this on every update: a Core statement built once (no ORM object, no identity map)
_BY_TELEGRAM = select(_U.c.id, _U.c.telegram_id, _U.c.full_name, _U.c.username, _U.c.language, _U.c.balance,
                      _U.c.is_blocked, _U.c.is_mentor, _U.c.created_at).add_columns(
    _U.c.bot_blocked_at.is_(None)).where(_U.c.telegram_id == bindparam("telegram_id"))


def find_by_telegram(session: Session, telegram_id: int) -> UserInfo | None:
    return find_by_telegram_on(session.connection(), telegram_id)


def find_by_telegram_on(conn: Connection, telegram_id: int) -> UserInfo | None:
    """find_by_telegram on a Connection (the bot's per-update read, BriefAsyncSession.read_point)."""
    if not 0 < telegram_id <= MAX_TELEGRAM_ID:
        return None  # never sent to the database: 2^64 overflows its BIGINT
    row = conn.execute(_BY_TELEGRAM, {"telegram_id": telegram_id}).first()
    return UserInfo(*row) if row else None


def balance(session: Session, user_id: int) -> Decimal:
    value = session.scalar(select(User.balance).where(User.id == user_id))
    if value is None:
        raise NotFound("student not found", entity="user", id=user_id)
    return value


def set_language(session: Session, user_id: int, language: str) -> UserInfo:
    if language not in LANGUAGES:
        raise InvalidInput("language must be en or ar")
    with unit_of_work(session):
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("student not found", entity="user", id=user_id)
        user.language = language
        return user_info(user)


_T = Transaction.__table__
_ENTRY = (_T.c.id, _T.c.type, _T.c.amount, _T.c.status, _T.c.description, _T.c.created_at, _T.c.balance_after,
          _T.c.reference, _T.c.wallet_number_masked, _T.c.admin_notes, _T.c.processed_by, _T.c.decided_at)
_HISTORY: dict[tuple[bool, bool], tuple] = {}


def _history_statements(by_type: bool, by_status: bool) -> tuple:
    """(count, page) Core statements for history, built once per filter combination (the bot's /balance and
    /history read these on every view; building ORM statements and loading ORM rows was most of their cost)."""
    found = _HISTORY.get((by_type, by_status))
    if found is None:
        conditions = [_T.c.user_id == bindparam("uid")]
        if by_type:
            conditions.append(_T.c.type == bindparam("type"))
        if by_status:
            conditions.append(_T.c.status == bindparam("status"))
        found = _HISTORY[(by_type, by_status)] = (
            select(func.count()).select_from(_T).where(*conditions),
            select(*_ENTRY).where(*conditions).order_by(_T.c.created_at.desc(), _T.c.id.desc())
            .limit(bindparam("limit")).offset(bindparam("offset")))
    return found


def history(session: Session, user_id: int, *, page: int = 1, per_page: int = 10,
            type: TransactionType | None = None, status: TransactionStatus | None = None) -> Page:
    """Newest first, paged; optional filters by type and status."""
    count, rows = _history_statements(type is not None, status is not None)
    params = {"uid": user_id, "type": type, "status": status}
    conn = session.connection()
    total = conn.execute(count, params).scalar() or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    found = conn.execute(rows, {**params, "limit": per_page, "offset": (page - 1) * per_page})
    return Page([LedgerEntry(*r) for r in found], page, pages, total)


def check_topup_amount(session: Session, amount: Decimal | str) -> Decimal:
    settings = get_settings(session)
    amount = parse_amount(amount, maximum=settings.max_topup)
    if amount < settings.min_topup:
        raise InvalidAmount("TOO_SMALL", minimum=settings.min_topup)
    return amount


def check_topup_allowed(session: Session, user_id: int, *, now: datetime | None = None) -> User:
    """Raise if this student may not request a top-up now (blocked, too many pending, daily limit).

    The bot asks before the student sends any money; request_topup checks again inside its transaction.
    """
    now = as_utc(now)
    user = active_user(session, user_id)
    settings = get_settings(session)
    counts = session.execute(select(
        func.count().filter(Transaction.status == TransactionStatus.PENDING),
        func.count().filter(Transaction.created_at >= cairo_day_start(now)),
    ).where(Transaction.user_id == user_id, Transaction.type == TransactionType.TOP_UP)).one()
    if counts[0] >= settings.max_pending_topups:
        raise TooManyPendingTopups("too many pending top-ups", limit=settings.max_pending_topups)
    if counts[1] >= settings.max_topups_per_day:
        raise DailyTopupLimit("daily top-up limit reached", limit=settings.max_topups_per_day)
    return user


def check_transfer_reference(text: str | None) -> str | None:
    """The optional Vodafone Cash transaction number a student types (blank means none)."""
    if text is None or not str(text).strip():
        return None
    reference = normalize_reference(text)
    if reference is None:
        raise InvalidTransferReference("the transaction number is 6 to 20 digits, as in the SMS",
                                       field="transfer_reference")
    return reference


def request_topup(session: Session, user_id: int, amount: Decimal | str, wallet_number: str, *,
                  idempotency_key: str, description: str | None = None, transfer_reference: str | None = None,
                  now: datetime | None = None) -> TopupResult:
    """A PENDING top-up, settled at once when a received transfer matches it for certain (and the owner
    switched auto-approval on); otherwise it waits for an admin, with any likely transfer suggested.

    `transfer_reference`: the Vodafone Cash transaction number from the student's SMS, optional; a
    request with one matches only the transfer with that number.
    """
    now = as_utc(now)
    description = clean_text(description, limit=200, field="description") or "Vodafone Cash top-up"
    number = normalize_wallet(wallet_number)
    amount = check_topup_amount(session, amount)
    reference = check_transfer_reference(transfer_reference)
    cipher = context_of(session).cipher
    key = ledger_key(TransactionType.TOP_UP, idempotency_key)

    def do() -> TopupResult:
        user = check_topup_allowed(session, user_id, now=now)
        row = Transaction(user_id=user_id, type=TransactionType.TOP_UP, amount=amount,
                          status=TransactionStatus.PENDING, description=description,
                          wallet_number=cipher.encrypt(number), wallet_number_masked=mask_wallet(number),
                          wallet_hash=cipher.digest(number), transfer_reference=reference,
                          idempotency_key=key, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        notifications.notify_admins(session, kind=NotificationKind.ADMIN_TOPUP_NEW, subject=f"topup:{row.id}", now=now,
                                    payload={"transaction_id": row.id, "user_id": user_id,
                                             "student": user.full_name, "username": user.username,
                                             "amount": str(amount), "wallet": row.wallet_number_masked,
                                             "reference": reference})
        return TopupResult(row.id, user_id, amount, row.status, row.wallet_number_masked, now,
                           transfer_reference=reference)

    def replay(prior: Transaction) -> TopupResult:
        return TopupResult(prior.id, user_id, prior.amount, prior.status, prior.wallet_number_masked or "",
                           prior.created_at, replayed=True, transfer_reference=prior.transfer_reference)

    result = run_idempotent(session, user_id, key, TransactionType.TOP_UP, do, replay)
    if result.status == TransactionStatus.PENDING:  # the transfer may have arrived first
        decision = settle_automatically(session, request_id=result.transaction_id, now=now)
        if decision is not None:
            result = replace(result, status=decision.status)
    return result


def settle_automatically(session: Session, *, request_id: int | None = None, transfer_id: int | None = None,
                         now: datetime | None = None) -> TopupDecision | None:
    """Approve the request/transfer pair starting from either side, when auto-approval is on, the pair is
    certain (core.services.matching), the amount is within the owner's maximum, and nothing about the
    sender number needs an admin's look (matching.auto_refusal); else None.

    The check and the approval share one transaction, and the approval is the manual one (same credit,
    notifications and audit row, with the transfer as evidence), so a racing admin credits nothing twice.
    """
    now = as_utc(now)
    settings = get_settings(session)
    if not settings.auto_approve_transfers:
        return None
    try:
        with unit_of_work(session):
            pair = matching.certain_pair(session, window=matching.window_of(settings.match_window_minutes),
                                         request_id=request_id, transfer_id=transfer_id)
            if pair is None or pair.amount > settings.auto_approve_max or matching.auto_refusal(
                    session, pair, new_sender_max=settings.auto_approve_new_sender_max):
                return None
            return _decide_in(session, pair.request_id, TransactionStatus.APPROVED, actor=AUTO_MATCH,
                              notes=f"Vodafone Cash transfer {pair.reference}", now=now,
                              transfer_id=pair.transfer_id)
    except (AlreadyProcessed, TransferAlreadyUsed):
        return None  # an admin or another delivery settled it first


def reveal_wallet(session: Session, transaction_id: int) -> str | None:
    """The full sender number, for the review screen of that one request only."""
    token = session.scalar(select(Transaction.wallet_number).where(Transaction.id == transaction_id))
    return context_of(session).cipher.decrypt(token)


def _decide(session: Session, transaction_id: int, status: TransactionStatus, *, actor: Actor,
            notes: str | None, now: datetime, transfer_id: int | None = None) -> TopupDecision:
    with unit_of_work(session):
        return _decide_in(session, transaction_id, status, actor=actor, notes=notes, now=now,
                          transfer_id=transfer_id)


def _link_transfer(session: Session, transaction_id: int, transfer_id: int | None, *, actor: Actor,
                   now: datetime) -> Transfer | None:
    """The transfer that pays for an approved top-up, marked used in the approval's transaction.

    Named (a one-click suggestion, an auto-approval): it must still be free, else the whole approval
    rolls back. Not named (a plain manual approval): the one unmatched candidate, if exactly one, so it
    cannot pay for a second request later.
    """
    if transfer_id is None:
        request = session.get(Transaction, transaction_id, populate_existing=True)
        window = matching.window_of(get_settings(session).match_window_minutes)
        found = matching.transfers_for_request(session, request, window)
        if len(found) != 1 or not matching.claim(session, found[0].id, transaction_id, by=actor.name, now=now):
            return None
        return found[0]
    transfer = session.get(Transfer, transfer_id)
    if transfer is None:
        raise NotFound("transfer not found", entity="transfer", id=transfer_id)
    if not matching.claim(session, transfer_id, transaction_id, by=actor.name, now=now):
        raise TransferAlreadyUsed("this transfer already paid for another top-up", reference=transfer.reference)
    return transfer


def _decide_in(session: Session, transaction_id: int, status: TransactionStatus, *, actor: Actor,
               notes: str | None, now: datetime, transfer_id: int | None = None) -> TopupDecision:
    """The decision inside the caller's transaction (see _decide and settle_automatically)."""
    won = session.execute(
        update(Transaction)
        .where(Transaction.id == transaction_id, Transaction.type == TransactionType.TOP_UP,
               Transaction.status == TransactionStatus.PENDING)
        .values(status=status, admin_id=actor.admin_id, processed_by=actor.name,
                admin_notes=notes, decided_at=now, updated_at=now)
        .returning(Transaction.user_id, Transaction.amount)
        .execution_options(synchronize_session=False)
    ).first()
    if won is None:
        row = session.get(Transaction, transaction_id)
        if row is None or row.type != TransactionType.TOP_UP:
            raise NotFound("top-up request not found", entity="topup", id=transaction_id)
        raise AlreadyProcessed("already processed", by=row.processed_by or "?", status=row.status.value)
    user_id, amount = won
    evidence = None
    if status == TransactionStatus.APPROVED:
        transfer = _link_transfer(session, transaction_id, transfer_id, actor=actor, now=now)
        if transfer is not None:
            evidence = {"reference": transfer.reference, "amount": transfer.amount,
                        "received_at": transfer.received_at, "source": transfer.source}
        new_balance = credit(session, user_id, amount)
        session.execute(update(Transaction).where(Transaction.id == transaction_id)
                        .values(balance_after=new_balance, updated_at=now)
                        .execution_options(synchronize_session=False))
        notifications.enqueue(session, kind=NotificationKind.TOPUP_APPROVED, user_id=user_id, now=now,
                              subject=f"topup:{transaction_id}",
                              payload={"transaction_id": transaction_id, "amount": str(amount),
                                       "balance": str(new_balance)})
    else:
        new_balance = balance(session, user_id)
        notifications.enqueue(session, kind=NotificationKind.TOPUP_REJECTED, user_id=user_id, now=now,
                              subject=f"topup:{transaction_id}",
                              payload={"transaction_id": transaction_id, "amount": str(amount),
                                       "reason": notes or ""})
    notifications.notify_admins(session, kind=NotificationKind.ADMIN_TOPUP_DECIDED, subject=f"topup:{transaction_id}",
                                now=now, payload={"transaction_id": transaction_id, "status": status.value,
                                                  "by": actor.name, "amount": str(amount)})
    audit.record(session, actor, f"topup.{status.value.lower()}", "transaction", transaction_id,
                 before={"status": "PENDING"},
                 after={"status": status.value, "amount": amount, "balance": new_balance,
                        "notes": notes, **({"transfer": evidence} if evidence else {})}, now=now)
    return TopupDecision(transaction_id, user_id, amount, status, new_balance, actor.name)


def approve_topup(session: Session, transaction_id: int, *, actor: Actor, notes: str | None = None,
                  transfer_id: int | None = None, now: datetime | None = None) -> TopupDecision:
    """PENDING -> APPROVED and the credit, once: the conditional UPDATE decides which admin won.

    `transfer_id` names the received transfer that pays for it (marked used in the same transaction);
    without it, the one unmatched matching transfer, if any, is marked used.
    """
    return _decide(session, transaction_id, TransactionStatus.APPROVED, actor=actor,
                   notes=clean_text(notes, limit=500, field="notes"), now=as_utc(now), transfer_id=transfer_id)


def reject_topup(session: Session, transaction_id: int, reason: str, *, actor: Actor,
                 now: datetime | None = None) -> TopupDecision:
    return _decide(session, transaction_id, TransactionStatus.REJECTED, actor=actor,
                   notes=require_reason(reason), now=as_utc(now))


def debit(session: Session, user_id: int, amount: Decimal) -> Decimal:
    """One conditional statement; returns the new balance or raises InsufficientFunds."""
    new_balance = session.execute(
        update(User).where(User.id == user_id, User.balance >= amount)
        .values(balance=User.balance - amount).returning(User.balance)
        .execution_options(synchronize_session=False)).scalar()
    if new_balance is None:
        current = balance(session, user_id)
        raise InsufficientFunds("not enough balance", balance=current, required=amount,
                                shortfall=amount - current)
    return new_balance


def credit(session: Session, user_id: int, amount: Decimal) -> Decimal:
    """One conditional statement; a balance never grows past MAX_BALANCE (a 64-bit column's overflow)."""
    new_balance = session.execute(
        update(User).where(User.id == user_id, User.balance <= MAX_BALANCE - amount)
        .values(balance=User.balance + amount)
        .returning(User.balance).execution_options(synchronize_session=False)).scalar()
    if new_balance is None:
        current = balance(session, user_id)  # raises NotFound for an unknown student
        raise BalanceLimit("the balance would exceed the maximum a wallet may hold", balance=current,
                           maximum=MAX_BALANCE)
    return new_balance


def adjust_balance(session: Session, user_id: int, amount: Decimal | str, reason: str, *, actor: Actor,
                   idempotency_key: str, now: datetime | None = None) -> AdjustResult:
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
        row = Transaction(user_id=user_id, type=TransactionType.ADJUSTMENT, amount=amount,
                          status=TransactionStatus.APPROVED, description=reason[:500],
                          admin_id=actor.admin_id, processed_by=actor.name, idempotency_key=key,
                          balance_after=new_balance, created_at=now, decided_at=now, updated_at=now)
        session.add(row)
        session.flush()
        notifications.enqueue(session, kind=NotificationKind.BALANCE_ADJUSTED, user_id=user_id, now=now,
                              payload={"amount": str(amount), "balance": str(new_balance), "reason": reason})
        audit.record(session, actor, "balance.adjust", "user", user_id, before={"balance": before},
                     after={"balance": new_balance, "amount": amount, "reason": reason}, now=now)
        return AdjustResult(row.id, user_id, amount, new_balance)

    def replay(prior: Transaction) -> AdjustResult:
        return AdjustResult(prior.id, user_id, prior.amount, prior.balance_after or ZERO, replayed=True)

    return run_idempotent(session, user_id, key, TransactionType.ADJUSTMENT, do, replay)


def set_blocked(session: Session, user_id: int, blocked: bool, *, actor: Actor,
                now: datetime | None = None) -> UserInfo:
    with unit_of_work(session):
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("student not found", entity="user", id=user_id)
        before = user.is_blocked
        user.is_blocked = blocked
        audit.record(session, actor, "user.block" if blocked else "user.unblock", "user", user_id,
                     before={"is_blocked": before}, after={"is_blocked": blocked}, now=now)
        return user_info(user)


def touch(session: Session, user_id: int, *, now: datetime | None = None) -> None:
    """Mark the student active now, and reachable again if they had blocked the bot."""
    with unit_of_work(session):
        session.execute(update(User).where(User.id == user_id).values(
            last_seen_at=as_utc(now), bot_blocked_at=None).execution_options(synchronize_session=False))


def mark_active(session: Session, user_id: int, *, now: datetime | None = None,
                every: timedelta = timedelta(hours=1)) -> bool:
    """Record activity for the engagement numbers, at most once per `every` (one conditional UPDATE)."""
    now = as_utc(now)
    with unit_of_work(session):
        return bool(session.execute(update(User).where(
            User.id == user_id, (User.last_seen_at.is_(None)) | (User.last_seen_at < now - every)
        ).values(last_seen_at=now, bot_blocked_at=None).execution_options(synchronize_session=False)).rowcount)


@dataclass(frozen=True)
class TopupRequest:
    """A top-up request as an admin reviews it: who asked, how much, from which (masked) number."""

    id: int
    user_id: int
    student: str
    username: str | None
    balance: Decimal  # the student's balance now
    amount: Decimal
    status: TransactionStatus
    wallet_masked: str | None
    admin_notes: str | None
    processed_by: str | None
    created_at: datetime
    decided_at: datetime | None
    transfer_reference: str | None = None  # the Vodafone Cash transaction number the student gave, if any


def _topup_requests(session: Session, *conditions, limit: int | None = None) -> list[TopupRequest]:
    query = (select(Transaction, User.full_name, User.username, User.balance)
             .join(User, User.id == Transaction.user_id)
             .where(Transaction.type == TransactionType.TOP_UP, *conditions)
             .order_by(Transaction.created_at, Transaction.id).limit(limit))
    return [TopupRequest(t.id, t.user_id, name, username, balance, t.amount, t.status, t.wallet_number_masked,
                         t.admin_notes, t.processed_by, t.created_at, t.decided_at, t.transfer_reference)
            for t, name, username, balance in session.execute(query)]


def pending_topups(session: Session, *, limit: int = 50) -> list[TopupRequest]:
    """PENDING top-up requests, oldest first, each with the student who asked."""
    return _topup_requests(session, Transaction.status == TransactionStatus.PENDING, limit=limit)


def list_topups(session: Session, *, status: TransactionStatus | None = None, limit: int = 100) -> list[TopupRequest]:
    """Top-up requests of any (or one) status, oldest first."""
    conditions = [Transaction.status == status] if status is not None else []
    return _topup_requests(session, *conditions, limit=limit)


def get_topup(session: Session, transaction_id: int) -> TopupRequest:
    found = _topup_requests(session, Transaction.id == transaction_id)
    if not found:
        raise NotFound("top-up request not found", entity="topup", id=transaction_id)
    return found[0]


def count_pending_topups(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Transaction).where(
        Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.PENDING)) or 0


@dataclass(frozen=True)
class LedgerMismatch:
    user_id: int
    name: str
    balance: Decimal
    ledger: Decimal


def check_ledger(session: Session) -> list[LedgerMismatch]:
    """Every user whose balance differs from the sum of approved rows, or is negative."""
    piastres = cast(Transaction.amount, BigInteger)  # raw integers: compare and sum in SQL exactly
    approved = (select(Transaction.user_id, func.sum(piastres).label("total"))
                .where(Transaction.status == TransactionStatus.APPROVED)
                .group_by(Transaction.user_id).subquery())
    total = func.coalesce(approved.c.total, 0)
    rows = session.execute(
        select(User.id, User.full_name, User.balance, total.label("ledger"))
        .outerjoin(approved, approved.c.user_id == User.id)
        .where((User.balance != total) | (User.balance < 0))  # as stored: a stray fraction shows too
        .order_by(User.id)).all()
    return [LedgerMismatch(r.id, r.full_name, r.balance, Decimal(int(r.ledger)) / 100) for r in rows]
