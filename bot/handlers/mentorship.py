"""/mentors and /book: mentor cards, duration with price, optional notes, confirmation, receipt."""

from __future__ import annotations

from decimal import Decimal

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.ui.errors import error_text
from bot.ui.format import clip, esc, money, money_value, number, status_name, with_balance
from bot.ui.keyboards import BTN_MENTORS, MenuButton, RowId, topup_button
from bot.ui.webapp import web_app_rows
from core.config import Settings
from core.db import BriefAsyncSession
from core.errors import InsufficientFunds, InvalidInput
from core.money import ZERO
from core.services import mentorship
from core.services.mentorship import MentorInfo
from core.services.students import UserInfo
from core.text import check_text


class MentorCb(CallbackData, prefix="m"):
    id: RowId


class DurationCb(CallbackData, prefix="md"):
    mentor: RowId
    minutes: int
    cost: str


class BookCb(CallbackData, prefix="bk"):
    action: str  # skip | confirm | cancel


class BookingStates(StatesGroup):
    notes = State()
    confirm = State()


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
    await state.set_state(BookingStates.notes)
    await state.set_data(
        {"mentor": mentor.id, "mentor_name": mentor.name, "minutes": callback_data.minutes, "cost": callback_data.cost}
    )
    await callback.answer()
    skip = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("Skip"), callback_data=BookCb(action="skip").pack())]]
    )
    await callback.message.answer(
        with_balance(
            _("Anything the mentor should know (what you want to work on)? Send it as a message, or tap Skip."),
            student.balance,
        ),
        reply_markup=skip,
    )


async def ask_confirm(message: Message, state: FSMContext, student: UserInfo, notes: str | None) -> None:
    data = await state.update_data(notes=notes)
    await state.set_state(BookingStates.confirm)
    cost = money_value(data["cost"]) or ZERO  # checked when the duration was chosen
    lines = [
        _("<b>Please check your booking</b>"),
        _("Mentor: {name}").format(name=esc(data["mentor_name"])),
        _("Duration: {minutes} min").format(minutes=number(data["minutes"])),
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
    summary = await message.answer(
        with_balance("\n".join(lines), student.balance), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )
    await state.update_data(summary=summary.message_id)  # only this summary's Confirm books these choices


async def on_booking_notes(message: Message, state: FSMContext, student: UserInfo) -> None:
    if len(message.text) > 1000:
        await message.answer(_("That is too long (at most 1000 characters). Please shorten it."))
        return
    check_text(message.text, field="notes")  # refused here, where it can be corrected, not at Confirm
    await ask_confirm(message, state, student, message.text)


async def on_booking_skip(callback: CallbackQuery, state: FSMContext, student: UserInfo) -> None:
    await callback.answer()
    await ask_confirm(callback.message, state, student, None)


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
        )
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
        "Status: <b>{status}</b>\n\nAn admin will confirm the date and time; I will message you."
    ).format(
        id=number(b.id),
        mentor=esc(b.mentor_name),
        minutes=number(b.duration),
        cost=money(b.total_cost),
        status=status_name(b.status),
    )
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
    router.message.register(on_booking_notes, BookingStates.notes, F.text, ~F.text.startswith("/"))
    router.callback_query.register(on_booking_skip, BookingStates.notes, BookCb.filter(F.action == "skip"))
    router.callback_query.register(on_booking_confirm, BookingStates.confirm, BookCb.filter(F.action == "confirm"))
    router.callback_query.register(on_booking_cancel, BookCb.filter(F.action == "cancel"))
    return router
