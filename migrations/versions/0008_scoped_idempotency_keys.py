"""idempotency keys scoped to their operation: ledger keys get the prefix of their row's type
("topup:", "enroll:", "book:", "adjust:"; keys are at most 112 characters, so they still fit in 120)

A key sent for one operation and later for another (after the stored API responses were purged) found the
first operation's ledger row: a 500, or another student's booking. See core.services.common.ledger_key.

Revision ID: 0008
Revises: 0007

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SCOPES = {"TOP_UP": "topup:", "PLATFORM_PURCHASE": "enroll:", "MENTORSHIP_PAYMENT": "book:", "ADJUSTMENT": "adjust:"}


def upgrade() -> None:
    for kind, prefix in SCOPES.items():
        op.execute(
            sa.text(
                "UPDATE transactions SET idempotency_key = :prefix || idempotency_key "
                "WHERE type = :kind AND idempotency_key IS NOT NULL"
            ).bindparams(prefix=prefix, kind=kind)
        )
    # Stored API responses were keyed without their operation: they are replayed no more (a retry gets the
    # service's own replay from the ledger, the same result) and the nightly purge removes them.


def downgrade() -> None:
    # A key reused by one student on two operations (possible only since 0008) keeps its prefix on all but one.
    for kind, prefix in SCOPES.items():
        op.execute(
            sa.text(
                "UPDATE transactions SET idempotency_key = substr(idempotency_key, :start) "
                "WHERE type = :kind AND idempotency_key LIKE :pattern AND NOT EXISTS (SELECT 1 FROM transactions other "
                "WHERE other.user_id = transactions.user_id AND other.idempotency_key = substr(transactions.idempotency_key, "
                ":start))"
            ).bindparams(start=len(prefix) + 1, kind=kind, pattern=prefix + "%")
        )
