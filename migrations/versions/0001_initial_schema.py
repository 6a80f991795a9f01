"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 14:55:35.401047

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import core.money
import core.timeutil

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "fsm_states",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=200), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_fsm_states")),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_lookup", ["username", "address", "created_at"], unique=False)

    op.create_table(
        "platforms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", core.money.Money(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("access_days", sa.Integer(), nullable=True),
        sa.Column("created_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.CheckConstraint("access_days IS NULL OR access_days > 0", name=op.f("ck_platforms_access_days_positive")),
        sa.CheckConstraint("price IS NULL OR price >= 0", name=op.f("ck_platforms_price_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platforms")),
        sa.UniqueConstraint("name", name=op.f("uq_platforms_name")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("balance", core.money.Money(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_mentor", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("mentor_bio", sa.Text(), nullable=True),
        sa.Column("mentor_rate", core.money.Money(), nullable=True),
        sa.Column("mentor_available", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("is_blocked", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("bot_blocked_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("created_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_users_balance_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_users_telegram_id")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_last_seen_at"), ["last_seen_at"], unique=False)

    op.create_table(
        "admins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum("owner", "finance", "mentor", name="admin_role", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("mentor_user_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("created_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mentor_user_id"], ["users.id"], name=op.f("fk_admins_mentor_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admins")),
        sa.UniqueConstraint("username", name=op.f("uq_admins_username")),
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=32), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_broadcasts_platform_id_platforms"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("expires_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("expiry_notice_for", core.timeutil.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_enrollments_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_enrollments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
        sa.UniqueConstraint("user_id", "platform_id", name=op.f("uq_enrollments_user_id")),
    )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrollments_enrolled_at"), ["enrolled_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrollments_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrollments_platform_id"), ["platform_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrollments_user_id"), ["user_id"], unique=False)

    op.create_table(
        "mentorship_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("session_date", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("total_cost", core.money.Money(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING", "CONFIRMED", "COMPLETED", "CANCELLED", name="booking_status", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("student_notes", sa.Text(), nullable=True),
        sa.Column("admin_notes", sa.Text(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("processed_by", sa.String(length=120), nullable=True),
        sa.Column("reminder_24h_for", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("reminder_1h_for", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("completion_reminder_for", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("created_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("completed_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.CheckConstraint("duration > 0", name=op.f("ck_mentorship_bookings_duration_positive")),
        sa.CheckConstraint(
            "rating IS NULL OR (rating BETWEEN 1 AND 5)", name=op.f("ck_mentorship_bookings_rating_range")
        ),
        sa.CheckConstraint("total_cost >= 0", name=op.f("ck_mentorship_bookings_cost_non_negative")),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["users.id"], name=op.f("fk_mentorship_bookings_mentor_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_mentorship_bookings_student_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentorship_bookings")),
    )
    with op.batch_alter_table("mentorship_bookings", schema=None) as batch_op:
        batch_op.create_index("ix_bookings_status_session", ["status", "session_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentorship_bookings_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentorship_bookings_mentor_id"), ["mentor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentorship_bookings_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentorship_bookings_student_id"), ["student_id"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_tasks_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("created_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["admin_id"], ["admins.id"], name=op.f("fk_audit_log_admin_id_admins"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_admin_id"), ["admin_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_created_at"), ["created_at"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("dedupe_key", sa.String(length=160), nullable=True),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("PENDING", "SENDING", "SENT", "FAILED", name="notification_status", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("sent_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_notifications_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_broadcast_id"), ["broadcast_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_notifications_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_subject"), ["subject"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_user_id"), ["user_id"], unique=False)

    op.create_table(
        "task_completions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("completed_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_completions_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_task_completions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_completions")),
        sa.UniqueConstraint("user_id", "task_id", name=op.f("uq_task_completions_user_id")),
    )
    with op.batch_alter_table("task_completions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_completions_task_id"), ["task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_completions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "SIGNUP_BONUS",
                "TOP_UP",
                "PLATFORM_PURCHASE",
                "MENTORSHIP_PAYMENT",
                "REFUND",
                "ADJUSTMENT",
                name="transaction_type",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("amount", core.money.Money(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column(
            "status",
            sa.Enum("PENDING", "APPROVED", "REJECTED", name="transaction_status", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("wallet_number", sa.Text(), nullable=True),
        sa.Column("wallet_number_masked", sa.String(length=20), nullable=True),
        sa.Column("admin_id", sa.Integer(), nullable=True),
        sa.Column("processed_by", sa.String(length=120), nullable=True),
        sa.Column("admin_notes", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("balance_after", core.money.Money(), nullable=True),
        sa.Column("stale_alert_sent_at", core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("created_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["admin_id"], ["admins.id"], name=op.f("fk_transactions_admin_id_admins"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_transactions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint("user_id", "idempotency_key", name=op.f("uq_transactions_user_id")),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transactions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_transactions_reference"), ["reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_transactions_status"), ["status"], unique=False)
        batch_op.create_index("ix_transactions_status_type_created", ["status", "type", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_transactions_type"), ["type"], unique=False)
        batch_op.create_index("ix_transactions_user_created", ["user_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_transactions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transactions_user_id"))
        batch_op.drop_index("ix_transactions_user_created")
        batch_op.drop_index(batch_op.f("ix_transactions_type"))
        batch_op.drop_index("ix_transactions_status_type_created")
        batch_op.drop_index(batch_op.f("ix_transactions_status"))
        batch_op.drop_index(batch_op.f("ix_transactions_reference"))
        batch_op.drop_index(batch_op.f("ix_transactions_created_at"))

    op.drop_table("transactions")
    with op.batch_alter_table("task_completions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_completions_user_id"))
        batch_op.drop_index(batch_op.f("ix_task_completions_task_id"))

    op.drop_table("task_completions")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_user_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_subject"))
        batch_op.drop_index("ix_notifications_due")
        batch_op.drop_index(batch_op.f("ix_notifications_created_at"))
        batch_op.drop_index(batch_op.f("ix_notifications_broadcast_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_created_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_admin_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_platform_id"))

    op.drop_table("tasks")
    with op.batch_alter_table("mentorship_bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentorship_bookings_student_id"))
        batch_op.drop_index(batch_op.f("ix_mentorship_bookings_status"))
        batch_op.drop_index(batch_op.f("ix_mentorship_bookings_mentor_id"))
        batch_op.drop_index(batch_op.f("ix_mentorship_bookings_created_at"))
        batch_op.drop_index("ix_bookings_status_session")

    op.drop_table("mentorship_bookings")
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrollments_user_id"))
        batch_op.drop_index(batch_op.f("ix_enrollments_platform_id"))
        batch_op.drop_index(batch_op.f("ix_enrollments_expires_at"))
        batch_op.drop_index(batch_op.f("ix_enrollments_enrolled_at"))

    op.drop_table("enrollments")
    op.drop_table("broadcasts")
    op.drop_table("admins")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_last_seen_at"))
        batch_op.drop_index(batch_op.f("ix_users_created_at"))

    op.drop_table("users")
    op.drop_table("settings")
    op.drop_table("platforms")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_lookup")

    op.drop_table("login_attempts")
    op.drop_table("fsm_states")
