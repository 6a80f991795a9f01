"""process_status: what the bot last said of itself (starting, running, unreachable, stopped), for the panel

Revision ID: 0009
Revises: 0008

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from core.timeutil import UTCDateTime

revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "process_status",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(500), nullable=True),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("process_status")
