"""booking by slot: mentors' weekly hours, date overrides and rules, slot holds; a booking's end, meeting link,
reschedule count and refund; on PostgreSQL an exclusion constraint makes two live bookings of one mentor that
overlap impossible (btree_gist)

Existing live bookings get their end (session_date + duration) in the order they were confirmed; one that would
overlap an earlier one of the same mentor keeps no end (so no constraint holds it) and is printed for an admin
to re-date.

Revision ID: 0012
Revises: 0011

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from core.money import Money
from core.timeutil import UTCDateTime

revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LIVE = "('PENDING', 'CONFIRMED')"


def upgrade() -> None:
    op.create_table(
        "mentor_hours",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mentor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Integer(), nullable=False),
        sa.Column("ends", sa.Integer(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_mentor_hours_weekday_range")),
        sa.CheckConstraint(
            "starts >= 0 AND ends <= 1440 AND starts < ends", name=op.f("ck_mentor_hours_minutes_range")
        ),
    )
    op.create_index("ix_mentor_hours_mentor_weekday", "mentor_hours", ["mentor_id", "weekday"])
    op.create_table(
        "mentor_days",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mentor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts", sa.Integer(), nullable=True),
        sa.Column("ends", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(starts IS NULL AND ends IS NULL) OR (starts >= 0 AND ends <= 1440 AND starts < ends)",
            name=op.f("ck_mentor_days_minutes_range"),
        ),
    )
    op.create_index("ix_mentor_days_mentor_day", "mentor_days", ["mentor_id", "day"])
    op.create_table(
        "mentor_rules",
        sa.Column("mentor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("buffer_minutes", sa.Integer(), nullable=True),
        sa.Column("notice_minutes", sa.Integer(), nullable=True),
        sa.Column("horizon_days", sa.Integer(), nullable=True),
        sa.Column("daily_limit", sa.Integer(), nullable=True),
        sa.Column("auto_confirm", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("meeting_link", sa.String(500), nullable=True),
        sa.Column("refund_full_hours", sa.Integer(), nullable=True),
        sa.Column("refund_partial_hours", sa.Integer(), nullable=True),
        sa.Column("refund_partial_percent", sa.Integer(), nullable=True),
    )
    op.create_table(
        "slot_holds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mentor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("student_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_slot_holds_mentor_starts", "slot_holds", ["mentor_id", "starts_at"])
    op.create_index("ix_slot_holds_student_id", "slot_holds", ["student_id"])
    with op.batch_alter_table("mentorship_bookings") as batch:
        batch.add_column(sa.Column("ends_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("meeting_link", sa.String(500), nullable=True))
        batch.add_column(sa.Column("reschedules", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("refunded", Money(), nullable=True))
        batch.add_column(sa.Column("requested_start", UTCDateTime(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_mentorship_bookings_ends_after_start"), "ends_at IS NULL OR ends_at > session_date"
        )
        batch.create_check_constraint(op.f("ck_mentorship_bookings_reschedules_non_negative"), "reschedules >= 0")
        batch.create_index("ix_bookings_mentor_session", ["mentor_id", "session_date"])
    _backfill_ends()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE mentorship_bookings ADD CONSTRAINT ex_bookings_mentor_time EXCLUDE USING gist "
            f"(mentor_id WITH =, tsrange(session_date, ends_at) WITH &&) WHERE (status IN {LIVE} AND ends_at IS NOT NULL)"
        )


def _backfill_ends() -> None:
    from datetime import timedelta

    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, mentor_id, session_date, duration FROM mentorship_bookings "
            f"WHERE status IN {LIVE} AND session_date IS NOT NULL ORDER BY confirmed_at, id"
        )
    ).all()
    kept: dict[int, list] = {}
    for booking_id, mentor_id, start, duration in rows:
        if isinstance(start, str):  # SQLite hands back text
            from datetime import datetime

            start = datetime.fromisoformat(start)
        end = start + timedelta(minutes=duration)
        clash = next((other for other, a, b in kept.get(mentor_id, []) if a < end and start < b), None)
        if clash is not None:
            print(f"booking #{booking_id} overlaps booking #{clash} of the same mentor: re-date it in the panel")
            continue
        kept.setdefault(mentor_id, []).append((booking_id, start, end))
        bind.execute(
            sa.text("UPDATE mentorship_bookings SET ends_at = :end WHERE id = :id"),
            {"end": end.replace(tzinfo=None), "id": booking_id},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE mentorship_bookings DROP CONSTRAINT IF EXISTS ex_bookings_mentor_time")
    with op.batch_alter_table("mentorship_bookings") as batch:
        batch.drop_index("ix_bookings_mentor_session")
        batch.drop_constraint(op.f("ck_mentorship_bookings_reschedules_non_negative"), type_="check")
        batch.drop_constraint(op.f("ck_mentorship_bookings_ends_after_start"), type_="check")
        batch.drop_column("requested_start")
        batch.drop_column("refunded")
        batch.drop_column("reschedules")
        batch.drop_column("meeting_link")
        batch.drop_column("ends_at")
    op.drop_table("slot_holds")
    op.drop_table("mentor_rules")
    op.drop_table("mentor_days")
    op.drop_table("mentor_hours")
