"""Request and response bodies of the admins' API (/api/admin/*), for its OpenAPI description and to shape
its answers. The seed's fields: top-ups and mentorship in camelCase; analytics keep the service's snake_case
names (as the panel's dashboard reads them). Money and percentages are strings, never floats."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from admin_panel.student_api.schemas import BookingStatusName, MoneyStr, TxStatus
from admin_panel.web.openapi import BodyIn, Camel, CamelIn

DateTimeStr = Annotated[str, Field(json_schema_extra={"format": "date-time"}, examples=["2026-11-26T09:30:00+00:00"])]
DecimalStr = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", examples=["12.5"])]


class Plain(BaseModel):
    """A response whose JSON names are the Python names (analytics)."""

    def dump(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


# --- requests -------------------------------------------------------------------------------------


class TopupListQuery(CamelIn):
    status: Literal["PENDING", "APPROVED", "REJECTED"] | None = Field(None, description="Only this status")
    limit: int = Field(100, ge=1, le=500, description="At most this many, newest first")


class TopupDecisionIn(BodyIn):
    """Approving a request that no received Vodafone Cash transfer matches, or rejecting one that a transfer
    matches, answers 409 CONFIRMATION_REQUIRED unless `confirm` is true (approving then needs a reason)."""

    status: Literal["APPROVED", "REJECTED"]
    admin_notes: str | None = Field(None, max_length=1000, description="Required (the reason) when REJECTED")
    confirm: bool = Field(
        False, description="Decide despite the transfers (none matches an approval, or one matches a rejection)"
    )
    reason: str | None = Field(
        None, max_length=1000, description="The reason for a confirmed decision; adminNotes when absent"
    )


class ConfirmBookingIn(BodyIn):
    session_date: str = Field(
        min_length=1,
        max_length=40,
        description="ISO date-time, e.g. 2026-12-01T18:30; Africa/Cairo when no offset is given; must be in the future",
    )
    admin_notes: str | None = Field(None, max_length=1000, description="Shown to the student (e.g. the meeting link)")


class MentorshipSettingsIn(BodyIn):
    """At least one of the two."""

    hourly_rate: Annotated[
        str | int,
        Field(
            description='The default hourly rate: "300.00" or a whole number',
            json_schema_extra={"anyOf": [{"type": "string", "maxLength": 32}, {"type": "integer"}]},
        ),
    ] = None
    is_available: bool = Field(None, description="Whether students may book now")

    model_config = {**BodyIn.model_config, "json_schema_extra": {"minProperties": 1}}


# --- responses ------------------------------------------------------------------------------------


class CsrfTokenOut(Camel):
    csrf_token: str = Field(description="Send it as X-CSRFToken with this session's PUT requests")


class TopupRequestOut(Camel):
    id: int
    user_id: int
    student: str
    username: str | None
    amount: MoneyStr
    status: TxStatus
    wallet_number: str | None = Field(description="The sender number, masked")
    admin_notes: str | None
    processed_by: str | None
    created_at: DateTimeStr
    decided_at: DateTimeStr | None
    updated_at: DateTimeStr


class TopupRequestList(Camel):
    items: list[TopupRequestOut]


class TopupDecisionOut(Camel):
    id: int
    status: TxStatus
    amount: MoneyStr
    balance: MoneyStr = Field(description="The student's balance after the decision")
    processed_by: str


class ConfirmBookingOut(Camel):
    id: int
    status: BookingStatusName
    session_date: DateTimeStr | None
    admin_notes: str | None


class MentorshipSettingsOut(Camel):
    hourly_rate: MoneyStr
    is_available: bool
    durations: list[int]


class CountAmount(Plain):
    count: int
    amount: MoneyStr


class RevenuePoint(Plain):
    period: str = Field(description="The Cairo day, week or month")
    type: str
    amount: MoneyStr


class FinancialOut(Plain):
    revenue_today: dict[str, MoneyStr] = Field(description="Net revenue by type, REFUNDS and TOTAL")
    revenue_month: dict[str, MoneyStr]
    revenue_all_time: dict[str, MoneyStr]
    topups: dict[str, CountAmount] = Field(description="By status")
    wallet_float: MoneyStr = Field(description="What the students' wallets hold together")
    students: int
    paying_students: int
    arpu: MoneyStr
    lifetime_value: MoneyStr
    by_day: list[RevenuePoint]
    by_week: list[RevenuePoint]
    by_month: list[RevenuePoint]


class PlatformCount(Plain):
    platform: str
    enrollments: int


class PlatformRate(Plain):
    platform: str
    completion_rate: DecimalStr


class WeekCount(Plain):
    week: str
    bookings: int


class MentorStats(Plain):
    mentor_id: int
    name: str
    bookings: int
    completed: int
    utilization_pct: DecimalStr
    average_rating: DecimalStr | None


class EngagementOut(Plain):
    students: int
    active_30d: int
    new_30d: int
    wallet_adopters: int
    wallet_adoption_pct: DecimalStr
    enrollments_per_platform: list[PlatformCount]
    completion_rate_per_platform: list[PlatformRate]
    bookings_by_status: dict[str, int]
    bookings_per_week: list[WeekCount]
    mentors: list[MentorStats]


class PlatformStatsOut(Plain):
    platform_id: int
    name: str
    price: MoneyStr
    is_active: bool
    enrollments: int
    active_enrollments: int
    revenue: MoneyStr
    tasks: int
    completion_rate: DecimalStr = Field(description="% of (enrolled students x tasks) done")


class PlatformStatsList(Plain):
    items: list[PlatformStatsOut]


# --- the success metrics (GET /analytics/metrics) -----------------------------------------------------------------

MonthStr = Annotated[str, Field(examples=["2026-07"], description="A Cairo month, YYYY-MM")]


def _month_param(name: str, description: str):
    """A month in the query: its pattern documented, its check left to the service (which says what is wrong)."""
    return Field(
        None, alias=name, max_length=20, json_schema_extra={"pattern": r"^\d{4}-\d{2}$"}, description=description
    )


class MetricsQuery(CamelIn):
    """Whole Cairo months; the service checks them (a malformed month, a start after the end, an end after this
    month or more than 36 months answer 400 with a sentence)."""

    start: str | None = _month_param("from", "The first month, YYYY-MM; default: 5 months before `to`")
    end: str | None = _month_param("to", "The last month, YYYY-MM; default: this month")


class RevenueMonthOut(Plain):
    month: MonthStr
    revenue: MoneyStr = Field(description="Approved platform purchases (first enrollments and renewals) made in it")
    growth_pct: DecimalStr | None = Field(description="Change on the month before in %; null when that had none")


class PlatformCompletionOut(Plain):
    platform_id: int
    name: str
    tasks: int
    enrolled: int = Field(description="Students who enrolled in the period")
    completed: int = Field(description="Of them, those who have done every task")
    rate_pct: DecimalStr | None


class BookingMonthOut(Plain):
    month: MonthStr
    by_status: dict[BookingStatusName, int] = Field(description="Bookings made in the month, by their status now")
    total: int


class MentorUseOut(Plain):
    mentor_id: int
    name: str
    booked_minutes: int = Field(description="Confirmed or held sessions dated in the period (no availability yet)")
    booked_hours: DecimalStr
    completed: int = Field(description="Sessions held, dated in the period")
    ratings: int
    average_rating: DecimalStr | None


class AdoptionMonthOut(Plain):
    month: MonthStr
    students: int = Field(description="Registered by the end of the month")
    active: int = Field(description="Of them, with a top-up request, purchase or session payment made in the month")
    share_pct: DecimalStr | None


class CohortValueOut(Plain):
    month: MonthStr = Field(description="The month the students registered in")
    students: int
    net_paid: MoneyStr = Field(description="Paid to date for platforms and sessions, less refunds")
    value: MoneyStr | None = Field(description="net_paid per student")


class MetricsOut(Plain):
    start: MonthStr = Field(alias="from")
    end: MonthStr = Field(alias="to")
    months: list[MonthStr]
    revenue: list[RevenueMonthOut]
    revenue_total: MoneyStr
    completion: list[PlatformCompletionOut]
    completion_enrolled: int
    completion_completed: int
    completion_rate_pct: DecimalStr | None
    bookings: list[BookingMonthOut]
    bookings_total: int
    mentors: list[MentorUseOut]
    booked_hours: DecimalStr
    sessions_completed: int
    ratings: int
    average_rating: DecimalStr | None
    adoption: list[AdoptionMonthOut]
    students: int = Field(description="Registered, to date")
    paying_students: int
    net_paid: MoneyStr = Field(description="To date, net of refunds")
    lifetime_value: MoneyStr | None = Field(description="net_paid per registered student")
    paying_lifetime_value: MoneyStr | None = Field(description="net_paid per paying student")
    cohorts: list[CohortValueOut]
