"""/start (registration, welcome credit, deep links, the Mini App's menu button), /help and /cancel."""

from __future__ import annotations

import re

from aiogram import Bot, Router
from aiogram.filters import KICKED, ChatMemberUpdatedFilter, Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import ChatMemberUpdated, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.mentorship import show_mentors
from bot.handlers.platforms import show_platform
from bot.handlers.topup import start_topup
from bot.ui.format import esc, money, with_balance
from bot.ui.keyboards import BTN_HELP, MenuButton, main_menu
from bot.ui.webapp import bot_startapp_link, set_menu_button, web_app_rows
from core.config import Settings
from core.db import BriefAsyncSession
from core.services import notifications, students
from core.services.students import UserInfo


def about() -> str:
    return _(
        "With this bot you can:\n"
        "• top up your wallet with Vodafone Cash (/topup)\n"
        "• buy access to CodeHub platforms and do their tasks (/platforms, /my)\n"
        "• book paid sessions with a mentor (/mentors, /book, /sessions)\n"
        "• see your balance and history (/balance, /history)\n"
        "• switch between English and Arabic (/language)\n"
        "Send /cancel to leave any step."
    )


async def offer_web_app(message: Message, bot: Bot, settings: Settings) -> None:
    """With WEBAPP_URL: this chat's menu button opens the Mini App, and a message carries its inline button
    (the greeting itself carries the reply-keyboard menu, and a message has one keyboard)."""
    if not settings.webapp_url:
        return
    await set_menu_button(bot, message.chat.id, settings.webapp_url)
    await message.answer(
        _("📱 Everything here also works in the CodeHub app inside Telegram:"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=web_app_rows(settings.webapp_url, "wallet")),
    )


async def cmd_start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: BriefAsyncSession,
    student: UserInfo,
    just_registered: bool,
    bot: Bot,
    settings: Settings,
) -> None:
    await state.clear()
    if just_registered:
        greeting = _(
            "🎉 Welcome to CodeHub, {name}! Your wallet is ready with a welcome credit of <b>{bonus}</b>."
        ).format(name=esc(student.full_name), bonus=money(student.balance))
    else:
        # the name kept current, reachable again after a block: written only when one of them changed
        name, handle = message.from_user.full_name, message.from_user.username
        if students.welcome_back_needed(student, full_name=name, username=handle):  # no database call otherwise
            student = await session.run_sync(students.welcome_back, student, full_name=name, username=handle)
        greeting = _("👋 Welcome back, {name}!").format(name=esc(student.full_name))
    await message.answer(with_balance(f"{greeting}\n\n{about()}", student.balance), reply_markup=main_menu())
    await offer_web_app(message, bot, settings)
    arg = (command.args or "").strip()
    if arg == "topup":
        await start_topup(message, state, session, student)
    elif arg == "book":
        await show_mentors(message, session, student, booking=True, webapp_url=settings.webapp_url)
    elif re.fullmatch(r"platform_[0-9]{1,9}", arg):  # ASCII digits that fit an id: a forged link is ignored
        await show_platform(message, session, student, int(arg[9:]))


async def on_bot_blocked(event: ChatMemberUpdated, session: BriefAsyncSession) -> None:
    await session.run_sync(notifications.mark_chat_blocked, event.from_user.id)


async def cmd_help(message: Message, student: UserInfo, is_admin: bool, bot: Bot, settings: Settings) -> None:
    text = _("ℹ️ <b>CodeHub help</b>") + "\n\n" + about()
    link = await bot_startapp_link(bot, settings.webapp_short_name, "wallet")
    if link:  # a link to share or pin: it opens the Mini App from any chat
        text += "\n\n" + _("📱 The CodeHub app: {link}").format(link=esc(link))
    if is_admin:
        text += "\n\n" + _("Admin: /pending lists what waits for a decision, /stats shows today's numbers.")
    await message.answer(with_balance(text, student.balance), reply_markup=main_menu())


async def cmd_cancel(message: Message, state: FSMContext, student: UserInfo) -> None:
    had_flow = await state.get_state() is not None
    await state.clear()
    text = _("Cancelled. Nothing was changed.") if had_flow else _("There is nothing to cancel.")
    await message.answer(with_balance(text, student.balance), reply_markup=main_menu())


def build_router() -> Router:
    router = Router(name="start")
    router.message.register(cmd_start, CommandStart())
    router.my_chat_member.register(on_bot_blocked, ChatMemberUpdatedFilter(member_status_changed=KICKED))
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_help, MenuButton(BTN_HELP))
    router.message.register(cmd_cancel, Command("cancel"))
    return router
