"""What the students' API says when it refuses, in the student's language, from the one catalog (core.words):
a domain error in the same words as the bot's (core.words.errors), and the API's own refusals below."""

from __future__ import annotations

from decimal import Decimal

from core.errors import DomainError
from core.money import format_money
from core.words import N_, digits, gettext_for, language_of
from core.words.errors import Voice, error_text, text_for_code

# Refusals of the API itself (no domain error of core's says them)
API_WORDS = {
    "AUTH_FAILED": N_("Please open this page from the CodeHub bot in Telegram."),
    "AUTH_EXPIRED": N_("This session is too old. Close the page and open it again from the bot."),
    "IDEMPOTENCY_KEY_MISSING": N_("Missing Idempotency-Key header."),
    "IDEMPOTENCY_KEY_REUSED": N_("This request key was already used for a different request."),
    "REQUEST_IN_FLIGHT": N_("Your previous request is still being processed. Please wait a moment."),
    "RATE_LIMITED": N_("Too many requests. Please wait a minute and try again."),
    "PAYMENTS_PAUSED": N_(
        "Payments are paused for a moment on our side. Nothing was charged: please try again in a minute."
    ),
    "MENTOR_REQUIRED": N_("Please choose a mentor."),
    "SERVER_ERROR": N_("Something went wrong on our side. Nothing was changed. Please try again."),
}


def voice(language: str) -> Voice:
    """The web's voice: amounts and numbers as the bot writes them in that language; no HTML escaping (JSON)."""
    language = language_of(language)
    return Voice(
        _=gettext_for(language),
        money=lambda amount: format_money(Decimal(str(amount)), None, language),
        number=lambda value: digits(str(value), language),
    )


def error_message(code: str, language: str, **details) -> str:
    """The message for an error code the API answers with (its own, or a domain error's by its code)."""
    v = voice(language)
    if code in API_WORDS:
        return v._(API_WORDS[code])
    return text_for_code(code, details, v) or v._("That did not work. Please try again.")


def domain_message(err: DomainError, language: str) -> str:
    return error_text(err, voice(language))
