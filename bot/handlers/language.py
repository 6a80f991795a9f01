"""/language: English or Arabic, stored on the student."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.ui.format import with_balance
from bot.ui.keyboards import BTN_LANGUAGE, MenuButton, main_menu
from bot.ui.webapp import set_menu_button
from core.config import Settings
from core.db import BriefAsyncSession
from core.services import students
from core.services.students import UserInfo


class LangCb(CallbackData, prefix="lang"):
    code: str


async def cmd_language(message: Message, student: UserInfo) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="English", callback_data=LangCb(code="en").pack()),
                InlineKeyboardButton(text="العربية", callback_data=LangCb(code="ar").pack()),
            ]
        ]
    )
    await message.answer(with_balance(_("🌐 Choose your language:"), student.balance), reply_markup=markup)


async def on_language(
    callback: CallbackQuery,
    callback_data: LangCb,
    session: BriefAsyncSession,
    student: UserInfo,
    i18n: I18n,
    bot: Bot,
    settings: Settings,
) -> None:
    student = await session.run_sync(students.set_language, student.id, callback_data.code)
    with i18n.use_locale(student.language):
        await callback.answer()
        await callback.message.answer(
            with_balance(_("✅ Language set to English."), student.balance), reply_markup=main_menu()
        )
        await set_menu_button(bot, callback.message.chat.id, settings.webapp_url)  # the app opens in it too


def build_router() -> Router:
    router = Router(name="language")
    router.message.register(cmd_language, Command("language"))
    router.message.register(cmd_language, MenuButton(BTN_LANGUAGE))
    router.callback_query.register(on_language, LangCb.filter(F.code.in_({"en", "ar"})))
    return router
