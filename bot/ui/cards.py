"""Texts and buttons of the messages the outbox delivers (and /pending reuses), per kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.format import esc, money, number, signed, status_name, when
from bot.ui.keyboards import RowId
from core.models import NotificationKind
from core.services import calendar
from core.timeutil import utcnow


class AdminTopupCb(CallbackData, prefix="at"):
    action: str  # approve | reject | reject_yes (confirmed despite a matching transfer)
    id: RowId


class AdminBookingCb(CallbackData, prefix="ab"):
    action: str  # confirm | cancel | cancel_yes | skip_notes | complete
    id: RowId


class RateCb(CallbackData, prefix="rate"):
    id: RowId
    stars: int


class RenewCb(CallbackData, prefix="renew"):
    id: RowId


def _markup(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(r) for r in rows])


def topup_buttons(tx_id: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            InlineKeyboardButton(text=_("✅ Approve"), callback_data=AdminTopupCb(action="approve", id=tx_id).pack()),
            InlineKeyboardButton(text=_("❌ Reject"), callback_data=AdminTopupCb(action="reject", id=tx_id).pack()),
        ]
    )


def booking_buttons(booking_id: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            InlineKeyboardButton(
                text=_("✅ Confirm"), callback_data=AdminBookingCb(action="confirm", id=booking_id).pack()
            ),
            InlineKeyboardButton(
                text=_("✖️ Cancel"), callback_data=AdminBookingCb(action="cancel", id=booking_id).pack()
            ),
        ]
    )


def stars_buttons(booking_id: int) -> InlineKeyboardMarkup:
    return _markup(
        [InlineKeyboardButton(text="⭐" * n, callback_data=RateCb(id=booking_id, stars=n).pack()) for n in range(1, 6)][
            :3
        ],
        [InlineKeyboardButton(text="⭐" * n, callback_data=RateCb(id=booking_id, stars=n).pack()) for n in range(4, 6)],
    )


def who(student: str, username: str | None) -> str:
    return esc(student) + (f" (@{esc(username)})" if username else "")


def topup_card(p: dict) -> str:
    card = _(
        "💵 <b>New top-up request #{id}</b>\nStudent: {student}\nAmount: <b>{amount}</b>\n"
        "Sent from: <code>{wallet}</code>\n\nCheck the Vodafone Cash statement, then decide."
    ).format(
        id=number(p["transaction_id"]),
        student=who(p.get("student", ""), p.get("username")),
        amount=money(p["amount"]),
        wallet=esc(p.get("wallet", "")),
    )
    if p.get("reference"):  # the transaction number the student gave: only that transfer matches
        card += "\n" + _("Transaction number given: <code>{reference}</code>").format(reference=esc(p["reference"]))
    return card


def booking_card(p: dict) -> str:
    notes = p.get("notes") or _("(none)")
    return _(
        "📅 <b>New booking #{id}</b>\nStudent: {student}\nMentor: {mentor}\nDuration: {duration} min\n"
        "Paid: <b>{cost}</b>\nNotes: {notes}"
    ).format(
        id=number(p["booking_id"]),
        student=who(p.get("student", ""), p.get("username")),
        mentor=esc(p.get("mentor", "")),
        duration=number(p.get("duration", "")),
        cost=money(p["cost"]),
        notes=esc(notes),
    )


Rendered = tuple[str, InlineKeyboardMarkup | None]
RENDERERS: dict[NotificationKind, Callable[[dict], Rendered]] = {}


def renders(*kinds: NotificationKind):
    """Registers the renderer of these notification kinds (a test checks that every kind has one)."""

    def register(fn: Callable[[dict], Rendered]) -> Callable[[dict], Rendered]:
        for kind in kinds:
            if kind in RENDERERS:
                raise ValueError(f"two renderers for {kind}")
            RENDERERS[kind] = fn
        return fn

    return register


def render(kind: str, p: dict) -> Rendered | None:
    """(text, buttons) for a notification kind, in the current locale; None for an unknown kind."""
    try:
        renderer = RENDERERS[NotificationKind(kind)]
    except (ValueError, KeyError):
        return None
    return renderer(p)


def _decided_mark(status: str) -> str:
    return "✅" if status in ("APPROVED", "CONFIRMED", "COMPLETED") else "❌"


@renders(NotificationKind.ADMIN_TOPUP_DECIDED)
def topup_decided_text(p: dict) -> Rendered:
    """What every admin's copy of a top-up request says once someone decided."""
    status = p.get("status", "")
    return _("💵 Top-up request #{id} ({amount}): {mark} <b>{status}</b> by {by}.").format(
        id=number(p["transaction_id"]),
        amount=money(p.get("amount", "0")),
        mark=_decided_mark(status),
        status=status_name(status),
        by=esc(p.get("by", "?")),
    ), None


@renders(NotificationKind.ADMIN_BOOKING_DECIDED)
def booking_decided_text(p: dict) -> Rendered:
    """What every admin's copy of a booking says once someone decided."""
    status = p.get("status", "")
    return _("📅 Booking #{id}: {mark} <b>{status}</b> by {by}.").format(
        id=number(p["booking_id"]), mark=_decided_mark(status), status=status_name(status), by=esc(p.get("by", "?"))
    ), None


@renders(NotificationKind.TOPUP_APPROVED)
def _topup_approved(p: dict) -> Rendered:
    return _("✅ Your top-up #{id} of <b>{amount}</b> was approved.\n💰 New balance: <b>{balance}</b>").format(
        id=number(p["transaction_id"]), amount=money(p["amount"]), balance=money(p["balance"])
    ), None


@renders(NotificationKind.TOPUP_REJECTED)
def _topup_rejected(p: dict) -> Rendered:
    return _(
        "❌ Your top-up #{id} of <b>{amount}</b> was rejected.\nReason: {reason}\n"
        "If you think this is a mistake, send a new request with the right details."
    ).format(id=number(p["transaction_id"]), amount=money(p["amount"]), reason=esc(p.get("reason"))), None


@renders(NotificationKind.BALANCE_ADJUSTED)
def _balance_adjusted(p: dict) -> Rendered:
    return _(
        "💰 Your balance was adjusted by <b>{amount}</b>.\nReason: {reason}\nNew balance: <b>{balance}</b>"
    ).format(amount=signed(p["amount"]), reason=esc(p.get("reason")), balance=money(p["balance"])), None


def _session_details(head: str, p: dict) -> Rendered:
    return (
        head.format(id=number(p["booking_id"]))
        + "\n"
        + _("When: <b>{date}</b> (Cairo time)\nDuration: {duration} min\nNotes: {notes}").format(
            date=when(p["session_date"]),
            duration=number(p.get("duration", "")),
            notes=esc(p.get("notes") or _("(none)")),
        )
    ), None


def _calendar_button(p: dict) -> InlineKeyboardMarkup | None:
    """Add to Google Calendar, with the meeting link (a message of an older version has no mentor: no button)."""
    if not p.get("mentor"):
        return None
    link = calendar.google_calendar_link(
        int(p["booking_id"]),
        p["mentor"],
        datetime.fromisoformat(p["session_date"]),
        int(p.get("duration") or 60),
        meeting_link=p.get("meeting_link") or None,
        notes=p.get("notes") or None,
    )
    return _markup([InlineKeyboardButton(text=_("📅 Add to Google Calendar"), url=link)])


def _with_calendar(head: str, p: dict) -> Rendered:
    text, _none = _session_details(head, p)
    if p.get("meeting_link"):
        text += "\n" + _("Meeting link: {link}").format(link=esc(p["meeting_link"]))
    return text, _calendar_button(p)


@renders(NotificationKind.BOOKING_CONFIRMED)
def _booking_confirmed(p: dict) -> Rendered:
    return _with_calendar(_("📅 Your mentorship session #{id} is confirmed!"), p)


@renders(NotificationKind.BOOKING_RESCHEDULED)
def _booking_rescheduled(p: dict) -> Rendered:
    return _with_calendar(_("📅 Your mentorship session #{id} was moved."), p)


@renders(NotificationKind.MENTOR_CONFIRMED, NotificationKind.MENTOR_RESCHEDULED)
def _mentor_session(p: dict) -> Rendered:
    return _(
        "🧑‍🏫 Session #{id} is booked with you: <b>{date}</b> (Cairo time), {duration} min.\nNotes: {notes}"
    ).format(
        id=number(p["booking_id"]),
        date=when(p["session_date"]),
        duration=number(p.get("duration", "")),
        notes=esc(p.get("notes") or _("(none)")),
    ), None


@renders(NotificationKind.RESCHEDULE_ASKED)
def _reschedule_asked(p: dict) -> Rendered:
    """To the mentor and the admins: a student asks for another time (decided in the panel)."""
    return _(
        "🔁 Booking #{id}: {student} asks to move the session from {old} to <b>{new}</b> (Cairo time), {duration} min."
    ).format(
        id=number(p["booking_id"]),
        student=esc(p.get("student")),
        old=when(p["from"]),
        new=when(p["to"]),
        duration=number(p.get("duration", "")),
    ), None


@renders(NotificationKind.RESCHEDULE_DECLINED)
def _reschedule_declined(p: dict) -> Rendered:
    return _("🔁 Your session #{id} could not be moved to {asked}: it stays at <b>{date}</b> (Cairo time).").format(
        id=number(p["booking_id"]), asked=when(p["asked"]), date=when(p["session_date"])
    ), None


@renders(NotificationKind.BOOKING_CANCELLED)
def _booking_cancelled(p: dict) -> Rendered:
    text = _(
        "✖️ Your mentorship booking #{id} was cancelled.\nRefunded: <b>{refund}</b>\n💰 New balance: <b>{balance}</b>"
    ).format(id=number(p["booking_id"]), refund=money(p["refund"]), balance=money(p["balance"]))
    if p.get("reason"):
        text += "\n" + _("Reason: {reason}").format(reason=esc(p["reason"]))
    return text, None


@renders(NotificationKind.BOOKING_RATE_REQUEST)
def _rate_request(p: dict) -> Rendered:
    return _("⭐ How was your mentorship session #{id}? Tap to rate it:").format(
        id=number(p["booking_id"])
    ), stars_buttons(int(p["booking_id"]))


def _renew_button(p: dict) -> InlineKeyboardMarkup:
    return _markup([InlineKeyboardButton(text=_("🔄 Renew"), callback_data=RenewCb(id=int(p["platform_id"])).pack())])


@renders(NotificationKind.ENROLLMENT_EXPIRED)
def _enrollment_expired(p: dict) -> Rendered:
    return _("⌛ Your access to <b>{platform}</b> has expired. Renew to keep working on its tasks.").format(
        platform=esc(p.get("platform"))
    ), _renew_button(p)


@renders(NotificationKind.ENROLLMENT_EXPIRING)
def _enrollment_expiring(p: dict) -> Rendered:
    return _("⏳ Your access to <b>{platform}</b> expires on {date}. Renew now to keep it.").format(
        platform=esc(p.get("platform")), date=when(p["expires_at"])
    ), _renew_button(p)


@renders(NotificationKind.REMINDER_SESSION)
def _session_reminder(p: dict) -> Rendered:
    soon = _reminder_lead(int(p.get("hours_before", 24)), p["session_date"])
    other = p.get("mentor") if p.get("role", "student") == "student" else p.get("student")
    return _(
        "⏰ Reminder: your session #{id} with {other} starts {soon}, at <b>{date}</b> (Cairo time), {duration} min."
    ).format(
        id=number(p["booking_id"]),
        other=esc(other),
        soon=soon,
        date=when(p["session_date"]),
        duration=number(p.get("duration", "")),
    ), None


@renders(NotificationKind.BROADCAST)
def _broadcast(p: dict) -> Rendered:
    return "📣 " + esc(p.get("text", "")), None


@renders(NotificationKind.ADMIN_TOPUP_NEW)
def _admin_topup_new(p: dict) -> Rendered:
    return topup_card(p), topup_buttons(int(p["transaction_id"]))


@renders(NotificationKind.ADMIN_BOOKING_NEW)
def _admin_booking_new(p: dict) -> Rendered:
    return booking_card(p), booking_buttons(int(p["booking_id"]))


@renders(NotificationKind.ADMIN_STALE_TOPUP)
def _admin_stale_topup(p: dict) -> Rendered:
    return _("⏳ Top-up request #{id} from {student} ({amount}) has waited {hours} hours.").format(
        id=number(p["transaction_id"]),
        student=esc(p.get("student")),
        amount=money(p["amount"]),
        hours=number(p.get("age_hours", "?")),
    ), topup_buttons(int(p["transaction_id"]))


@renders(NotificationKind.ADMIN_TRANSFER_UNMATCHED)
def _admin_transfer_unmatched(p: dict) -> Rendered:
    sender = esc(p.get("sender") or "?") + (f" ({esc(p['sender_name'])})" if p.get("sender_name") else "")
    return _(
        "💸 <b>Unmatched Vodafone Cash transfer</b>\nTransaction number: <code>{reference}</code>\n"
        "Amount: <b>{amount}</b>\nFrom: {sender}\nReceived: {date}\n\nNo top-up request matched it within "
        "{minutes} minutes. Find its student in the panel under Vodafone Cash transfers."
    ).format(
        reference=esc(p.get("reference")),
        amount=money(p["amount"]),
        sender=sender,
        date=when(p.get("received_at")),
        minutes=number(p.get("window_minutes", "")),
    ), None


@renders(NotificationKind.ADMIN_SESSION_ENDED)
def _admin_session_ended(p: dict) -> Rendered:
    return _("🏁 Session #{id} ({student} with {mentor}, {date}) has ended. Mark it completed?").format(
        id=number(p["booking_id"]),
        student=esc(p.get("student")),
        mentor=esc(p.get("mentor")),
        date=when(p.get("session_date")),
    ), _markup(
        [
            InlineKeyboardButton(
                text=_("🏁 Mark completed"),
                callback_data=AdminBookingCb(action="complete", id=int(p["booking_id"])).pack(),
            )
        ]
    )


@renders(NotificationKind.ADMIN_DAILY_SUMMARY)
def _admin_daily_summary(p: dict) -> Rendered:
    revenue = p.get("revenue") or {}
    approved = p.get("topups_approved") or {}
    pending = p.get("topups_pending") or {}
    return _(
        "📊 <b>Daily summary for {date}</b>\nRevenue: <b>{revenue}</b>\nTop-ups approved: {approved_count} "
        "({approved_amount})\nTop-ups pending: {pending_count} ({pending_amount})\nNew bookings: {bookings}\n"
        "New students: {students}"
    ).format(
        date=esc(p.get("date")),
        revenue=money(Decimal(str(revenue.get("TOTAL", "0")))),
        approved_count=number(approved.get("count", 0)),
        approved_amount=money(str(approved.get("amount", "0"))),
        pending_count=number(pending.get("count", 0)),
        pending_amount=money(str(pending.get("amount", "0"))),
        bookings=number(p.get("bookings", 0)),
        students=number(p.get("new_students", 0)),
    ), None


def _reminder_lead(hours_before: int, session_date: str) -> str:
    """ "in 24 hours" only when it is true: a late reminder (the bot was down) says how long is left."""
    left = round((datetime.fromisoformat(session_date) - utcnow()).total_seconds() / 3600)
    if hours_before == 1 or left <= 1:
        return _("in 1 hour")
    if left >= 23:
        return _("in 24 hours")
    return _("in {hours} hours").format(hours=number(left))
