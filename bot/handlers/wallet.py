"""/balance: the balance, the last five transactions, Top up and History buttons."""
from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.keyboards import BTN_BALANCE, MenuButton, WalletCb, topup_button
from bot.ui import balance_line, esc, number, signed, status_name, type_name, when
from core.models import TransactionType
from core.services import wallet
from core.services.wallet import LedgerEntry, UserInfo


def entry_line(e: LedgerEntry) -> str:
    line = (f"{type_name(e.type)} <b>{signed(e.amount)}</b> · {status_name(e.status)} · "
            f"{when(e.created_at, time=False)}")
    if e.type == TransactionType.TOP_UP:
        detail = f"#{number(e.id)} · {e.wallet_masked or ''}"
    elif e.type == TransactionType.SIGNUP_BONUS:
        return line
    else:  # purchases, payments, refunds and adjustments carry names and reasons
        detail = esc(e.description)
    return f"{line}\n    <i>{detail}</i>"


def build_router() -> Router:
    router = Router(name="wallet")

    @router.message(Command("balance"))
    @router.message(MenuButton(BTN_BALANCE))
    async def cmd_balance(message: Message, session: AsyncSession, student: UserInfo) -> None:
        page = await session.run_sync(wallet.history, student.id, page=1, per_page=5)
        lines = [balance_line(student.balance), "", _("<b>Last transactions</b>")]
        lines += [entry_line(e) for e in page.items] or [_("No transactions yet.")]
        markup = InlineKeyboardMarkup(inline_keyboard=[[
            topup_button(),
            InlineKeyboardButton(text=_("📜 History"), callback_data=WalletCb(action="history").pack())]])
        await message.answer("\n".join(lines), reply_markup=markup)

    @router.callback_query(WalletCb.filter())
    async def on_wallet_button(callback: CallbackQuery, callback_data: WalletCb, state, session: AsyncSession,
                               student: UserInfo) -> None:
        await callback.answer()
        if callback_data.action == "topup":
            from bot.handlers.topup import start_topup
            await start_topup(callback.message, state, session, student)
        else:
            from bot.handlers.history import send_history
            await send_history(callback.message, session, student)

    return router
