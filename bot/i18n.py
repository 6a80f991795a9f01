"""Translations: gettext catalogs under bot/locales, the locale chosen per user."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware

from core.services.students import pick_language

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("en", "ar")


def build_i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale="en", domain="messages")


class StudentI18nMiddleware(I18nMiddleware):
    """The student's stored language; before registration, Telegram's language_code."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        student = data.get("student")
        if student is not None and student.language in LANGUAGES:
            return student.language
        user = data.get("event_from_user")
        return pick_language(user.language_code if user else None)


@lru_cache(maxsize=4096)
def all_translations(i18n: I18n, msgid: str) -> frozenset[str]:
    """The text of `msgid` in every language (a menu button typed in either language). Cached: the catalogs
    are loaded once, and every menu-button filter asks this for every message that reaches it."""
    return frozenset({msgid, *(i18n.gettext(msgid, locale=loc) for loc in i18n.available_locales)})
