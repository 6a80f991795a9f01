"""performance: covering indexes for the ledger's sums and counts

Revision ID: 0006
Revises: 0005

"""

from typing import Sequence, Union

from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transactions_totals_created", ["type", "status", "created_at", "amount", "user_id"], unique=False
        )
        batch_op.create_index(
            "ix_transactions_totals_decided", ["status", "decided_at", "type", "amount"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_transactions_totals_decided")
        batch_op.drop_index("ix_transactions_totals_created")
