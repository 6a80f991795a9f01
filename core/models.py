"""The schema: every table, with money and state constraints enforced by the database."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.money import Money
from core.timeutil import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TransactionType(str, enum.Enum):
    SIGNUP_BONUS = "SIGNUP_BONUS"
    TOP_UP = "TOP_UP"
    PLATFORM_PURCHASE = "PLATFORM_PURCHASE"
    MENTORSHIP_PAYMENT = "MENTORSHIP_PAYMENT"
    REFUND = "REFUND"
    ADJUSTMENT = "ADJUSTMENT"


class TransactionStatus(str, enum.Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class BookingStatus(str, enum.Enum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class AdminRole(str, enum.Enum):
    OWNER = "owner"
    FINANCE = "finance"
    MENTOR = "mentor"


class NotificationStatus(str, enum.Enum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class NotificationKind(enum.StrEnum):
    """What an outbox message is about; the bot has one renderer per kind (a test checks every kind has one)."""

    TOPUP_APPROVED = "topup.approved"
    TOPUP_REJECTED = "topup.rejected"
    BALANCE_ADJUSTED = "balance.adjusted"
    BOOKING_CONFIRMED = "booking.confirmed"
    BOOKING_RESCHEDULED = "booking.rescheduled"
    MENTOR_CONFIRMED = "mentor.confirmed"
    MENTOR_RESCHEDULED = "mentor.rescheduled"
    BOOKING_CANCELLED = "booking.cancelled"
    BOOKING_RATE_REQUEST = "booking.rate_request"
    ENROLLMENT_EXPIRED = "enrollment.expired"
    ENROLLMENT_EXPIRING = "enrollment.expiring"
    REMINDER_SESSION = "reminder.session"
    BROADCAST = "broadcast"
    ADMIN_TOPUP_NEW = "admin.topup_new"
    ADMIN_BOOKING_NEW = "admin.booking_new"
    ADMIN_STALE_TOPUP = "admin.stale_topup"
    ADMIN_SESSION_ENDED = "admin.session_ended"
    ADMIN_DAILY_SUMMARY = "admin.daily_summary"
    ADMIN_TOPUP_DECIDED = "admin.topup_decided"
    ADMIN_BOOKING_DECIDED = "admin.booking_decided"
    ADMIN_TRANSFER_UNMATCHED = "admin.transfer_unmatched"
    RESCHEDULE_ASKED = "reschedule.asked"  # to the mentor and the admins
    RESCHEDULE_DECLINED = "reschedule.declined"  # to the student


def _enum(cls, name):
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=24,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
    )


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_non_negative"),
        # the analytics count students (telegram_id set) joined / seen since a date from these alone
        Index("ix_users_created_telegram", "created_at", "telegram_id"),
        Index("ix_users_last_seen_telegram", "last_seen_at", "telegram_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    username: Mapped[str | None] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="ar")
    balance: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default=text("0"))
    is_mentor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    mentor_bio: Mapped[str | None] = mapped_column(Text)
    mentor_rate: Mapped[Decimal | None] = mapped_column(Money)
    mentor_available: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    bot_blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __str__(self) -> str:
        handle = f" @{self.username}" if self.username else ""
        return f"{self.full_name or 'User'}{handle} (#{self.id})"


class Platform(Base):
    __tablename__ = "platforms"
    __table_args__ = (
        CheckConstraint("price IS NULL OR price >= 0", name="price_non_negative"),
        CheckConstraint("access_days IS NULL OR access_days > 0", name="access_days_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal | None] = mapped_column(Money)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    access_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tasks: Mapped[list[Task]] = relationship(
        back_populates="platform", order_by="Task.position", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    platform: Mapped[Platform] = relationship(back_populates="tasks")

    def __str__(self) -> str:
        return self.title


class TaskCompletion(Base):
    __tablename__ = "task_completions"
    __table_args__ = (UniqueConstraint("user_id", "task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("user_id", "platform_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    expiry_notice_for: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    platform: Mapped[Platform] = relationship()


class Admin(Base):
    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[AdminRole] = mapped_column(_enum(AdminRole, "admin_role"), default=AdminRole.OWNER)
    mentor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's identity: bumped by logout, a password or role change and deactivation,
    # which ends every session (and cookie) issued before.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The panel's language for this admin ("en" or "ar", core.words.LANGUAGES); chosen on "My profile".
    language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")

    def __str__(self) -> str:
        return self.username


class ApiToken(Base):
    """A bearer token for /api/admin/*: acts as its admin, only while that admin keeps the token's role."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admins.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[AdminRole] = mapped_column(_enum(AdminRole, "api_token_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the secret
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists to tell tokens apart
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    admin: Mapped[Admin] = relationship()


class Transaction(Base):
    """The ledger. Approved rows are immutable; balance == sum(amount of APPROVED rows)."""

    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_transactions_status_type_created", "status", "type", "created_at"),
        Index("ix_transactions_user_created", "user_id", "created_at"),
        Index("ix_transactions_type_status_decided", "type", "status", "decided_at"),
        # Covering indexes for the panel's sums and counts (analytics): answered from the index alone,
        # without visiting a million table rows.
        Index("ix_transactions_totals_created", "type", "status", "created_at", "amount", "user_id"),
        Index("ix_transactions_totals_decided", "status", "decided_at", "type", "amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    type: Mapped[TransactionType] = mapped_column(_enum(TransactionType, "transaction_type"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[TransactionStatus] = mapped_column(
        _enum(TransactionStatus, "transaction_status"), default=TransactionStatus.PENDING, index=True
    )
    wallet_number: Mapped[str | None] = mapped_column(Text)  # Fernet ciphertext
    wallet_number_masked: Mapped[str | None] = mapped_column(String(20))
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("admins.id", ondelete="SET NULL"))
    processed_by: Mapped[str | None] = mapped_column(String(120))
    admin_notes: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(120))
    reference: Mapped[str | None] = mapped_column(String(64), index=True)
    balance_after: Mapped[Decimal | None] = mapped_column(Money)
    stale_alert_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When the money moved (or a top-up was rejected): the `now` of the service that decided, never
    # moved by a later change of the row. NULL while a top-up is pending. `updated_at` is bookkeeping.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Reconciliation (a top-up): a keyed hash of the sender number, so transfers can be matched
    # without storing the number in plain text; the Vodafone Cash transaction number, when given.
    wallet_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    transfer_reference: Mapped[str | None] = mapped_column(String(32), index=True)

    user: Mapped[User] = relationship()
    admin: Mapped[Admin | None] = relationship()


class Transfer(Base):
    """A Vodafone Cash transfer received by the wallet (from an SMS, a paste or a statement), once per number.

    `transaction_id` is the top-up it settled: UNIQUE, and set once by a conditional UPDATE, so a
    transfer pays for at most one request.
    """

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_transfers_sender_received", "sender_hash", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    sender_hash: Mapped[str | None] = mapped_column(String(64))
    sender_number: Mapped[str | None] = mapped_column(Text)  # Fernet ciphertext
    sender_masked: Mapped[str | None] = mapped_column(String(20))
    sender_name: Mapped[str | None] = mapped_column(String(120))
    wallet_balance: Mapped[Decimal | None] = mapped_column(Money)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    source: Mapped[str] = mapped_column(String(16))  # sms | paste | statement | cli
    raw_text: Mapped[str | None] = mapped_column(Text)  # Fernet ciphertext of the SMS (evidence)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id", ondelete="SET NULL"), unique=True)
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    matched_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    transaction: Mapped[Transaction | None] = relationship()


class MentorshipBooking(Base):
    __tablename__ = "mentorship_bookings"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating_range"),
        CheckConstraint("duration > 0", name="duration_positive"),
        CheckConstraint("total_cost >= 0", name="cost_non_negative"),
        Index("ix_bookings_status_session", "status", "session_date"),
        Index("ix_bookings_mentor_session", "mentor_id", "session_date"),
        CheckConstraint("ends_at IS NULL OR ends_at > session_date", name="ends_after_start"),
        CheckConstraint("reschedules >= 0", name="reschedules_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration: Mapped[int] = mapped_column(Integer, default=60)
    total_cost: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[BookingStatus] = mapped_column(
        _enum(BookingStatus, "booking_status"), default=BookingStatus.PENDING, index=True
    )
    student_notes: Mapped[str | None] = mapped_column(Text)
    admin_notes: Mapped[str | None] = mapped_column(Text)
    feedback: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    processed_by: Mapped[str | None] = mapped_column(String(120))
    reminder_24h_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_1h_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completion_reminder_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # a booked slot's end (session_date + duration); with session_date it is the range no other live booking
    # of the mentor may overlap (an exclusion constraint on PostgreSQL, the booking transaction on SQLite)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    meeting_link: Mapped[str | None] = mapped_column(String(500))
    reschedules: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    requested_start: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a move the student asked for
    refunded: Mapped[Decimal | None] = mapped_column(Money)  # what a cancellation gave back

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id])


class MentorHours(Base):
    """A mentor's weekly hours: one range of one weekday, in Cairo wall-clock minutes (several a day allowed)."""

    __tablename__ = "mentor_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("starts >= 0 AND ends <= 1440 AND starts < ends", name="minutes_range"),
        Index("ix_mentor_hours_mentor_weekday", "mentor_id", "weekday"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday ... 6 Sunday (date.weekday())
    starts: Mapped[int] = mapped_column(Integer)  # minutes after Cairo midnight
    ends: Mapped[int] = mapped_column(Integer)


class MentorDay(Base):
    """A date that replaces the weekly hours: a day off (no ranges: starts and ends NULL) or that day's own
    ranges (one row each)."""

    __tablename__ = "mentor_days"
    __table_args__ = (
        CheckConstraint(
            "(starts IS NULL AND ends IS NULL) OR (starts >= 0 AND ends <= 1440 AND starts < ends)",
            name="minutes_range",
        ),
        Index("ix_mentor_days_mentor_day", "mentor_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    starts: Mapped[int | None] = mapped_column(Integer)
    ends: Mapped[int | None] = mapped_column(Integer)


class MentorRules(Base):
    """A mentor's booking rules; NULL takes the business setting of the same name."""

    __tablename__ = "mentor_rules"

    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    buffer_minutes: Mapped[int | None] = mapped_column(Integer)
    notice_minutes: Mapped[int | None] = mapped_column(Integer)
    horizon_days: Mapped[int | None] = mapped_column(Integer)
    daily_limit: Mapped[int | None] = mapped_column(Integer)  # sessions a day; NULL: no limit
    auto_confirm: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    meeting_link: Mapped[str | None] = mapped_column(String(500))
    refund_full_hours: Mapped[int | None] = mapped_column(Integer)
    refund_partial_hours: Mapped[int | None] = mapped_column(Integer)
    refund_partial_percent: Mapped[int | None] = mapped_column(Integer)


class SlotHold(Base):
    """A slot a student picked, kept from others for a few minutes while they confirm."""

    __tablename__ = "slot_holds"
    __table_args__ = (Index("ix_slot_holds_mentor_starts", "mentor_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("admins.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text)  # JSON
    after: Mapped[str | None] = mapped_column(Text)  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(120))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """The outbox: written in the same transaction as the change, delivered by the bot."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    audience: Mapped[str] = mapped_column(String(16), default="user")  # user | admins
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    subject: Mapped[str | None] = mapped_column(String(64), index=True)  # e.g. topup:12
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True)
    status: Mapped[NotificationStatus] = mapped_column(
        _enum(NotificationStatus, "notification_status"), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class FSMRecord(Base):
    """aiogram FSM state and data, for the embedded mode (no Redis)."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_lookup", "username", "address", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyRecord(Base):
    """A student API request made with an Idempotency-Key, and the response to replay on a retry."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(120))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and body
    status_code: Mapped[int | None] = mapped_column(Integer)  # NULL while the request is in flight
    response: Mapped[str | None] = mapped_column(Text)  # JSON body
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LedgerDay(Base):
    """Analytics rollup: decided ledger rows counted and summed per Cairo day (core/services/analytics.py).

    Holds exactly the rows decided before `AnalyticsRollup.until` (moved forward every few minutes, to
    ROLLUP_GRACE ago); a decided row never changes, so these sums never change either. Rows decided
    since, and pending ones, are read live. Filled by the scheduler job `jobs.roll_up_analytics` (and the
    0007 migration for existing data), adding to a day's row; the money paths do not write here."""

    __tablename__ = "ledger_days"
    __table_args__ = (
        UniqueConstraint("decided_day", "day", "type", "status", "platform_id"),
        Index("ix_ledger_days_day", "day", "type", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)  # Cairo calendar day of created_at
    decided_day: Mapped[date] = mapped_column(Date)  # Cairo calendar day of decided_at
    type: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(24))
    platform_id: Mapped[int] = mapped_column(Integer, default=0)  # a purchase's platform (its enrollment's); else 0
    count: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)  # piastres


class LedgerUserMark(Base):
    """Analytics rollup: students with a ledger row of a kind decided before `AnalyticsRollup.until`
    ('wallet': any row but the signup bonus; 'paid': an approved purchase or mentorship payment), so
    distinct-student counts need not scan the ledger."""

    __tablename__ = "ledger_user_marks"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class LedgerActiveMonth(Base):
    """Analytics rollup: students who started a ledger row themselves (a top-up request, a purchase, a booking
    payment) in a Cairo month of creation, of the rows decided before `AnalyticsRollup.until` (wallet adoption
    per month, without a distinct count over the ledger)."""

    __tablename__ = "ledger_active_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the Cairo month
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class LedgerActiveCount(Base):
    """Analytics rollup: how many students ledger_active_months holds for each month (kept with it by the same
    fill, so a year's adoption reads twelve rows, not every student's mark)."""

    __tablename__ = "ledger_active_counts"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    students: Mapped[int] = mapped_column(Integer)


class LedgerCohort(Base):
    """Analytics rollup: net piastres paid (purchases and mentorship, less refunds) by the students who registered
    in a Cairo month, of the approved rows decided before `AnalyticsRollup.until` (lifetime value per cohort)."""

    __tablename__ = "ledger_cohorts"

    cohort: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the Cairo month
    paid: Mapped[int] = mapped_column(BigInteger)  # piastres, positive: money the students paid


class AnalyticsRollup(Base):
    """How far the rollups go: every ledger row decided before `until` is in ledger_days, ledger_user_marks,
    ledger_active_months (and its counts) and ledger_cohorts."""

    __tablename__ = "analytics_rollups"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProcessStatus(Base):
    """What a long-running process last said of itself (the bot: starting, running, unreachable, stopped), for the
    panel's dashboard and /readyz: `since` when it entered the state, `seen_at` its last report (a heartbeat)."""

    __tablename__ = "process_status"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(500))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
