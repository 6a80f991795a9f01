"""The locale of each update: the student's stored language, else Telegram's language_code."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18nMiddleware

from core.words import LANGUAGES, language_of


class StudentI18nMiddleware(I18nMiddleware):
    """The student's stored language; before registration, Telegram's language_code."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        student = data.get("student")
        if student is not None and student.language in LANGUAGES:
            return student.language
        user = data.get("event_from_user")
        return language_of(user.language_code if user else None)
