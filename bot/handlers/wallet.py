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
from core.services import ledger, wallet
from core.services.students import UserInfo


async def cmd_balance(message: Message, session: BriefAsyncSession, student: UserInfo, settings: Settings) -> None:
    entries = wallet.entries_of(await session.read_rows(wallet.RECENT, wallet.recent_params(student.id, 5)))
    if ledger.needs_reads(entries):  # names of platforms and mentors
        recent = await session.read_only(ledger.lines, entries)
    else:
        recent = ledger.lines(None, entries)
    lines = [balance_line(student.balance), "", _("<b>Last transactions</b>")]
    lines += [entry_line(e) for e in recent] or [_("No transactions yet.")]
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
