"""Admins in Telegram: approve/reject top-ups (with a confirmation where no transfer matches, or one does),
confirm/cancel bookings, /pending, /stats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _

from bot.dates import lacks_time, parse_session_date
from bot.ui.cards import (
    AdminBookingCb,
    AdminTopupCb,
    booking_buttons,
    booking_card,
    booking_decided_text,
    topup_buttons,
    topup_card,
    topup_decided_text,
)
from bot.ui.errors import error_text
from bot.ui.format import esc, money, number, when
from core.db import BriefAsyncSession
from core.errors import ConfirmationRequired, DateInPast, DomainError, InvalidInput, ReasonRequired
from core.models import BookingStatus, TransactionStatus
from core.services import analytics, mentorship, topups
from core.services.common import Actor


class IsAdmin(Filter):
    def __init__(self, admin_ids: frozenset[int]):
        self.admin_ids = admin_ids

    async def __call__(self, event, event_from_user: User | None = None) -> bool:
        return event_from_user is not None and event_from_user.id in self.admin_ids


class AdminStates(StatesGroup):
    approve_reason = State()  # approving a top-up that no received transfer matches
    reject_reason = State()
    reject_confirm = State()  # rejecting a top-up that a received transfer matches
    booking_date = State()
    booking_notes = State()
    cancel_reason = State()


def actor_of(user: User) -> Actor:
    return Actor(name=f"@{user.username}" if user.username else user.full_name, telegram_id=user.id)


async def show_decision(callback_or_bot, chat_id: int, message_id: int, text: str) -> None:
    try:
        await callback_or_bot.edit_message_text(chat_id=chat_id, message_id=message_id, text=text, reply_markup=None)
    except TelegramBadRequest:  # not modified, or too old to edit
        pass


def topup_decided(transaction_id: int, status: TransactionStatus, amount, by: str) -> str:
    text, _markup = topup_decided_text(
        {"transaction_id": transaction_id, "status": status.value, "amount": str(amount), "by": by}
    )
    return text


def booking_decided(booking_id: int, status: BookingStatus, by: str) -> str:
    text, _markup = booking_decided_text({"booking_id": booking_id, "status": status.value, "by": by})
    return text


async def on_admin_button_refused(callback: CallbackQuery) -> None:
    await callback.answer(_("⛔ This action is for CodeHub admins only."), show_alert=True)


async def cmd_pending(message: Message, session: BriefAsyncSession) -> None:
    requests = await session.run_sync(topups.pending_topups, limit=20)
    bookings = await session.run_sync(mentorship.pending_bookings, limit=20)
    if not requests and not bookings:
        await message.answer(_("✅ Nothing is waiting for a decision."))
        return
    await message.answer(
        _("⏳ Waiting: {topups} top-ups, {bookings} bookings (oldest first).").format(
            topups=number(len(requests)), bookings=number(len(bookings))
        )
    )
    for t in requests:
        card = topup_card(
            {
                "transaction_id": t.id,
                "student": t.student,
                "username": t.username,
                "amount": str(t.amount),
                "wallet": t.wallet_masked or "",
                "reference": t.transfer_reference,
            }
        )
        await message.answer(
            card + "\n" + _("Requested: {date}").format(date=when(t.created_at)), reply_markup=topup_buttons(t.id)
        )
    for b in bookings:
        card = booking_card(
            {
                "booking_id": b.id,
                "student": b.student_name,
                "mentor": b.mentor_name,
                "duration": b.duration,
                "cost": str(b.total_cost),
                "notes": b.student_notes or "",
            }
        )
        await message.answer(
            card + "\n" + _("Requested: {date}").format(date=when(b.created_at)), reply_markup=booking_buttons(b.id)
        )


async def cmd_stats(message: Message, session: BriefAsyncSession) -> None:
    k = await session.run_sync(analytics.kpis)
    await message.answer(
        _(
            "📊 <b>CodeHub today</b>\nRevenue today: <b>{today}</b>\nRevenue this month: <b>{month}</b>\n"
            "Pending top-ups: {pending} ({pending_amount})\nPending bookings: {bookings}\n"
            "Active students (30 days): {active}\nMoney in wallets: {float}"
        ).format(
            today=money(k["revenue_today"]),
            month=money(k["revenue_month"]),
            pending=number(k["pending_topups"]),
            pending_amount=money(k["pending_topups_amount"]),
            bookings=number(k["pending_bookings"]),
            active=number(k["active_students_30d"]),
            float=money(k["wallet_float"]),
        )
    )


async def on_topup_approve(
    callback: CallbackQuery, callback_data: AdminTopupCb, state: FSMContext, session: BriefAsyncSession
) -> None:
    """Approve at once when a received transfer matches; otherwise the admin confirms with a reason."""
    try:
        decision = await session.run_sync(topups.approve, callback_data.id, actor=actor_of(callback.from_user))
    except ConfirmationRequired:
        await ask_reason(
            callback,
            state,
            AdminStates.approve_reason,
            callback_data.id,
            _(
                "⚠️ No received Vodafone Cash transfer matches top-up #{id}. To approve it anyway, write the reason "
                "(it is kept in the audit log), or /cancel to leave it."
            ).format(id=number(callback_data.id)),
        )
        return
    text = topup_decided(decision.transaction_id, TransactionStatus.APPROVED, decision.amount, decision.processed_by)
    await show_decision(callback.bot, callback.message.chat.id, callback.message.message_id, text)
    await callback.answer(_("Approved: {amount} credited.").format(amount=money(decision.amount)))


async def on_approve_reason(message: Message, state: FSMContext, session: BriefAsyncSession) -> None:
    async def decide(data: dict, reason: str) -> str:
        decision = await session.run_sync(
            topups.approve, data["id"], actor=actor_of(message.from_user), reason=reason, confirmed=True
        )
        return topup_decided(
            decision.transaction_id, TransactionStatus.APPROVED, decision.amount, decision.processed_by
        )

    await finish_with_reason(message, state, decide)


async def on_topup_reject(callback: CallbackQuery, callback_data: AdminTopupCb, state: FSMContext) -> None:
    await ask_reason(
        callback,
        state,
        AdminStates.reject_reason,
        callback_data.id,
        _("Write the reason for rejecting top-up #{id} (the student will see it), or /cancel:").format(
            id=number(callback_data.id)
        ),
    )


async def on_reject_reason(message: Message, state: FSMContext, session: BriefAsyncSession) -> None:
    """Reject; when a received transfer matches the request, ask once more before rejecting."""

    async def decide(data: dict, reason: str) -> str | None:
        try:
            decision = await session.run_sync(topups.reject, data["id"], reason, actor=actor_of(message.from_user))
        except ConfirmationRequired as exc:
            await state.set_state(AdminStates.reject_confirm)
            await state.update_data(reason=reason)
            yes = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("Yes, reject it"),
                            callback_data=AdminTopupCb(action="reject_yes", id=data["id"]).pack(),
                        )
                    ]
                ]
            )
            await message.answer(
                _(
                    "⚠️ Received transfer <code>{reference}</code> matches top-up #{id}: the student may have paid. "
                    "Reject it anyway? (/cancel to leave it)"
                ).format(reference=esc(exc.details.get("reference", "?")), id=number(data["id"])),
                reply_markup=yes,
            )
            return None
        return topup_decided(
            decision.transaction_id, TransactionStatus.REJECTED, decision.amount, decision.processed_by
        )

    await finish_with_reason(message, state, decide)


async def on_reject_confirmed(
    callback: CallbackQuery, callback_data: AdminTopupCb, state: FSMContext, session: BriefAsyncSession
) -> None:
    data = await state.get_data()
    if await state.get_state() != AdminStates.reject_confirm.state or data.get("id") != callback_data.id:
        await callback.answer(_("This button is no longer valid. Please open the menu again."), show_alert=True)
        return
    await state.clear()  # a second tap finds no open step: one rejection
    decision = await session.run_sync(
        topups.reject, data["id"], data["reason"], actor=actor_of(callback.from_user), confirmed=True
    )
    text = topup_decided(decision.transaction_id, TransactionStatus.REJECTED, decision.amount, decision.processed_by)
    await show_decision(callback.bot, data["chat"], data["message"], text)
    await show_decision(
        callback.bot,
        callback.message.chat.id,
        callback.message.message_id,
        text + "\n" + _("Reason: {reason}").format(reason=esc(data["reason"])),
    )
    await callback.answer()


async def ask_reason(callback: CallbackQuery, state: FSMContext, step: State, item_id: int, prompt: str) -> None:
    """Open a step where the admin's next message is the reason for deciding `item_id` (the card is kept
    so the decision can be shown on it)."""
    await state.set_state(step)
    await state.set_data({"id": item_id, "chat": callback.message.chat.id, "message": callback.message.message_id})
    await callback.answer()
    await callback.message.answer(prompt)


async def finish_with_reason(
    message: Message, state: FSMContext, decide: Callable[[dict, str], Awaitable[str | None]]
) -> None:
    """The reason step's end: `decide` acts and returns the decided text (None: it opened another step).
    A reason that can be corrected keeps the step open; any other refusal closes it."""
    data = await state.get_data()
    try:
        text = await decide(data, message.text)
    except (ReasonRequired, InvalidInput):
        raise
    except DomainError:
        await state.clear()
        raise
    if text is None:
        return
    await state.clear()
    await show_decision(message.bot, data["chat"], data["message"], text)
    await message.answer(text + "\n" + _("Reason: {reason}").format(reason=esc(message.text)))


async def on_booking_confirm(
    callback: CallbackQuery, callback_data: AdminBookingCb, state: FSMContext, session: BriefAsyncSession
) -> None:
    booking = await session.run_sync(mentorship.check_confirmable, callback_data.id)
    await state.set_state(AdminStates.booking_date)
    await state.set_data({"id": booking.id, "chat": callback.message.chat.id, "message": callback.message.message_id})
    await callback.answer()
    await callback.message.answer(
        _(
            "When is session #{id}? Send the date and time in Cairo time, e.g. <code>2026-12-01 18:00</code>, "
            "<code>tomorrow 18:00</code> or <code>today 9pm</code> (/cancel to stop)."
        ).format(id=number(booking.id))
    )


async def on_booking_date(message: Message, state: FSMContext, session: BriefAsyncSession) -> None:
    when_utc = parse_session_date(message.text)
    if when_utc is None and lacks_time(message.text):
        await message.answer(
            _("Please add the time of day too, e.g. <code>tomorrow 18:00</code> or <code>2026-12-01 18:00</code>.")
        )
        return
    if when_utc is None:
        await message.answer(
            _("I could not read that date. Try <code>2026-12-01 18:00</code> or <code>tomorrow 18:00</code>.")
        )
        return
    try:  # the rule is mentorship's: in the future, not too far ahead; the step stays open to retype
        await session.run_sync(mentorship.check_session_date, when_utc)
    except (DateInPast, InvalidInput) as exc:
        await message.answer(error_text(exc))
        return
    data = await state.update_data(date=when_utc.isoformat())
    await state.set_state(AdminStates.booking_notes)
    skip = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Skip"), callback_data=AdminBookingCb(action="skip_notes", id=data["id"]).pack()
                )
            ]
        ]
    )
    await message.answer(
        _(
            "Session on <b>{date}</b> (Cairo time). Any notes for the student, like the meeting "
            "link? Send them, or tap Skip."
        ).format(date=when(when_utc)),
        reply_markup=skip,
    )


async def finish_confirm(bot, answer, state: FSMContext, session: BriefAsyncSession, user: User, notes: str | None):
    """Confirm with the date and notes collected; an answer that can be corrected keeps the step open."""
    data = await state.get_data()
    try:
        booking = await session.run_sync(
            mentorship.confirm, data["id"], datetime.fromisoformat(data["date"]), notes, actor=actor_of(user)
        )
    except DomainError as exc:
        if not isinstance(exc, (DateInPast, InvalidInput)):
            await state.clear()
        raise
    await state.clear()
    text = booking_decided(booking.id, BookingStatus.CONFIRMED, actor_of(user).name)
    await show_decision(bot, data["chat"], data["message"], text)
    await answer(text + "\n" + _("When: {date} (Cairo time)").format(date=when(booking.session_date)))


async def on_booking_notes(message: Message, state: FSMContext, session: BriefAsyncSession) -> None:
    await finish_confirm(message.bot, message.answer, state, session, message.from_user, message.text)


async def on_booking_skip_notes(
    callback: CallbackQuery, callback_data: AdminBookingCb, state: FSMContext, session: BriefAsyncSession
) -> None:
    if (await state.get_data()).get("id") != callback_data.id:  # the prompt of a booking left earlier
        await callback.answer(_("This button is no longer valid. Please open the menu again."), show_alert=True)
        return
    await callback.answer()
    await finish_confirm(callback.bot, callback.message.answer, state, session, callback.from_user, None)


async def on_booking_cancel(callback: CallbackQuery, callback_data: AdminBookingCb, session: BriefAsyncSession) -> None:
    booking = await session.run_sync(mentorship.check_cancellable, callback_data.id)
    await callback.answer()
    yes = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Yes, cancel and refund"),
                    callback_data=AdminBookingCb(action="cancel_yes", id=booking.id).pack(),
                )
            ]
        ]
    )
    await callback.message.answer(
        _("Cancel booking #{id} and refund {cost} to {student}?").format(
            id=number(booking.id), cost=money(booking.total_cost), student=esc(booking.student_name)
        ),
        reply_markup=yes,
    )


async def on_booking_cancel_yes(
    callback: CallbackQuery, callback_data: AdminBookingCb, state: FSMContext, session: BriefAsyncSession
) -> None:
    booking = await session.run_sync(mentorship.check_cancellable, callback_data.id)
    await ask_reason(
        callback,
        state,
        AdminStates.cancel_reason,
        booking.id,
        _("Write the reason for cancelling booking #{id} (the student will see it), or /cancel:").format(
            id=number(booking.id)
        ),
    )


async def on_cancel_reason(message: Message, state: FSMContext, session: BriefAsyncSession) -> None:
    async def decide(data: dict, reason: str) -> str:
        result = await session.run_sync(mentorship.cancel, data["id"], reason, actor=actor_of(message.from_user))
        text = booking_decided(result.booking.id, BookingStatus.CANCELLED, actor_of(message.from_user).name)
        return text + "\n" + _("Refunded: {refund}").format(refund=money(result.refund))

    await finish_with_reason(message, state, decide)


async def on_booking_complete(
    callback: CallbackQuery, callback_data: AdminBookingCb, session: BriefAsyncSession
) -> None:
    booking = await session.run_sync(mentorship.complete, callback_data.id, actor=actor_of(callback.from_user))
    text = booking_decided(booking.id, BookingStatus.COMPLETED, actor_of(callback.from_user).name)
    await show_decision(callback.bot, callback.message.chat.id, callback.message.message_id, text)
    await callback.answer(_("Marked completed; the student is asked to rate it."))


def build_refuse_router(admin_ids: frozenset[int]) -> Router:
    """Admin buttons pressed by anyone else (forwarded, forged): refused, nothing changes."""
    router = Router(name="admin_refuse")
    router.callback_query.filter(~IsAdmin(admin_ids))  # an admin's stale button is stale, not refused
    router.callback_query.register(on_admin_button_refused, AdminTopupCb.filter())
    router.callback_query.register(on_admin_button_refused, AdminBookingCb.filter())
    return router


def build_router(admin_ids: frozenset[int]) -> Router:
    router = Router(name="admin")
    router.message.filter(IsAdmin(admin_ids))
    router.callback_query.filter(IsAdmin(admin_ids))
    router.message.register(cmd_pending, Command("pending"))
    router.message.register(cmd_stats, Command("stats"))
    router.callback_query.register(on_topup_approve, AdminTopupCb.filter(F.action == "approve"))
    router.callback_query.register(on_topup_reject, AdminTopupCb.filter(F.action == "reject"))
    router.callback_query.register(on_reject_confirmed, AdminTopupCb.filter(F.action == "reject_yes"))
    router.message.register(on_approve_reason, AdminStates.approve_reason, F.text, ~F.text.startswith("/"))
    router.message.register(on_reject_reason, AdminStates.reject_reason, F.text, ~F.text.startswith("/"))
    router.callback_query.register(on_booking_confirm, AdminBookingCb.filter(F.action == "confirm"))
    router.message.register(on_booking_date, AdminStates.booking_date, F.text, ~F.text.startswith("/"))
    router.message.register(on_booking_notes, AdminStates.booking_notes, F.text, ~F.text.startswith("/"))
    router.callback_query.register(
        on_booking_skip_notes, AdminStates.booking_notes, AdminBookingCb.filter(F.action == "skip_notes")
    )
    router.callback_query.register(on_booking_cancel, AdminBookingCb.filter(F.action == "cancel"))
    router.callback_query.register(on_booking_cancel_yes, AdminBookingCb.filter(F.action == "cancel_yes"))
    router.message.register(on_cancel_reason, AdminStates.cancel_reason, F.text, ~F.text.startswith("/"))
    router.callback_query.register(on_booking_complete, AdminBookingCb.filter(F.action == "complete"))
    return router
