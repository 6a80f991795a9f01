"""Buttons that open the students' Mini App: inline `web_app` buttons under /start, /balance, /platforms,
/mentors and /book, the chat menu button, and t.me `startapp` links.

Only inline `web_app` buttons and the chat menu button carry signed init data; a reply-keyboard
web_app button does not, so none is built here. Without WEBAPP_URL every builder returns None (or no
row) and the bot simply shows no web buttons. Labels are gettext msgids, worded in the reader's language.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlencode

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardButton, MenuButtonDefault, MenuButtonWebApp, WebAppInfo
from aiogram.utils.i18n import gettext as _

from bot.ui.format import locale
from bot.ui.keyboards import N_
from core.words import language_of

log = logging.getLogger("bot.webapp")

PAGES = {  # page name (also the startapp parameter) -> path of the Mini App page
    "wallet": "/app/dashboard/wallet",
    "topup": "/app/dashboard/wallet?focus=topup",  # no #fragment: Telegram puts its launch data there
    "platforms": "/app/dashboard/enrollments",
    "mentorship": "/app/dashboard/mentorship",
    "book": "/app/mentorship/book",
}
LABELS = {  # msgids; translated where the button is built
    "wallet": N_("💳 Open wallet"),
    "topup": N_("➕ Top up in the app"),
    "platforms": N_("📚 Open platforms"),
    "mentorship": N_("🎓 Open mentorship"),
    "book": N_("📅 Book in the app"),
    "menu": N_("CodeHub app"),
}


def _lang(language: str | None) -> str:
    return language_of(language)


def page_url(base_url: str | None, page: str, language: str = "en") -> str | None:
    """https://host/app/dashboard/wallet?lang=ar, or None without a base URL."""
    if not base_url:
        return None
    path = PAGES[page]
    return f"{base_url.rstrip('/')}{path}{'&' if '?' in path else '?'}{urlencode({'lang': _lang(language)})}"


def launch_url(base_url: str, language: str = "en") -> str:
    """The launch page, which opens the page named by `start_param` (the wallet by default)."""
    return f"{base_url.rstrip('/')}/app/?{urlencode({'lang': _lang(language)})}"


def label(page: str) -> str:
    """The button's words in the current update's language."""
    return _(LABELS[page])


def web_app_button(
    base_url: str | None, page: str, language: str | None = None, text: str | None = None
) -> InlineKeyboardButton | None:
    """An inline button opening `page` inside Telegram, or None when WEBAPP_URL is not set.

    `language` defaults to the current update's locale (the student's language)."""
    if not base_url:
        return None
    language = _lang(language or locale())
    return InlineKeyboardButton(text=text or label(page), web_app=WebAppInfo(url=page_url(base_url, page, language)))


def web_app_rows(base_url: str | None, *pages: str) -> list[list[InlineKeyboardButton]]:
    """Keyboard rows (one button each) to append under a screen: [] without WEBAPP_URL."""
    return [[web_app_button(base_url, page)] for page in pages] if base_url else []


def menu_button(base_url: str | None, language: str | None = None, text: str | None = None):
    """The chat menu button: the Mini App's launch page (which honours startapp), or Telegram's default."""
    if not base_url:
        return MenuButtonDefault()
    language = _lang(language or locale())
    return MenuButtonWebApp(text=text or label("menu"), web_app=WebAppInfo(url=launch_url(base_url, language)))


async def set_menu_button(bot: Bot, chat_id: int, base_url: str | None, language: str | None = None) -> bool:
    """Point this chat's menu button at the Mini App; without WEBAPP_URL nothing is sent (Telegram keeps its
    default). A refusal from Telegram is logged, never shown to the student: the inline buttons still work."""
    if not base_url:
        return False
    try:
        await bot.set_chat_menu_button(chat_id=chat_id, menu_button=menu_button(base_url, language))
    except TelegramAPIError as exc:
        log.warning("setChatMenuButton for chat %s failed: %s", chat_id, exc)
        return False
    return True


def startapp_link(bot_username: str | None, short_name: str | None, page: str) -> str | None:
    """t.me/<bot>/<app>?startapp=<page>: opens the Mini App (registered with @BotFather /newapp) on `page`."""
    if not bot_username or not short_name or page not in PAGES:
        return None
    return f"https://t.me/{quote(bot_username.lstrip('@'))}/{quote(short_name)}?startapp={page}"


async def bot_startapp_link(bot: Bot, short_name: str | None, page: str) -> str | None:
    """startapp_link for this bot (its username from getMe, which aiogram caches), or None without
    WEBAPP_SHORT_NAME."""
    if not short_name:
        return None
    me = await bot.me()
    return startapp_link(me.username, short_name, page)
