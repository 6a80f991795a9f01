"""Top-ups: a student's Vodafone Cash request, its automatic settlement, and the admins' decisions.

`approve`, `approve_certain` and `reject` are the only ways an interface decides a request: each applies the
confirmation rule (approving with no received transfer, or rejecting despite one, needs an explicit confirmation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from core.crypto import mask_wallet
from core.db import context_of, unit_of_work
from core.errors import (
    AlreadyProcessed,
    ConfirmationRequired,
    DailyTopupLimit,
    InvalidAmount,
    InvalidTransferReference,
    NotFound,
    TooManyPendingTopups,
    TransferAlreadyUsed,
)
from core.models import NotificationKind, Transaction, TransactionStatus, TransactionType, Transfer, User
from core.money import parse_amount
from core.phone import normalize_wallet
from core.services import audit, matching, notifications
from core.services.common import Actor, active_user, clean_text, ledger_key, require_reason, run_idempotent
from core.services.settings import get_settings
from core.services.wallet import balance, credit
from core.sms import normalize_reference
from core.timeutil import as_utc, cairo_day_start

AUTO_MATCH = Actor(name="auto-match")  # the actor of approvals made by reconciliation


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
    counts = session.execute(
        select(
            func.count().filter(Transaction.status == TransactionStatus.PENDING),
            func.count().filter(Transaction.created_at >= cairo_day_start(now)),
        ).where(Transaction.user_id == user_id, Transaction.type == TransactionType.TOP_UP)
    ).one()
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
        raise InvalidTransferReference(
            "the transaction number is 6 to 20 digits, as in the SMS", field="transfer_reference"
        )
    return reference


def request_topup(
    session: Session,
    user_id: int,
    amount: Decimal | str,
    wallet_number: str,
    *,
    idempotency_key: str,
    description: str | None = None,
    transfer_reference: str | None = None,
    now: datetime | None = None,
) -> TopupResult:
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
        row = Transaction(
            user_id=user_id,
            type=TransactionType.TOP_UP,
            amount=amount,
            status=TransactionStatus.PENDING,
            description=description,
            wallet_number=cipher.encrypt(number),
            wallet_number_masked=mask_wallet(number),
            wallet_hash=cipher.digest(number),
            transfer_reference=reference,
            idempotency_key=key,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        notifications.notify_admins(
            session,
            kind=NotificationKind.ADMIN_TOPUP_NEW,
            subject=f"topup:{row.id}",
            now=now,
            payload={
                "transaction_id": row.id,
                "user_id": user_id,
                "student": user.full_name,
                "username": user.username,
                "amount": str(amount),
                "wallet": row.wallet_number_masked,
                "reference": reference,
            },
        )
        return TopupResult(
            row.id, user_id, amount, row.status, row.wallet_number_masked, now, transfer_reference=reference
        )

    def replay(prior: Transaction) -> TopupResult:
        return TopupResult(
            prior.id,
            user_id,
            prior.amount,
            prior.status,
            prior.wallet_number_masked or "",
            prior.created_at,
            replayed=True,
            transfer_reference=prior.transfer_reference,
        )

    result = run_idempotent(session, user_id, key, TransactionType.TOP_UP, do, replay)
    if result.status == TransactionStatus.PENDING:  # the transfer may have arrived first
        decision = settle_automatically(session, request_id=result.transaction_id, now=now)
        if decision is not None:
            result = replace(result, status=decision.status)
    return result


def settle_automatically(
    session: Session, *, request_id: int | None = None, transfer_id: int | None = None, now: datetime | None = None
) -> TopupDecision | None:
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
            pair = matching.certain_pair(
                session,
                window=matching.window_of(settings.match_window_minutes),
                request_id=request_id,
                transfer_id=transfer_id,
            )
            if (
                pair is None
                or pair.amount > settings.auto_approve_max
                or matching.auto_refusal(session, pair, new_sender_max=settings.auto_approve_new_sender_max)
            ):
                return None
            return _decide_in(
                session,
                pair.request_id,
                TransactionStatus.APPROVED,
                actor=AUTO_MATCH,
                notes=f"Vodafone Cash transfer {pair.reference}",
                now=now,
                transfer_id=pair.transfer_id,
            )
    except (AlreadyProcessed, TransferAlreadyUsed):
        return None  # an admin or another delivery settled it first


def reveal_wallet(session: Session, transaction_id: int) -> str | None:
    """The full sender number, for the review screen of that one request only."""
    token = session.scalar(select(Transaction.wallet_number).where(Transaction.id == transaction_id))
    return context_of(session).cipher.decrypt(token)


def _decide(
    session: Session,
    transaction_id: int,
    status: TransactionStatus,
    *,
    actor: Actor,
    notes: str | None,
    now: datetime,
    transfer_id: int | None = None,
) -> TopupDecision:
    with unit_of_work(session):
        return _decide_in(session, transaction_id, status, actor=actor, notes=notes, now=now, transfer_id=transfer_id)


def _link_transfer(
    session: Session, transaction_id: int, transfer_id: int | None, *, actor: Actor, now: datetime
) -> Transfer | None:
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


def _decide_in(
    session: Session,
    transaction_id: int,
    status: TransactionStatus,
    *,
    actor: Actor,
    notes: str | None,
    now: datetime,
    transfer_id: int | None = None,
) -> TopupDecision:
    """The decision inside the caller's transaction (see _decide and settle_automatically)."""
    won = session.execute(
        update(Transaction)
        .where(
            Transaction.id == transaction_id,
            Transaction.type == TransactionType.TOP_UP,
            Transaction.status == TransactionStatus.PENDING,
        )
        .values(
            status=status,
            admin_id=actor.admin_id,
            processed_by=actor.name,
            admin_notes=notes,
            decided_at=now,
            updated_at=now,
        )
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
            evidence = {
                "reference": transfer.reference,
                "amount": transfer.amount,
                "received_at": transfer.received_at,
                "source": transfer.source,
            }
        new_balance = credit(session, user_id, amount)
        session.execute(
            update(Transaction)
            .where(Transaction.id == transaction_id)
            .values(balance_after=new_balance, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        notifications.enqueue(
            session,
            kind=NotificationKind.TOPUP_APPROVED,
            user_id=user_id,
            now=now,
            subject=f"topup:{transaction_id}",
            payload={"transaction_id": transaction_id, "amount": str(amount), "balance": str(new_balance)},
        )
    else:
        new_balance = balance(session, user_id)
        notifications.enqueue(
            session,
            kind=NotificationKind.TOPUP_REJECTED,
            user_id=user_id,
            now=now,
            subject=f"topup:{transaction_id}",
            payload={"transaction_id": transaction_id, "amount": str(amount), "reason": notes or ""},
        )
    notifications.notify_admins(
        session,
        kind=NotificationKind.ADMIN_TOPUP_DECIDED,
        subject=f"topup:{transaction_id}",
        now=now,
        payload={"transaction_id": transaction_id, "status": status.value, "by": actor.name, "amount": str(amount)},
    )
    audit.record(
        session,
        actor,
        f"topup.{status.value.lower()}",
        "transaction",
        transaction_id,
        before={"status": "PENDING"},
        after={
            "status": status.value,
            "amount": amount,
            "balance": new_balance,
            "notes": notes,
            **({"transfer": evidence} if evidence else {}),
        },
        now=now,
    )
    return TopupDecision(transaction_id, user_id, amount, status, new_balance, actor.name)


def approve(
    session: Session,
    request_id: int,
    *,
    actor: Actor,
    transfer_id: int | None = None,
    reason: str | None = None,
    confirmed: bool = False,
    now: datetime | None = None,
) -> TopupDecision:
    """An admin's approval: PENDING -> APPROVED and the credit, once (the conditional UPDATE decides which admin
    won). With a transfer (one click on a suggestion), it is marked as paying for the request in the same
    transaction; without one, the one unmatched matching transfer, if any, is. Where transfers are fed in
    (transfer_feed_in_use) and none matches, only when `confirmed` with a reason (it goes into the notes and the
    audit row); without a feed the admin's own check is the evidence, as the owner's flow has it: one tap."""
    reason = clean_text(reason, limit=500, field="notes")  # bad input is refused before any question
    request = _pending(session, request_id)  # a decided one gets "already processed" from _decide
    if (
        request is not None
        and transfer_id is None
        and transfer_feed_in_use(session)
        and not _matching_transfers(session, request)
    ):
        if not confirmed or not (reason or "").strip():
            raise ConfirmationRequired(
                "no received transfer matches this request: confirm and give a reason", action="approve"
            )
        reason = require_reason(reason)
    return _decide(
        session,
        request_id,
        TransactionStatus.APPROVED,
        actor=actor,
        notes=reason,
        now=as_utc(now),
        transfer_id=transfer_id,
    )


def approve_certain(session: Session, request_id: int, *, actor: Actor, now: datetime | None = None) -> TopupDecision:
    """A bulk approval: where transfers are fed in, only with the one received transfer that certainly pays for the
    request; anything less raises ConfirmationRequired (`why`: SHARED_SENDER, AMBIGUOUS or NO_TRANSFER): decide
    it on the request's page. Without a feed, as approve: the admin checked the selected requests."""
    request = _pending(session, request_id)
    if request is None or not transfer_feed_in_use(session):  # decided or unknown; or no feed: the admin checked
        return _decide(session, request_id, TransactionStatus.APPROVED, actor=actor, notes=None, now=as_utc(now))
    window = matching.window_of(get_settings(session).match_window_minutes)
    found = matching.transfers_for_request(session, request, window)
    if found and not request.transfer_reference and matching.shared_sender(session, request):
        raise ConfirmationRequired(
            "its sender number is also used by another student: check who paid on the request's page",
            action="approve",
            why=matching.SHARED_SENDER,
        )
    pair = matching.certain_pair(session, window=window, request_id=request_id) if found else None
    if pair is None:
        raise ConfirmationRequired(
            "several transfers could match: choose one on the request's page"
            if found
            else "no received transfer matches it",
            action="approve",
            why="AMBIGUOUS" if found else "NO_TRANSFER",
        )
    return _decide(
        session,
        request_id,
        TransactionStatus.APPROVED,
        actor=actor,
        now=as_utc(now),
        notes=f"Vodafone Cash transfer {pair.reference}",
        transfer_id=pair.transfer_id,
    )


def reject(
    session: Session,
    request_id: int,
    reason: str,
    *,
    actor: Actor,
    confirmed: bool = False,
    now: datetime | None = None,
) -> TopupDecision:
    """An admin's rejection (a reason is required); when a received transfer matches the request, only once
    confirmed."""
    reason = require_reason(reason)
    request = _pending(session, request_id)
    found = _matching_transfers(session, request) if request is not None else []
    if found and not confirmed:
        raise ConfirmationRequired(
            f"transfer {found[0].reference} matches this request: confirm to reject",
            action="reject",
            reference=found[0].reference,
        )
    return _decide(session, request_id, TransactionStatus.REJECTED, actor=actor, notes=reason, now=as_utc(now))


def _pending(session: Session, request_id: int) -> Transaction | None:
    row = session.get(Transaction, request_id, populate_existing=True)
    if row is None or row.type != TransactionType.TOP_UP or row.status != TransactionStatus.PENDING:
        return None
    return row


def transfer_feed_in_use(session: Session) -> bool:
    """Whether received transfers are fed in: the SMS webhook is configured (SMS_WEBHOOK_SECRET) or a transfer
    was ever stored (an SMS, a paste, an imported statement). Only then is "no transfer matches" evidence
    against a request; a fresh install without a feed approves with one tap."""
    ctx = session.info.get("codehub")
    if ctx is not None and ctx.sms_feed:
        return True
    return session.scalar(select(exists().where(Transfer.id.is_not(None))))


def _matching_transfers(session: Session, request: Transaction) -> list[Transfer]:
    window = matching.window_of(get_settings(session).match_window_minutes)
    return matching.transfers_for_request(session, request, window)


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
    query = (
        select(Transaction, User.full_name, User.username, User.balance)
        .join(User, User.id == Transaction.user_id)
        .where(Transaction.type == TransactionType.TOP_UP, *conditions)
        .order_by(Transaction.created_at, Transaction.id)
        .limit(limit)
    )
    return [
        TopupRequest(
            t.id,
            t.user_id,
            name,
            username,
            balance,
            t.amount,
            t.status,
            t.wallet_number_masked,
            t.admin_notes,
            t.processed_by,
            t.created_at,
            t.decided_at,
            t.transfer_reference,
        )
        for t, name, username, balance in session.execute(query)
    ]


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
    return (
        session.scalar(
            select(func.count())
            .select_from(Transaction)
            .where(Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.PENDING)
        )
        or 0
    )
