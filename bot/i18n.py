"""Translations: gettext catalogs under bot/locales, the locale chosen per user."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from aiogram.utils.i18n import I18n

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("en", "ar")


def build_i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale="en", domain="messages")


@lru_cache(maxsize=4096)
def all_translations(i18n: I18n, msgid: str) -> frozenset[str]:
    """The text of `msgid` in every language (a menu button typed in either language). Cached: the catalogs
    are loaded once, and every menu-button filter asks this for every message that reaches it."""
    return frozenset({msgid, *(i18n.gettext(msgid, locale=loc) for loc in i18n.available_locales)})
