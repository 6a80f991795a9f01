"""The last word on an update: domain errors translated, unexpected errors apologised for with a reference."""

from __future__ import annotations

import logging
import re
import uuid
from html import unescape
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Update
from aiogram.utils.i18n import gettext as _

from bot.metrics import UPDATES_FAILED
from bot.ui.errors import error_text
from core.errors import DomainError

log = logging.getLogger("bot.errors")
_TAGS = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    return unescape(_TAGS.sub("", text))


async def tell(event: Update, data: dict[str, Any], text: str, *, also_message: bool = False) -> None:
    """Answer a callback with an alert, or a message with a message."""
    try:
        if event.callback_query is not None:
            try:
                await event.callback_query.answer(plain(text)[:190], show_alert=True)
                if not also_message:
                    return
            except TelegramAPIError:  # already answered or too old: say it in the chat instead
                pass
        chat = data.get("event_chat")
        if chat is not None:
            await data["bot"].send_message(chat.id, text)
    except TelegramAPIError:
        log.warning("could not tell the user about an error", exc_info=True)


class ErrorsMiddleware(BaseMiddleware):
    """Every failure below it gets an answer, and the bot keeps running."""

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except DomainError as exc:
            try:
                text = error_text(exc)
            except Exception:  # details the words did not expect: still an answer, never silence
                log.exception("could not word domain error %s", exc.code)
                text = _("That did not work. Please try again.")
            await tell(event, data, text)
        except Exception as exc:
            if isinstance(exc, TelegramBadRequest) and "message is not modified" in exc.message:
                # a double tap, or the page already shown: nothing changes, the button just stops spinning
                if event.callback_query is not None:
                    try:
                        await event.callback_query.answer()
                    except TelegramAPIError:
                        pass
                return None
            ref = uuid.uuid4().hex[:8].upper()
            UPDATES_FAILED.inc()
            log.exception(
                "update %s failed [ref %s]",
                event.update_id,
                ref,
                extra={"error_ref": ref, "update_id": event.update_id},
            )
            await tell(
                event,
                data,
                _(
                    "😔 Sorry, something went wrong on our side. Please try again later. "
                    "Error reference: <code>{ref}</code>"
                ).format(ref=ref),
                also_message=True,
            )
        return None
