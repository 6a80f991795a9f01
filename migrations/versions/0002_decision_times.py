"""transactions.decided_at: when money moved or a top-up was decided

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:40:00

Existing rows are filled from the best data there is: a top-up's decision time from its audit row
(`topup.approved` / `topup.rejected`, written in the same transaction as the decision), else from
`updated_at`; every other approved row moved money when it was created.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import core.timeutil

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided_at", core.timeutil.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_transactions_type_status_decided", ["type", "status", "decided_at"], unique=False)
    op.execute(
        sa.text(
            "UPDATE transactions SET decided_at = COALESCE("
            " (SELECT MIN(a.created_at) FROM audit_log a WHERE a.entity_type = 'transaction'"
            "  AND a.action IN ('topup.approved', 'topup.rejected') AND a.entity_id = CAST(transactions.id AS VARCHAR(64))),"
            " updated_at)"
            " WHERE type = 'TOP_UP' AND status IN ('APPROVED', 'REJECTED')"
        )
    )
    op.execute(
        sa.text("UPDATE transactions SET decided_at = created_at WHERE type <> 'TOP_UP' AND status = 'APPROVED'")
    )


def downgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_transactions_type_status_decided")
        batch_op.drop_column("decided_at")
