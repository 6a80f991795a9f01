"""/mentors and /book: mentor cards, duration with price, (a mentor with hours) a day and one of its free times,
optional notes, confirmation with the time, the price, the policy and the balance after, receipt."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.ui.errors import BOT_VOICE, error_text
from bot.ui.format import clip, clock, day_label, esc, money, money_value, number, status_name, when, with_balance
from bot.ui.keyboards import BTN_MENTORS, MenuButton, RowId, topup_button
from bot.ui.webapp import web_app_rows
from core.config import Settings
from core.db import BriefAsyncSession
from core.errors import InsufficientFunds, InvalidInput, SlotTaken, SlotUnavailable
from core.models import BookingStatus
from core.money import ZERO
from core.services import availability, mentorship, policy
from core.services.mentorship import MentorInfo
from core.services.students import UserInfo
from core.text import check_text
from core.timeutil import CAIRO, utcnow
from core.words.booking import policy_text


class MentorCb(CallbackData, prefix="m"):
    id: RowId


class DurationCb(CallbackData, prefix="md"):
    mentor: RowId
    minutes: int
    cost: str


class BookCb(CallbackData, prefix="bk"):
    action: str  # skip | confirm | cancel


class DaysCb(CallbackData, prefix="mdays"):
    """A week of a mentor's days with free times, from `start` (YYYY-MM-DD, Cairo)."""

    start: str


class DayCb(CallbackData, prefix="mday"):
    day: str  # YYYY-MM-DD, Cairo


class SlotCb(CallbackData, prefix="mslot"):
    at: int  # the slot's start, Unix seconds


class BookingStates(StatesGroup):
    slot = State()
    notes = State()
    confirm = State()


DAYS_SHOWN = 7


def mentor_card(m: MentorInfo) -> str:
    rating = (
        _("⭐ {avg} ({count} ratings)").format(avg=number(m.average_rating), count=number(m.ratings))
        if m.average_rating is not None
        else _("No ratings yet")
    )
    status = _("🟢 Available") if m.available else _("🔴 Not available now")
    return _("🧑‍🏫 <b>{name}</b>\n{bio}\nRate: {rate} per hour · {rating} · {status}").format(
        name=esc(m.name), bio=esc(clip(m.bio, 300)), rate=money(m.rate), rating=rating, status=status
    )


async def show_mentors(
    message: Message, session: BriefAsyncSession, student: UserInfo, *, booking: bool, webapp_url: str | None = None
) -> None:
    mentors = await session.run_sync(mentorship.list_mentors)
    head = _("📅 <b>Book a session</b>: choose a mentor.") if booking else _("🧑‍🏫 <b>CodeHub mentors</b>")
    lines = [head, "", "\n\n".join(mentor_card(m) for m in mentors) or _("No mentors yet.")]
    rows = [
        [InlineKeyboardButton(text=_("📅 Book {name}").format(name=m.name), callback_data=MentorCb(id=m.id).pack())]
        for m in mentors
        if m.available
    ]
    rows += web_app_rows(webapp_url, "book" if booking else "mentorship")
    await message.answer(
        with_balance("\n".join(lines), student.balance), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


async def cmd_mentors(message: Message, session: BriefAsyncSession, student: UserInfo, settings: Settings) -> None:
    await show_mentors(message, session, student, booking=False, webapp_url=settings.webapp_url)


async def cmd_book(message: Message, session: BriefAsyncSession, student: UserInfo, settings: Settings) -> None:
    await show_mentors(message, session, student, booking=True, webapp_url=settings.webapp_url)


async def on_mentor(
    callback: CallbackQuery, callback_data: MentorCb, session: BriefAsyncSession, student: UserInfo
) -> None:
    mentor, prices = await session.run_sync(mentorship.price_list, callback_data.id)
    await callback.answer()
    rows = [
        [
            InlineKeyboardButton(
                text=_("{minutes} min — {price}").format(minutes=number(d), price=money(c)),
                callback_data=DurationCb(mentor=mentor.id, minutes=d, cost=str(c)).pack(),
            )
        ]
        for d, c in prices
    ]
    await callback.message.answer(
        with_balance(
            _("📅 Session with <b>{name}</b> ({rate} per hour). Choose the duration:").format(
                name=esc(mentor.name), rate=money(mentor.rate)
            ),
            student.balance,
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def on_duration(
    callback: CallbackQuery, callback_data: DurationCb, state: FSMContext, session: BriefAsyncSession, student: UserInfo
) -> None:
    if money_value(callback_data.cost) is None:
        raise InvalidInput("bad cost")
    # turned off since the durations were shown: say so before the notes
    mentor = await session.run_sync(mentorship.bookable_mentor, callback_data.mentor)
    await state.set_data(
        {"mentor": mentor.id, "mentor_name": mentor.name, "minutes": callback_data.minutes, "cost": callback_data.cost}
    )
    await callback.answer()
    if await session.run_sync(availability.has_hours, mentor.id):
        await state.set_state(BookingStates.slot)
        await show_days(callback.message, state, session, student, today())
        return
    await ask_notes(callback.message, state, student)


def today() -> date:
    return utcnow().astimezone(CAIRO).date()


async def show_days(
    message: Message, state: FSMContext, session: BriefAsyncSession, student: UserInfo, start: date
) -> None:
    """The days of a week that have free times, each a button; earlier and later weeks."""
    data = await state.get_data()
    slots = await session.run_sync(
        availability.free_slots, data["mentor"], data["minutes"], start, DAYS_SHOWN, now=utcnow(), student_id=student.id
    )
    per_day: dict[date, int] = {}
    for slot in slots:
        day = slot.start.astimezone(CAIRO).date()
        per_day[day] = per_day.get(day, 0) + 1
    buttons = [
        InlineKeyboardButton(
            text=_("{day} · {count} free").format(day=day_label(day), count=number(count)),
            callback_data=DayCb(day=day.isoformat()).pack(),
        )
        for day, count in per_day.items()
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav = []
    if start > today():
        earlier = max(today(), start - timedelta(days=DAYS_SHOWN))
        nav.append(
            InlineKeyboardButton(text=_("⬅️ Earlier days"), callback_data=DaysCb(start=earlier.isoformat()).pack())
        )
    later = start + timedelta(days=DAYS_SHOWN)
    nav.append(InlineKeyboardButton(text=_("Later days ➡️"), callback_data=DaysCb(start=later.isoformat()).pack()))
    rows.append(nav)
    head = _("🗓 <b>{name}</b>, {minutes} min: choose a day (Cairo time).").format(
        name=esc(data["mentor_name"]), minutes=number(data["minutes"])
    )
    if not per_day:
        head += "\n" + _("No free times on these days. Try later days.")
    await state.update_data(week=start.isoformat())
    await message.answer(with_balance(head, student.balance), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def on_days(
    callback: CallbackQuery, callback_data: DaysCb, state: FSMContext, session: BriefAsyncSession, student: UserInfo
) -> None:
    await callback.answer()
    await show_days(callback.message, state, session, student, _cairo_day(callback_data.start))


def _cairo_day(text: str) -> date:
    try:
        return max(today(), date.fromisoformat(text))
    except ValueError:
        raise InvalidInput("bad day") from None


async def on_day(
    callback: CallbackQuery, callback_data: DayCb, state: FSMContext, session: BriefAsyncSession, student: UserInfo
) -> None:
    data = await state.get_data()
    day = _cairo_day(callback_data.day)
    slots = await session.run_sync(
        availability.free_slots, data["mentor"], data["minutes"], day, 1, now=utcnow(), student_id=student.id
    )
    await callback.answer()
    buttons = [
        InlineKeyboardButton(text=clock(s.start), callback_data=SlotCb(at=int(s.start.timestamp())).pack())
        for s in slots
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    rows.append(
        [
            InlineKeyboardButton(
                text=_("⬅️ Other days"), callback_data=DaysCb(start=data.get("week", day.isoformat())).pack()
            )
        ]
    )
    head = (
        _("🗓 {day}: choose a time (Cairo time).").format(day=day_label(day))
        if slots
        else _("No free times left on {day}. Choose another day.").format(day=day_label(day))
    )
    await callback.message.answer(
        with_balance(head, student.balance), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


async def on_slot(
    callback: CallbackQuery, callback_data: SlotCb, state: FSMContext, session: BriefAsyncSession, student: UserInfo
) -> None:
    data = await state.get_data()
    start = datetime.fromtimestamp(callback_data.at, timezone.utc)
    try:  # kept from other students while this one writes notes and confirms
        await session.run_sync(availability.hold, student.id, data["mentor"], data["minutes"], start, now=utcnow())
    except (SlotTaken, SlotUnavailable) as exc:
        await callback.answer(error_text(exc), show_alert=True)
        await show_days(callback.message, state, session, student, _cairo_day(data.get("week") or today().isoformat()))
        return
    await callback.answer()
    await state.update_data(slot=callback_data.at)
    await ask_notes(callback.message, state, student)


async def ask_notes(message: Message, state: FSMContext, student: UserInfo) -> None:
    await state.set_state(BookingStates.notes)
    skip = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("Skip"), callback_data=BookCb(action="skip").pack())]]
    )
    await message.answer(
        with_balance(
            _("Anything the mentor should know (what you want to work on)? Send it as a message, or tap Skip."),
            student.balance,
        ),
        reply_markup=skip,
    )


def _slot_start(data: dict) -> datetime | None:
    return datetime.fromtimestamp(data["slot"], timezone.utc) if data.get("slot") else None


async def ask_confirm(
    message: Message, state: FSMContext, session: BriefAsyncSession, student: UserInfo, notes: str | None
) -> None:
    data = await state.update_data(notes=notes)
    await state.set_state(BookingStates.confirm)
    cost = money_value(data["cost"]) or ZERO  # checked when the duration was chosen
    lines = [
        _("<b>Please check your booking</b>"),
        _("Mentor: {name}").format(name=esc(data["mentor_name"])),
        _("Duration: {minutes} min").format(minutes=number(data["minutes"])),
        _("When: <b>{date}</b> (Cairo time)").format(date=when(_slot_start(data)))
        if data.get("slot")
        else _("When: an admin sets the date and time after booking"),
        _("Notes: {notes}").format(notes=esc(notes) if notes else _("(none)")),
        _("Cost: <b>{cost}</b>").format(cost=money(cost)),
    ]
    if cost > student.balance:
        lines.append(
            _("❗ Not enough balance: you need {shortfall} more. Top up first.").format(
                shortfall=money(cost - student.balance)
            )
        )
        rows = [
            [topup_button(), InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=BookCb(action="cancel").pack())]
        ]
    else:
        lines.append(_("Balance after: {after}").format(after=money(student.balance - cost)))
        rows = [
            [
                InlineKeyboardButton(text=_("✅ Confirm"), callback_data=BookCb(action="confirm").pack()),
                InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=BookCb(action="cancel").pack()),
            ]
        ]
    terms = await session.run_sync(policy.policy_for, data["mentor"])
    lines += ["", policy_text(terms, BOT_VOICE)]
    summary = await message.answer(
        with_balance("\n".join(lines), student.balance), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )
    await state.update_data(summary=summary.message_id)  # only this summary's Confirm books these choices


async def on_booking_notes(message: Message, state: FSMContext, session: BriefAsyncSession, student: UserInfo) -> None:
    if len(message.text) > 1000:
        await message.answer(_("That is too long (at most 1000 characters). Please shorten it."))
        return
    check_text(message.text, field="notes")  # refused here, where it can be corrected, not at Confirm
    await ask_confirm(message, state, session, student, message.text)


async def on_booking_skip(
    callback: CallbackQuery, state: FSMContext, session: BriefAsyncSession, student: UserInfo
) -> None:
    await callback.answer()
    await ask_confirm(callback.message, state, session, student, None)


async def on_booking_confirm(
    callback: CallbackQuery, state: FSMContext, session: BriefAsyncSession, student: UserInfo
) -> None:
    data = await state.get_data()
    if data.get("summary") != callback.message.message_id:  # an older summary, with another price
        await callback.answer(_("This button is no longer valid. Please open the menu again."), show_alert=True)
        return
    key = f"tg:{callback.message.chat.id}:{callback.message.message_id}:book"
    try:
        result = await session.run_sync(
            mentorship.book,
            student.id,
            data["mentor"],
            data["minutes"],
            data.get("notes"),
            idempotency_key=key,
            expected_cost=Decimal(data["cost"]),
            slot_start=_slot_start(data),
        )
    except (SlotTaken, SlotUnavailable) as exc:  # taken meanwhile: nothing was charged; choose again
        await state.clear()
        await callback.answer()
        again = DurationCb(mentor=data["mentor"], minutes=data["minutes"], cost=data["cost"]).pack()
        await callback.message.answer(
            with_balance(error_text(exc), student.balance),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text=_("🗓 Choose another time"), callback_data=again)]]
            ),
        )
        return
    except InsufficientFunds as exc:
        await state.clear()
        await callback.answer()
        await callback.message.answer(
            with_balance(error_text(exc), student.balance),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[topup_button()]]),
        )
        return
    finally:
        if await state.get_state() is not None:
            await state.clear()
    b = result.booking
    text = _(
        "🧾 <b>Booking #{id}</b>\nMentor: {mentor}\nDuration: {minutes} min\nPaid: <b>{cost}</b>\n"
        "Status: <b>{status}</b>"
    ).format(
        id=number(b.id),
        mentor=esc(b.mentor_name),
        minutes=number(b.duration),
        cost=money(b.total_cost),
        status=status_name(b.status),
    )
    if b.session_date is None:
        text += "\n\n" + _("An admin will confirm the date and time; I will message you.")
    else:
        text += "\n" + _("When: <b>{date}</b> (Cairo time)").format(date=when(b.session_date))
        if b.status == BookingStatus.PENDING:
            text += "\n\n" + _("The mentor will confirm the time; I will message you.")
    await callback.message.edit_text(with_balance(text, result.balance))
    await callback.answer(_("Booked"))


async def on_booking_cancel(callback: CallbackQuery, state: FSMContext, student: UserInfo) -> None:
    if (await state.get_data()).get("summary") in (None, callback.message.message_id):
        await state.clear()  # not a newer booking's flow
    await callback.message.edit_text(with_balance(_("Booking cancelled. Nothing was charged."), student.balance))
    await callback.answer()


def build_router() -> Router:
    router = Router(name="mentorship")
    router.message.register(cmd_mentors, Command("mentors"))
    router.message.register(cmd_mentors, MenuButton(BTN_MENTORS))
    router.message.register(cmd_book, Command("book"))
    router.callback_query.register(on_mentor, MentorCb.filter())
    router.callback_query.register(on_duration, DurationCb.filter())
    router.callback_query.register(on_days, BookingStates.slot, DaysCb.filter())
    router.callback_query.register(on_day, BookingStates.slot, DayCb.filter())
    router.callback_query.register(on_slot, BookingStates.slot, SlotCb.filter())
    router.message.register(on_booking_notes, BookingStates.notes, F.text, ~F.text.startswith("/"))
    router.callback_query.register(on_booking_skip, BookingStates.notes, BookCb.filter(F.action == "skip"))
    router.callback_query.register(on_booking_confirm, BookingStates.confirm, BookCb.filter(F.action == "confirm"))
    router.callback_query.register(on_booking_cancel, BookCb.filter(F.action == "cancel"))
    return router
