"""The students' words, written once for every interface: one gettext catalog (locales/: English msgids, Arabic
translations) read by the bot (aiogram's I18n) and by the web (the students' API and the Mini App); the one rule
that picks a student's language; and, in labels.py and errors.py, the names of statuses and transaction types
and the sentence for each domain error.

Texts are marked with `_("...")` (or `N_("...")` where only the msgid is stored); locales/README.md says how to
extract, translate and compile them.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
LANGUAGES = ("en", "ar")
DEFAULT_LANGUAGE = "en"


def language_of(code: str | None) -> str:
    """The language we speak to a student whose Telegram (or browser) language is `code`: Arabic for any Arabic,
    English otherwise."""
    return "ar" if (code or "").strip().lower().startswith("ar") else DEFAULT_LANGUAGE


_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def digits(text: str, language: str) -> str:
    """Numbers as the reader writes them: Arabic-Indic digits in Arabic."""
    return text.translate(_ARABIC_DIGITS) if language_of(language) == "ar" else text


def N_(msgid: str) -> str:
    """Marks a msgid for extraction where the text is translated later, in the reader's language."""
    return msgid


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALES_DIR, [language_of(language)], fallback=True)


def gettext_for(language: str):
    """`_` for one language: the catalog's translation of a msgid (the msgid itself when it has none)."""
    return translations(language_of(language)).gettext
