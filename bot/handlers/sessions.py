"""/sessions: upcoming and past bookings; Cancel one before it starts (refund under the cancellation policy, the
amount said first and kept); Rate a completed one."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.ui.cards import RateCb, stars_buttons
from bot.ui.errors import BOT_VOICE
from bot.ui.format import clip, esc, money, money_value, number, status_name, when, with_balance
from bot.ui.keyboards import BTN_SESSIONS, MenuButton, RowId
from core.db import BriefAsyncSession
from core.errors import InvalidInput
from core.models import BookingStatus
from core.services import mentorship, policy
from core.services.mentorship import BookingInfo
from core.services.students import UserInfo
from core.timeutil import utcnow
from core.words.booking import policy_text

PAST_SHOWN = 15


class SessionCb(CallbackData, prefix="s"):
    action: str  # cancel | cancel_yes (buttons sent before the policy) | rate | skip_feedback
    id: RowId


class CancelCb(CallbackData, prefix="sc"):
    """Yes, cancel: with the refund the student was shown, which the cancellation must still give."""

    id: RowId
    refund: str


class FeedbackStates(StatesGroup):
    text = State()


def session_line(b: BookingInfo) -> str:
    head = _("#{id} · {mentor} · {minutes} min · {cost}").format(
        id=number(b.id), mentor=esc(b.mentor_name), minutes=number(b.duration), cost=money(b.total_cost)
    )
    status = f"<b>{status_name(b.status)}</b>"
    if b.status == BookingStatus.CONFIRMED:
        status += " — " + _("{date} (Cairo time)").format(date=when(b.session_date))
        if b.admin_notes:
            status += "\n   " + _("Notes: {notes}").format(notes=esc(clip(b.admin_notes, 300)))
    elif b.status == BookingStatus.CANCELLED:
        back = b.total_cost if b.refunded is None else b.refunded  # before the policy, every refund was full
        status += " — " + _("refunded {amount}").format(amount=money(back))
    elif b.status == BookingStatus.COMPLETED and b.rating:
        status += " — " + "⭐" * b.rating
    return f"{head}\n   {status}"


async def cmd_sessions(message: Message, session: BriefAsyncSession, student: UserInfo) -> None:
    bookings = await session.run_sync(mentorship.student_bookings, student.id)
    upcoming = [b for b in bookings if b.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)]
    past = [b for b in bookings if b not in upcoming]
    lines = [_("📅 <b>My sessions</b>"), "", _("<b>Upcoming</b>")]
    lines += [session_line(b) for b in upcoming] or [_("None. Book one with /book.")]
    lines += ["", _("<b>Past</b>")] + ([session_line(b) for b in past[:PAST_SHOWN]] or [_("None yet.")])
    if len(past) > PAST_SHOWN:  # one message holds at most 4096 characters
        lines.append(_("…and {count} older sessions.").format(count=number(len(past) - PAST_SHOWN)))
        past = past[:PAST_SHOWN]
    rows = []
    now = utcnow()
    for b in upcoming:
        if b.session_date is None or b.session_date > now:
            rows.append(
                [
                    InlineKeyboardButton(
                        text=_("✖️ Cancel #{id}").format(id=b.id),
                        callback_data=SessionCb(action="cancel", id=b.id).pack(),
                    )
                ]
            )
    for b in past:
        if b.status == BookingStatus.COMPLETED and b.rating is None:
            rows.append(
                [
                    InlineKeyboardButton(
                        text=_("⭐ Rate #{id}").format(id=b.id), callback_data=SessionCb(action="rate", id=b.id).pack()
                    )
                ]
            )
    await message.answer(
        with_balance("\n".join(lines), student.balance), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


async def on_cancel_ask(
    callback: CallbackQuery, callback_data: SessionCb, session: BriefAsyncSession, student: UserInfo
) -> None:
    b = await session.run_sync(mentorship.check_cancellable, callback_data.id, student_id=student.id)
    refund = await session.run_sync(mentorship.refund_if_cancelled, b)
    terms = await session.run_sync(policy.policy_for, b.mentor_id)
    await callback.answer()
    yes = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Yes, cancel it"),
                    callback_data=CancelCb(id=b.id, refund=str(refund.amount)).pack(),
                )
            ]
        ]
    )
    ask = _("Cancel booking #{id} with {mentor}? You get {refund} back.").format(
        id=number(b.id), mentor=esc(b.mentor_name), refund=money(refund.amount)
    )
    await callback.message.answer(
        with_balance(ask + "\n\n" + policy_text(terms, BOT_VOICE), student.balance), reply_markup=yes
    )


async def on_cancel(
    callback: CallbackQuery, callback_data: SessionCb | CancelCb, session: BriefAsyncSession, student: UserInfo
) -> None:
    shown = money_value(callback_data.refund) if isinstance(callback_data, CancelCb) else None
    if isinstance(callback_data, CancelCb) and shown is None:
        raise InvalidInput("bad refund")
    result = await session.run_sync(mentorship.cancel, callback_data.id, student_id=student.id, expected_refund=shown)
    await callback.message.edit_text(
        with_balance(
            _("✖️ Booking #{id} cancelled. Refunded: <b>{refund}</b>.").format(
                id=number(result.booking.id), refund=money(result.refund)
            ),
            result.balance,
        )
    )
    await callback.answer(_("Cancelled"))


async def on_rate_ask(
    callback: CallbackQuery, callback_data: SessionCb, session: BriefAsyncSession, student: UserInfo
) -> None:
    b = await session.run_sync(mentorship.student_booking, callback_data.id, student.id)
    await callback.answer()
    await callback.message.answer(
        with_balance(
            _("⭐ How was session #{id} with {mentor}?").format(id=number(b.id), mentor=esc(b.mentor_name)),
            student.balance,
        ),
        reply_markup=stars_buttons(b.id),
    )


async def on_rate(
    callback: CallbackQuery, callback_data: RateCb, state: FSMContext, session: BriefAsyncSession, student: UserInfo
) -> None:
    b = await session.run_sync(mentorship.leave_feedback, callback_data.id, student.id, callback_data.stars)
    await state.set_state(FeedbackStates.text)
    await state.set_data({"id": b.id})
    await callback.answer(_("Thanks!"))
    skip = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("Skip"), callback_data=SessionCb(action="skip_feedback", id=b.id).pack())]
        ]
    )
    await callback.message.edit_text(
        with_balance(
            _(
                "Thanks for rating session #{id}: {stars}\nWant to add a few words for the mentor? Send them, "
                "or tap Skip."
            ).format(id=number(b.id), stars="⭐" * callback_data.stars),
            student.balance,
        ),
        reply_markup=skip,
    )


async def on_feedback(message: Message, state: FSMContext, session: BriefAsyncSession, student: UserInfo) -> None:
    data = await state.get_data()
    await session.run_sync(mentorship.add_feedback_text, data["id"], student.id, message.text)
    await state.clear()
    await message.answer(
        with_balance(
            _("🙏 Thank you! Your feedback was saved:\n<i>{text}</i>").format(text=esc(message.text)), student.balance
        )
    )


async def on_feedback_skip(callback: CallbackQuery, state: FSMContext, student: UserInfo) -> None:
    if await state.get_state() == FeedbackStates.text.state:  # not a flow started after the rating
        await state.clear()
    await callback.answer()
    await callback.message.edit_text(with_balance(_("🙏 Thank you for your rating!"), student.balance))


def build_router() -> Router:
    router = Router(name="sessions")
    router.message.register(cmd_sessions, Command("sessions"))
    router.message.register(cmd_sessions, MenuButton(BTN_SESSIONS))
    router.callback_query.register(on_cancel_ask, SessionCb.filter(F.action == "cancel"))
    router.callback_query.register(on_cancel, SessionCb.filter(F.action == "cancel_yes"))
    router.callback_query.register(on_cancel, CancelCb.filter())
    router.callback_query.register(on_rate_ask, SessionCb.filter(F.action == "rate"))
    router.callback_query.register(on_rate, RateCb.filter())
    router.message.register(on_feedback, FeedbackStates.text, F.text, ~F.text.startswith("/"))
    router.callback_query.register(on_feedback_skip, SessionCb.filter(F.action == "skip_feedback"))
    return router
