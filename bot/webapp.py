"""Buttons that open the students' Mini App (the lead wires them into /start, /balance, /platforms, /book).

Only inline `web_app` buttons and the chat menu button carry signed init data; a reply-keyboard
web_app button does not, so none is built here. Without WEBAPP_URL every function returns None
and the bot simply shows no web buttons.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, MenuButtonDefault, MenuButtonWebApp, WebAppInfo

PAGES = {  # page name (also the startapp parameter) -> path of the Mini App page
    "wallet": "/app/dashboard/wallet",
    "topup": "/app/dashboard/wallet?focus=topup",  # no #fragment: Telegram puts its launch data there
    "platforms": "/app/dashboard/enrollments",
    "mentorship": "/app/dashboard/mentorship",
    "book": "/app/mentorship/book",
}
LABELS = {
    "en": {"wallet": "💳 Open wallet", "topup": "➕ Top up in the app", "platforms": "📚 Open platforms",
           "mentorship": "🎓 Open mentorship", "book": "📅 Book in the app", "menu": "CodeHub"},
    "ar": {"wallet": "💳 افتح المحفظة", "topup": "➕ اشحن من التطبيق", "platforms": "📚 افتح المنصات",
           "mentorship": "🎓 افتح الإرشاد", "book": "📅 احجز من التطبيق", "menu": "CodeHub"},
}


def page_url(base_url: str | None, page: str, language: str = "en") -> str | None:
    """https://host/app/dashboard/wallet?lang=ar, or None without a base URL."""
    if not base_url:
        return None
    path = PAGES[page]
    return f"{base_url.rstrip('/')}{path}{'&' if '?' in path else '?'}{urlencode({'lang': 'ar' if language == 'ar' else 'en'})}"


def label(page: str, language: str = "en") -> str:
    return LABELS["ar" if language == "ar" else "en"][page]


def web_app_button(base_url: str | None, page: str, language: str = "en",
                   text: str | None = None) -> InlineKeyboardButton | None:
    """An inline button opening `page` inside Telegram, or None when WEBAPP_URL is not set."""
    url = page_url(base_url, page, language)
    if url is None:
        return None
    return InlineKeyboardButton(text=text or label(page, language), web_app=WebAppInfo(url=url))


def menu_button(base_url: str | None, language: str = "en", text: str | None = None):
    """The chat menu button: the Mini App's launch page (which honours startapp), or Telegram's default."""
    if not base_url:
        return MenuButtonDefault()
    url = f"{base_url.rstrip('/')}/app/?lang={'ar' if language == 'ar' else 'en'}"
    return MenuButtonWebApp(text=text or label("menu", language), web_app=WebAppInfo(url=url))


async def set_menu_button(bot: Bot, chat_id: int, base_url: str | None, language: str = "en") -> None:
    await bot.set_chat_menu_button(chat_id=chat_id, menu_button=menu_button(base_url, language))


def startapp_link(bot_username: str | None, short_name: str | None, page: str) -> str | None:
    """t.me/<bot>/<app>?startapp=<page>: opens the Mini App (registered with @BotFather /newapp) on `page`."""
    if not bot_username or not short_name or page not in PAGES:
        return None
    return f"https://t.me/{quote(bot_username.lstrip('@'))}/{quote(short_name)}?startapp={page}"
