"""Translations: the one gettext catalog of the students' words (core/words/locales), the locale chosen per user."""

from __future__ import annotations

from functools import lru_cache

from aiogram.utils.i18n import I18n

from core.words import DOMAIN, LANGUAGES, LOCALES_DIR

__all__ = ["LANGUAGES", "all_translations", "build_i18n"]


def build_i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale="en", domain=DOMAIN)


@lru_cache(maxsize=4096)
def all_translations(i18n: I18n, msgid: str) -> frozenset[str]:
    """The text of `msgid` in every language (a menu button typed in either language). Cached: the catalogs
    are loaded once, and every menu-button filter asks this for every message that reaches it."""
    return frozenset({msgid, *(i18n.gettext(msgid, locale=loc) for loc in i18n.available_locales)})
