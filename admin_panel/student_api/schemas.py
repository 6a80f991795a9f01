"""Request and response bodies of the student API (the seed's field names; money as "123.45" strings)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from admin_panel.web.openapi import MAX_ID, BodyIn, Camel, CamelIn
from core.errors import InvalidInput
from core.models import TransactionStatus, TransactionType

MoneyStr = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", max_length=20, examples=["500.00"])]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
TxType = Literal["SIGNUP_BONUS", "TOP_UP", "PLATFORM_PURCHASE", "MENTORSHIP_PAYMENT", "REFUND", "ADJUSTMENT"]
TxStatus = Literal["PENDING", "APPROVED", "REJECTED"]
BookingStatusName = Literal["PENDING", "CONFIRMED", "COMPLETED", "CANCELLED"]


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


# --- requests -------------------------------------------------------------------------------------


class PageQuery(CamelIn):
    page: int = Field(1, ge=1, le=100_000)
    limit: int = Field(10, ge=1, le=50)


class HistoryQuery(PageQuery):
    type: TransactionType | None = Field(None, description="Only rows of this type")
    status: TransactionStatus | None = Field(None, description="Only rows in this state")
    month: str | None = Field(
        None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="Only rows of this Cairo month, YYYY-MM"
    )

    def month_tuple(self) -> tuple[int, int] | None:
        return (int(self.month[:4]), int(self.month[5:])) if self.month else None


class PlatformsQuery(CamelIn):
    include_price: bool = Field(True, description="false leaves the price out")


class TopupIn(BodyIn):
    amount: Annotated[
        Any,
        Field(
            description='The amount sent: a string ("150", "150.50", "١٥٠") or a number '
            "with at most 2 decimals; read exactly, never as a float.",
            json_schema_extra={"anyOf": [{"type": "string", "maxLength": 32}, {"type": "number"}]},
        ),
    ]
    wallet_number: str = Field(min_length=1, max_length=40, description="The Vodafone Cash number it was sent from")
    description: str | None = Field(None, max_length=200)
    transaction_number: str | None = Field(
        None,
        max_length=40,
        examples=["022768543034"],
        description='Optional: the transaction number ("رقم العملية", 6 to 20 digits) in the SMS the student got '
        "after sending; a request with one matches only the transfer with that number. Blank means none.",
    )

    @field_validator("amount")
    @classmethod
    def _exact(cls, value):
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise ValueError("amount must be a string or a number")
        if isinstance(value, str) and len(value) > 32:
            raise ValueError("amount is too long")
        if isinstance(value, int):
            return Decimal(value)
        return value


class EnrollIn(BodyIn):
    platform_id: Id
    expected_price: MoneyStr | None = Field(None, description="The price the student saw; refused if it changed")
    renew: bool = False


SlotStart = Annotated[
    str,
    Field(
        max_length=40,
        description="A slot's start from GET /api/mentorship/mentors/{mentor_id}/slots (ISO-8601 with its offset)",
        json_schema_extra={"format": "date-time"},
        examples=["2026-12-10T18:00:00+02:00"],
    ),
]


def parse_slot_start(value: str | None) -> datetime | None:
    """An ISO-8601 instant with its offset (a time without one is refused: whose 18:00 would it be?)."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise InvalidInput("slotStart must be ISO-8601 with an offset", field="slotStart")
    return when


class BookIn(BodyIn):
    duration: int = Field(ge=1, le=1440, description="Minutes, one of the offered durations")
    student_notes: str | None = Field(None, max_length=1000)
    mentor_id: Id | None = Field(None, description="Required when more than one mentor is available")
    expected_cost: MoneyStr | None = None
    slot_start: SlotStart | None = Field(
        None, description="Required for a mentor who is booked by slot (bookedBySlot); absent for the others"
    )


class SlotIn(BodyIn):
    slot_start: SlotStart


class HoldIn(BodyIn):
    duration: int = Field(ge=1, le=1440)
    slot_start: SlotStart


class SlotsQuery(CamelIn):
    duration: int = Field(ge=15, le=480, description="Minutes, one of the offered durations")
    from_day: date | None = Field(None, alias="from", description="The first Cairo day, YYYY-MM-DD (default today)")
    days: int = Field(7, ge=1, le=31)


class FeedbackIn(BodyIn):
    rating: int = Field(ge=1, le=5)
    feedback: str | None = Field(None, max_length=1000)


class Empty(BodyIn):
    pass


# --- responses ------------------------------------------------------------------------------------


class Me(Camel):
    id: int
    telegram_id: int | None
    full_name: str
    username: str | None
    language: Literal["en", "ar"]
    balance: MoneyStr
    currency: str


class Balance(Camel):
    balance: MoneyStr
    currency: str


class TransactionOut(Camel):
    id: int
    type: TxType
    amount: MoneyStr
    description: str
    details: str | None = Field(
        None,
        description="What it was for, in the student's language (the platform, the mentor and session, the "
        "reason of an adjustment); null when the type says it all",
    )
    status: TxStatus
    wallet_number: str | None = Field(description="The sender number, masked")
    reference: str | None
    balance_after: MoneyStr | None
    admin_notes: str | None
    created_at: datetime
    decided_at: datetime | None


class Pagination(Camel):
    page: int
    limit: int
    total: int
    pages: int


class TransactionPage(Camel):
    transactions: list[TransactionOut]
    pagination: Pagination


class TopupInfo(Camel):
    wallet_number: str = Field(description="The Vodafone Cash number to send money to")
    min_amount: MoneyStr
    max_amount: MoneyStr
    currency: str
    pending: list[TransactionOut]


class TopupOut(Camel):
    id: int
    amount: MoneyStr
    status: TxStatus = Field(
        description="APPROVED at once when the transfer had already arrived and matches for "
        "certain (and the owner switched auto-approval on)"
    )
    wallet_number: str
    transaction_number: str | None = Field(None, description="The transaction number given, normalised to digits")
    created_at: datetime
    balance: MoneyStr


class PlatformOut(Camel):
    id: int
    name: str
    description: str
    price: MoneyStr | None = Field(description="Absent (null) when includePrice=false")
    is_free: bool
    is_active: bool
    access_days: int | None
    task_count: int
    enrolled: bool
    expires_at: datetime | None
    expired: bool
    can_renew: bool = Field(description="Offer Renew: expired, or a timed access ending within 14 days")


class PlatformList(Camel):
    platforms: list[PlatformOut]


class EnrollOut(Camel):
    id: int
    platform_id: int
    platform_name: str
    price: MoneyStr
    balance: MoneyStr
    expires_at: datetime | None
    renewed: bool


class Progress(Camel):
    done: int
    total: int


class EnrollmentOut(Camel):
    id: int
    platform_id: int
    platform_name: str
    enrolled_at: datetime
    expires_at: datetime | None
    is_active: bool
    progress: Progress


class EnrollmentList(Camel):
    enrollments: list[EnrollmentOut]


class EnrollmentCheck(Camel):
    platform_id: int
    enrolled: bool
    expires_at: datetime | None
    expired: bool


class TaskOut(Camel):
    id: int
    platform_id: int
    title: str
    body: str
    position: int
    done: bool


class TaskList(Camel):
    platform_id: int
    tasks: list[TaskOut]
    progress: Progress


class TaskDone(Camel):
    task_id: int
    platform_id: int
    progress: Progress


class Price(Camel):
    duration: int
    price: MoneyStr


class MentorOut(Camel):
    id: int
    name: str
    bio: str
    hourly_rate: MoneyStr
    is_available: bool
    average_rating: str | None
    ratings: int
    prices: list[Price]
    booked_by_slot: bool = Field(False, description="Has weekly hours: book one of its free slots (slotStart)")


class MentorshipInfo(Camel):
    is_available: bool
    hourly_rate: MoneyStr
    durations: list[int]
    currency: str
    mentors: list[MentorOut]


class BookingOut(Camel):
    id: int
    student_id: int
    mentor_id: int
    mentor_name: str
    session_date: datetime | None
    duration: int
    total_cost: MoneyStr
    status: BookingStatusName
    student_notes: str | None
    admin_notes: str | None
    feedback: str | None
    rating: int | None
    created_at: datetime
    ends_at: datetime | None = None
    meeting_link: str | None = None
    requested_start: datetime | None = Field(None, description="A move asked for, waiting for the mentor")
    reschedules: int = 0
    refunded: MoneyStr | None = Field(None, description="What its cancellation gave back")
    refund_if_cancelled: MoneyStr | None = Field(
        None, description="What cancelling now would give back under the policy (live bookings)"
    )
    calendar_url: str | None = Field(None, description="The session as an .ics file (a link that needs no header)")
    google_calendar_url: str | None = Field(None, description="Add the session to Google Calendar")


class SlotOut(Camel):
    start: datetime
    end: datetime


class SlotList(Camel):
    mentor_id: int
    duration: int
    slots: list[SlotOut] = Field(description="Free slots, in Cairo time (with its offset), earliest first")


class HoldOut(Camel):
    start: datetime
    end: datetime
    held_until: datetime


class PolicyOut(Camel):
    full_refund_hours: int = Field(description="A cancellation at least this many hours ahead refunds in full")
    partial_refund_hours: int = Field(description="... at least this many hours ahead refunds partialPercent")
    partial_percent: int
    max_reschedules: int = Field(description="Moves a student may ask per booking (up to fullRefundHours ahead)")
    text: str = Field(description="The policy in the student's language")


class BookingList(Camel):
    bookings: list[BookingOut]


class BookOut(Camel):
    booking: BookingOut
    balance: MoneyStr


class CancelOut(Camel):
    booking: BookingOut
    refund: MoneyStr
    refund_rule: Literal["full", "partial", "none"] = Field(description="Which part of the policy gave the refund")
    balance: MoneyStr
