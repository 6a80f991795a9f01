"""/history: the ledger, 10 a page, Prev/Next, filter by type."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.ui.format import number, type_name, with_balance
from bot.ui.keyboards import BTN_HISTORY, MenuButton, WalletCb
from bot.ui.statement import entry_line
from core.db import BriefAsyncSession
from core.models import TransactionType
from core.services import ledger
from core.services.students import UserInfo
from core.services.wallet import Page

FILTERS = ("ALL", "TOP_UP", "PLATFORM_PURCHASE", "MENTORSHIP_PAYMENT", "REFUND", "SIGNUP_BONUS")
PER_PAGE = 10


class HistoryCb(CallbackData, prefix="h"):
    page: int
    type: str = "ALL"


def render(student: UserInfo, page: Page, kind: str) -> tuple[str, InlineKeyboardMarkup]:
    title = _("📜 <b>History</b>") + (f" · {type_name(kind)}" if kind != "ALL" else "")
    lines = [title, _("Page {page} of {pages}").format(page=number(page.page), pages=number(page.pages)), ""]
    lines += [entry_line(e) for e in page.items] or [_("No transactions yet.")]
    nav = []
    if page.page > 1:
        nav.append(
            InlineKeyboardButton(text=_("⬅️ Prev"), callback_data=HistoryCb(page=page.page - 1, type=kind).pack())
        )
    if page.page < page.pages:
        nav.append(
            InlineKeyboardButton(text=_("Next ➡️"), callback_data=HistoryCb(page=page.page + 1, type=kind).pack())
        )
    filters = [
        InlineKeyboardButton(
            text=("• " if f == kind else "") + (_("All") if f == "ALL" else type_name(f)),
            callback_data=HistoryCb(page=1, type=f).pack(),
        )
        for f in FILTERS
    ]
    rows = ([nav] if nav else []) + [filters[:3], filters[3:]]
    return with_balance("\n".join(lines), student.balance), InlineKeyboardMarkup(inline_keyboard=rows)


async def send_history(message: Message, session: BriefAsyncSession, student: UserInfo) -> None:
    page = await session.run_sync(ledger.statement, student.id, page=1, per_page=PER_PAGE)
    text, markup = render(student, page, "ALL")
    await message.answer(text, reply_markup=markup)


async def cmd_history(message: Message, session: BriefAsyncSession, student: UserInfo) -> None:
    await send_history(message, session, student)


async def on_history_button(callback: CallbackQuery, session: BriefAsyncSession, student: UserInfo) -> None:
    """History under /balance."""
    await callback.answer()
    await send_history(callback.message, session, student)


async def on_history_page(
    callback: CallbackQuery, callback_data: HistoryCb, session: BriefAsyncSession, student: UserInfo
) -> None:
    kind = callback_data.type if callback_data.type in FILTERS else "ALL"
    page = await session.run_sync(
        ledger.statement,
        student.id,
        page=max(1, callback_data.page),
        per_page=PER_PAGE,
        type=None if kind == "ALL" else TransactionType(kind),
    )
    text, markup = render(student, page, kind)
    await callback.message.edit_text(text, reply_markup=markup)
    await callback.answer()


def build_router() -> Router:
    router = Router(name="history")
    router.message.register(cmd_history, Command("history"))
    router.message.register(cmd_history, MenuButton(BTN_HISTORY))
    router.callback_query.register(on_history_button, WalletCb.filter(F.action == "history"))
    router.callback_query.register(on_history_page, HistoryCb.filter())
    return router
