"""/balance: the balance, the last five transactions, Top up and History buttons (and the Mini App's wallet)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.ui.format import balance_line
from bot.ui.keyboards import BTN_BALANCE, MenuButton, WalletCb, topup_button
from bot.ui.statement import entry_line
from bot.ui.webapp import web_app_rows
from core.config import Settings
from core.db import BriefAsyncSession
from core.services import ledger
from core.services.students import UserInfo


async def cmd_balance(message: Message, session: BriefAsyncSession, student: UserInfo, settings: Settings) -> None:
    page = await session.read_only(ledger.statement, student.id, page=1, per_page=5)
    lines = [balance_line(student.balance), "", _("<b>Last transactions</b>")]
    lines += [entry_line(e) for e in page.items] or [_("No transactions yet.")]
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                topup_button(),
                InlineKeyboardButton(text=_("📜 History"), callback_data=WalletCb(action="history").pack()),
            ],
            *web_app_rows(settings.webapp_url, "wallet"),
        ]
    )
    await message.answer("\n".join(lines), reply_markup=markup)


def build_router() -> Router:
    """The Top up and History buttons under the balance belong to their own features' routers."""
    router = Router(name="wallet")
    router.message.register(cmd_balance, Command("balance"))
    router.message.register(cmd_balance, MenuButton(BTN_BALANCE))
    return router
