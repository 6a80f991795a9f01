"""One ledger row of one student, as a receipt (the Mini App's transaction details)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.models import Transaction
from core.services.wallet import LedgerEntry, entry


def receipt(session: Session, user_id: int, transaction_id: int) -> LedgerEntry:
    """Another student's row is "not found", never shown."""
    row = session.scalar(select(Transaction).where(Transaction.id == transaction_id, Transaction.user_id == user_id))
    if row is None:
        raise NotFound("transaction not found", entity="transaction", id=transaction_id)
    return entry(row)
