"""Which received transfer pays for which top-up request: the matching rule and the one-time claim.

Used inside the wallet's approval transaction (core.services.wallet), so it imports no other service.
Rule: a request that carries a Vodafone Cash transaction number matches only the transfer with that
number; otherwise a transfer matches when it comes from the same sender number (compared by keyed
hash), for the exact amount, within the window around the request. A request naming a transfer's
number wins over requests that only share its sender. A pair is *certain* when the request has exactly
one unmatched candidate, that transfer has exactly one pending candidate, and no top-up approved by
hand (without a transfer) could be the one it paid for: an earlier manual approval claims it first.

A certain pair found by sender number alone may still wait for an admin (`auto_refusal`): the number
was used on another student's top-up (a classmate may know a victim's number), or it is new on this
student's account and the amount is above the owner's small limit. A transaction number is proof of
the SMS and needs neither check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from core.models import Transaction, TransactionStatus, TransactionType, Transfer
from core.timeutil import as_utc


@dataclass(frozen=True)
class Pair:
    request_id: int
    transfer_id: int
    reference: str
    amount: Decimal
    by_number: bool  # the request named the transfer's transaction number


SHARED_SENDER = "SHARED_SENDER"  # the sender number is on another student's top-up too
NEW_SENDER = "NEW_SENDER"  # no top-up from this number was approved on this account before


def _pending_topup(session: Session, request_id: int) -> Transaction | None:
    row = session.get(Transaction, request_id, populate_existing=True)
    if row is None or row.type != TransactionType.TOP_UP or row.status != TransactionStatus.PENDING:
        return None
    return row


def transfers_for_request(session: Session, request: Transaction, window: timedelta) -> list[Transfer]:
    """Unmatched transfers that could pay for this request, oldest first."""
    query = select(Transfer).where(Transfer.transaction_id.is_(None))
    if request.transfer_reference:
        query = query.where(Transfer.reference == request.transfer_reference)
    elif request.wallet_hash:
        created = as_utc(request.created_at)
        query = query.where(
            Transfer.sender_hash == request.wallet_hash,
            Transfer.amount == request.amount,
            Transfer.received_at >= created - window,
            Transfer.received_at <= created + window,
        )
    else:
        return []
    return list(session.scalars(query.order_by(Transfer.received_at, Transfer.id)))


def requests_for_transfer(
    session: Session, transfer: Transfer, window: timedelta, *, status: TransactionStatus = TransactionStatus.PENDING
) -> list[Transaction]:
    """Top-ups (pending by default) this transfer could pay for (the same rule, seen from the transfer)."""
    received = as_utc(transfer.received_at)
    by_number = Transaction.transfer_reference == transfer.reference
    conditions = [by_number]
    if transfer.sender_hash:
        conditions.append(
            and_(
                Transaction.transfer_reference.is_(None),
                Transaction.wallet_hash == transfer.sender_hash,
                Transaction.amount == transfer.amount,
                Transaction.created_at >= received - window,
                Transaction.created_at <= received + window,
            )
        )
    rows = list(
        session.scalars(
            select(Transaction)
            .where(Transaction.type == TransactionType.TOP_UP, Transaction.status == status, or_(*conditions))
            .order_by(Transaction.created_at, Transaction.id)
        )
    )
    named = [r for r in rows if r.transfer_reference == transfer.reference]
    return named or rows  # a transaction number given by a student wins over a sender match


def approved_without_transfer(session: Session, transfer: Transfer, window: timedelta) -> list[Transaction]:
    """Top-ups an admin approved before this transfer was known, and that no transfer pays for yet."""
    linked = set(session.scalars(select(Transfer.transaction_id).where(Transfer.transaction_id.is_not(None))))
    return [
        r
        for r in requests_for_transfer(session, transfer, window, status=TransactionStatus.APPROVED)
        if r.id not in linked
    ]


def shared_sender(session: Session, request: Transaction) -> bool:
    """The request's sender number was also given on another student's top-up (any status, any time)."""
    if not request.wallet_hash:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    Transaction.type == TransactionType.TOP_UP,
                    Transaction.wallet_hash == request.wallet_hash,
                    Transaction.user_id != request.user_id,
                )
            )
        )
    )


def known_sender(session: Session, request: Transaction) -> bool:
    """An earlier top-up from this sender number was approved on the same student's account."""
    if not request.wallet_hash:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    Transaction.type == TransactionType.TOP_UP,
                    Transaction.status == TransactionStatus.APPROVED,
                    Transaction.wallet_hash == request.wallet_hash,
                    Transaction.user_id == request.user_id,
                    Transaction.id != request.id,
                    Transaction.created_at <= request.created_at,
                )
            )
        )
    )


def auto_refusal(session: Session, pair: Pair, *, new_sender_max: Decimal) -> str | None:
    """Why a certain pair must still be decided by an admin (SHARED_SENDER, NEW_SENDER), or None."""
    if pair.by_number:
        return None
    request = session.get(Transaction, pair.request_id)
    if shared_sender(session, request):
        return SHARED_SENDER
    if pair.amount > new_sender_max and not known_sender(session, request):
        return NEW_SENDER
    return None


def _sound(request: Transaction, transfer: Transfer) -> bool:
    """Beyond being candidates: the same amount, and no contradicting sender (a typed number can be wrong)."""
    if request.amount != transfer.amount:
        return False
    return not (transfer.sender_hash and request.wallet_hash and transfer.sender_hash != request.wallet_hash)


def certain_pair(
    session: Session, *, window: timedelta, request_id: int | None = None, transfer_id: int | None = None
) -> Pair | None:
    """The unique request/transfer pair starting from one side, or None when anything is ambiguous."""
    if request_id is not None:
        request = _pending_topup(session, request_id)
        if request is None:
            return None
        transfers = transfers_for_request(session, request, window)
        if len(transfers) != 1:
            return None
        transfer = transfers[0]
        requests = requests_for_transfer(session, transfer, window)
    else:
        transfer = session.get(Transfer, transfer_id, populate_existing=True)
        if transfer is None or transfer.transaction_id is not None:
            return None
        requests = requests_for_transfer(session, transfer, window)
        if len(requests) != 1:
            return None
        request = requests[0]
        transfers = transfers_for_request(session, request, window)
        if [t.id for t in transfers] != [transfer.id]:
            return None
    if [r.id for r in requests] != [request.id] or not _sound(request, transfer):
        return None
    if approved_without_transfer(session, transfer, window):
        return None  # it may be the money an admin already credited by hand
    return Pair(
        request.id,
        transfer.id,
        transfer.reference,
        transfer.amount,
        by_number=request.transfer_reference == transfer.reference,
    )


def claim(session: Session, transfer_id: int, request_id: int, *, by: str, now: datetime) -> bool:
    """Mark the transfer as paying for this request, once: the conditional UPDATE decides."""
    return bool(
        session.execute(
            update(Transfer)
            .where(Transfer.id == transfer_id, Transfer.transaction_id.is_(None))
            .values(transaction_id=request_id, matched_at=as_utc(now), matched_by=by[:120])
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def window_of(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)
