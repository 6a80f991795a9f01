"""Domain errors in the student's words, as the bot says them (core.words.errors has the words)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.ui.format import esc, money, number
from core.errors import DomainError
from core.words.errors import Voice
from core.words.errors import error_text as words_for

BOT_VOICE = Voice(_=lambda msgid: _(msgid), money=money, number=number, escape=esc)  # the update's language


def error_text(exc: DomainError) -> str:
    """Every domain error, translated into the language of the update being handled."""
    return words_for(exc, BOT_VOICE)
