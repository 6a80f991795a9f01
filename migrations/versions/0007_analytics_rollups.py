"""analytics rollups: decided ledger rows summed per Cairo day (ledger_days), students who used the
wallet or paid (ledger_user_marks), and how far they go (analytics_rollups), existing rows rolled up
here; users' created_at/last_seen_at indexes widened with telegram_id

Revision ID: 0007
Revises: 0006

"""

from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import core.timeutil

revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "ledger_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("decided_day", sa.Date(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_days")),
        sa.UniqueConstraint(
            "decided_day", "day", "type", "status", "platform_id", name=op.f("uq_ledger_days_decided_day")
        ),
    )
    with op.batch_alter_table("ledger_days", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_days_day", ["day", "type", "status"], unique=False)
    op.create_table(
        "ledger_user_marks",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "user_id", name=op.f("pk_ledger_user_marks")),
    )
    op.create_table(
        "analytics_rollups",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("until", core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_analytics_rollups")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        # the same single-column indexes, widened so counting students needs no table rows
        batch_op.drop_index("ix_users_created_at")
        batch_op.drop_index("ix_users_last_seen_at")
        batch_op.create_index("ix_users_created_telegram", ["created_at", "telegram_id"], unique=False)
        batch_op.create_index("ix_users_last_seen_telegram", ["last_seen_at", "telegram_id"], unique=False)
    _backfill()


def _backfill() -> None:
    """Roll up the rows already decided (one pass over the ledger, grouped by the database), so the panel
    is fast from the first request; an empty ledger is left to the scheduler job. It runs the job's own
    fill (core.services.analytics.fill_rollups), which reads only columns that exist from 0006 on."""
    from sqlalchemy.orm import Session

    from core.services import analytics

    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    target = analytics.rollup_target(now)
    ledger = sa.table("transactions", sa.column("decided_at", core.timeutil.UTCDateTime()))
    decided = bind.execute(
        sa.select(sa.literal(1)).select_from(ledger).where(ledger.c.decided_at < target).limit(1)
    ).first()
    if decided is None:
        return
    session = Session(bind=bind)
    analytics.fill_rollups(session, since=None, until=target)
    state = sa.table(
        "analytics_rollups",
        sa.column("name", sa.String()),
        sa.column("until", core.timeutil.UTCDateTime()),
        sa.column("updated_at", core.timeutil.UTCDateTime()),
    )
    session.execute(state.insert().values(name=analytics.ROLLUP, until=target, updated_at=now))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_last_seen_telegram")
        batch_op.drop_index("ix_users_created_telegram")
        batch_op.create_index("ix_users_last_seen_at", ["last_seen_at"], unique=False)
        batch_op.create_index("ix_users_created_at", ["created_at"], unique=False)
    op.drop_table("analytics_rollups")
    op.drop_table("ledger_user_marks")
    with op.batch_alter_table("ledger_days", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_days_day")
    op.drop_table("ledger_days")
