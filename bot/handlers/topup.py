"""/topup: Vodafone Cash number and steps, amount, sender number, the optional transaction number from the
SMS (Skip), summary, Confirm -> PENDING receipt (or APPROVED when the transfer already arrived, for certain)."""

from __future__ import annotations

from decimal import Decimal

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.ui.errors import error_text
from bot.ui.format import money, number, status_name, with_balance
from bot.ui.keyboards import BTN_TOPUP, MenuButton, WalletCb, main_menu
from core.db import BriefAsyncSession
from core.errors import DomainError, InvalidTransferReference
from core.models import TransactionStatus
from core.phone import normalize_wallet
from core.services import topups, wallet
from core.services.settings import get_settings
from core.services.students import UserInfo


class TopupStates(StatesGroup):
    amount = State()
    wallet = State()
    reference = State()
    confirm = State()


class TopupCb(CallbackData, prefix="tu"):
    action: str  # confirm | cancel | skip (the transaction number)


async def start_topup(message: Message, state: FSMContext, session: BriefAsyncSession, student: UserInfo) -> None:
    settings = await session.run_sync(get_settings)
    try:  # say so before they send money (request_topup checks again at Confirm)
        await session.run_sync(lambda s: topups.check_topup_allowed(s, student.id).id)
    except DomainError as exc:
        await state.clear()
        await message.answer(with_balance(error_text(exc), student.balance))
        return
    await state.set_state(TopupStates.amount)
    await state.set_data({})
    text = _(
        "➕ <b>Top up with Vodafone Cash</b>\n\n"
        "1. Send the money to this Vodafone Cash number (tap to copy): <code>{number}</code>\n"
        "2. Tell me the amount you sent.\n"
        "3. Tell me the number you sent it from.\n"
        "4. An admin checks the transfer and credits your wallet; I will tell you.\n\n"
        "<b>How much did you send (EGP)?</b> Minimum {min}, maximum {max}. Send /cancel to stop."
    ).format(number=settings.vodafone_cash_number, min=money(settings.min_topup), max=money(settings.max_topup))
    await message.answer(with_balance(text, student.balance))


async def cmd_topup(message: Message, state: FSMContext, session: BriefAsyncSession, student: UserInfo) -> None:
    await start_topup(message, state, session, student)


async def on_topup_amount(message: Message, state: FSMContext, session: BriefAsyncSession, student: UserInfo) -> None:
    try:
        amount = await session.run_sync(topups.check_topup_amount, message.text)
    except DomainError as exc:
        await message.answer(error_text(exc) + "\n" + _("Please send the amount again, or /cancel."))
        return
    await state.update_data(amount=str(amount))
    await state.set_state(TopupStates.wallet)
    await message.answer(
        with_balance(
            _(
                "Amount: <b>{amount}</b>.\nNow send the Vodafone Cash number you sent it from (like 01012345678)."
            ).format(amount=money(amount)),
            student.balance,
        )
    )


ASKED_AGAIN = object()  # the answer was refused and the question asked again; the step stays open


async def parsed_or_asked_again(message: Message, parse, again: str):
    """`parse(message.text)`, or ASKED_AGAIN after saying what is wrong in the student's language."""
    try:
        return parse(message.text)
    except DomainError as exc:
        await message.answer(error_text(exc) + "\n" + again)
        return ASKED_AGAIN


async def on_topup_wallet(message: Message, state: FSMContext, student: UserInfo) -> None:
    sender = await parsed_or_asked_again(
        message,
        normalize_wallet,  # pure parsing, no database
        _("Please send the number again, or /cancel."),
    )
    if sender is ASKED_AGAIN:
        return
    await state.update_data(wallet=sender, reference=None)
    await state.set_state(TopupStates.reference)
    skip = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("⏭ Skip"), callback_data=TopupCb(action="skip").pack())]]
    )
    prompt = await message.answer(
        _(
            "Sent from: <code>{wallet}</code>.\nIf you have it, send the <b>transaction number</b> in the SMS you got "
            'after sending ("رقم العملية", like 022768543034): it lets us find your transfer at once. '
            "No SMS? Tap Skip."
        ).format(wallet=sender),
        reply_markup=skip,
    )
    await state.update_data(prompt=prompt.message_id)


def read_reference(text: str) -> str:
    """The transaction number typed; a blank message is not one (Skip is the way to give none)."""
    reference = topups.check_transfer_reference(text)
    if reference is None:
        raise InvalidTransferReference("the transaction number is blank", field="transfer_reference")
    return reference


async def on_topup_reference(message: Message, state: FSMContext, student: UserInfo) -> None:
    reference = await parsed_or_asked_again(
        message,
        read_reference,  # no database either
        _("Please send it again, tap Skip, or /cancel."),
    )
    if reference is ASKED_AGAIN:
        return
    await show_summary(message, state, student, reference)


async def on_topup_skip(callback: CallbackQuery, state: FSMContext, student: UserInfo) -> None:
    if (await state.get_data()).get("prompt") != callback.message.message_id:  # an older prompt
        await callback.answer(_("This button is no longer valid. Please open the menu again."), show_alert=True)
        return
    await callback.answer()
    await callback.message.edit_reply_markup(reply_markup=None)
    await show_summary(callback.message, state, student, None)


async def show_summary(message: Message, state: FSMContext, student: UserInfo, reference: str | None) -> None:
    data = await state.update_data(reference=reference)
    await state.set_state(TopupStates.confirm)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("✅ Confirm"), callback_data=TopupCb(action="confirm").pack()),
                InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=TopupCb(action="cancel").pack()),
            ]
        ]
    )
    text = _(
        "<b>Please check your top-up request</b>\nAmount: <b>{amount}</b>\nSent from: <code>{wallet}</code>"
    ).format(amount=money(data["amount"]), wallet=data["wallet"])
    text += "\n" + reference_line(reference)
    summary = await message.answer(with_balance(text, student.balance), reply_markup=markup)
    await state.update_data(summary=summary.message_id)  # only this summary's buttons act on this request


def reference_line(reference: str | None) -> str:
    if reference:
        return _("Transaction number: <code>{reference}</code>").format(reference=reference)
    return _("Transaction number: not given")


async def on_topup_other(message: Message) -> None:
    await message.answer(_("Please answer the question above, or send /cancel to stop."))


async def on_topup_confirm(
    callback: CallbackQuery, state: FSMContext, session: BriefAsyncSession, student: UserInfo
) -> None:
    data = await state.get_data()
    if data.get("summary") != callback.message.message_id:  # an older summary, with other numbers
        await callback.answer(_("This button is no longer valid. Please open the menu again."), show_alert=True)
        return
    key = f"tg:{callback.message.chat.id}:{callback.message.message_id}:topup"
    try:
        result = await session.run_sync(
            topups.request_topup,
            student.id,
            Decimal(data["amount"]),
            data["wallet"],
            idempotency_key=key,
            transfer_reference=data.get("reference"),
        )
    finally:
        await state.clear()
    text = _(
        "🧾 <b>Top-up request #{id}</b>\nAmount: <b>{amount}</b>\nFrom: <code>{wallet}</code>\nStatus: <b>{status}</b>"
    ).format(
        id=number(result.transaction_id),
        amount=money(result.amount),
        wallet=result.wallet_masked,
        status=status_name(result.status),
    )
    text += "\n" + reference_line(result.transfer_reference) + "\n\n"
    balance = student.balance
    if result.status == TransactionStatus.APPROVED:  # the transfer had already arrived: settled at once
        text += _("Your transfer was found and your wallet is credited.")
        balance = await session.run_sync(wallet.balance, student.id)
    else:
        text += _("An admin will check the transfer; I will message you when it is done.")
    await callback.message.edit_text(with_balance(text, balance))
    await callback.answer(_("Request sent"))


async def on_topup_cancel(callback: CallbackQuery, state: FSMContext, student: UserInfo) -> None:
    if (await state.get_data()).get("summary") in (None, callback.message.message_id):
        await state.clear()  # not a newer request's flow
    await callback.message.edit_text(with_balance(_("Top-up cancelled. Nothing was sent."), student.balance))
    await callback.answer()
    await callback.message.answer(_("Main menu:"), reply_markup=main_menu())


async def on_topup_button(
    callback: CallbackQuery, state: FSMContext, session: BriefAsyncSession, student: UserInfo
) -> None:
    """➕ Top up under /balance, a short balance or an enrollment."""
    await callback.answer()
    await start_topup(callback.message, state, session, student)


def build_router() -> Router:
    router = Router(name="topup")
    router.message.register(cmd_topup, Command("topup"))
    router.message.register(cmd_topup, MenuButton(BTN_TOPUP))
    router.callback_query.register(on_topup_button, WalletCb.filter(F.action == "topup"))
    router.message.register(on_topup_amount, TopupStates.amount, F.text, ~F.text.startswith("/"))
    router.message.register(on_topup_wallet, TopupStates.wallet, F.text, ~F.text.startswith("/"))
    router.message.register(on_topup_reference, TopupStates.reference, F.text, ~F.text.startswith("/"))
    router.callback_query.register(on_topup_skip, TopupStates.reference, TopupCb.filter(F.action == "skip"))
    router.message.register(
        on_topup_other,
        StateFilter(TopupStates.amount, TopupStates.wallet, TopupStates.reference, TopupStates.confirm),
        ~F.text.startswith("/"),
    )
    router.callback_query.register(on_topup_confirm, TopupStates.confirm, TopupCb.filter(F.action == "confirm"))
    router.callback_query.register(on_topup_cancel, TopupCb.filter(F.action == "cancel"))
    return router
