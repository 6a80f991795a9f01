"""analytics rollups for the success metrics: students active in the wallet per Cairo month
(ledger_active_months, ledger_active_counts) and net paid per registration cohort (ledger_cohorts), existing rows rolled up here

Revision ID: 0011
Revises: 0010

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import core.timeutil

revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "ledger_active_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "user_id", name=op.f("pk_ledger_active_months")),
    )
    op.create_table(
        "ledger_active_counts",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("students", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_ledger_active_counts")),
    )
    op.create_table(
        "ledger_cohorts",
        sa.Column("cohort", sa.Date(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cohort", name=op.f("pk_ledger_cohorts")),
    )
    _backfill()


def _backfill() -> None:
    """Roll up the rows the other rollups already hold (decided before `until`), with the scheduler job's own
    fill (core.services.analytics.fill_month_rollups); with no rollup yet the job does it later."""
    from sqlalchemy.orm import Session

    from core.services import analytics

    bind = op.get_bind()
    state = sa.table(
        "analytics_rollups", sa.column("name", sa.String()), sa.column("until", core.timeutil.UTCDateTime())
    )
    until = bind.execute(sa.select(state.c.until).where(state.c.name == analytics.ROLLUP)).scalar()
    if until is not None:
        analytics.fill_month_rollups(Session(bind=bind), since=None, until=until)


def downgrade() -> None:
    op.drop_table("ledger_cohorts")
    op.drop_table("ledger_active_counts")
    op.drop_table("ledger_active_months")
