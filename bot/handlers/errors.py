"""The last word: domain errors translated, unexpected errors apologised for, stale input explained."""
from __future__ import annotations

import logging
import re
import uuid
from html import unescape
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message, Update
from aiogram.utils.i18n import gettext as _

from bot.keyboards import main_menu
from bot.metrics import UPDATES_FAILED
from bot.ui import error_text
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
    """Innermost update middleware: the bot answers every failure and keeps running."""

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
            log.exception("update %s failed [ref %s]", event.update_id, ref,
                          extra={"error_ref": ref, "update_id": event.update_id})
            await tell(event, data, _("😔 Sorry, something went wrong on our side. Please try again later. "
                                      "Error reference: <code>{ref}</code>").format(ref=ref), also_message=True)
        return None


async def on_stale_button(callback: CallbackQuery) -> None:
    await callback.answer(_("This button is no longer valid. Please open the menu again."), show_alert=True)


async def on_unknown_command(message: Message) -> None:
    await message.answer(_("Unknown command. Send /help to see what I can do."), reply_markup=main_menu())


async def on_unexpected_answer(message: Message) -> None:
    """A photo, sticker or voice note (or anything else unread) while a step waits for an answer."""
    await message.answer(_("Please answer the question above, or send /cancel to stop."))


async def on_edited_message(message: Message) -> None:
    """An edit is not read as an answer (the step may have moved on): say so, so a corrected amount is resent."""
    await message.answer(_("✏️ I do not read edited messages. Please send the corrected text as a new message."))


async def on_other_message(message: Message) -> None:
    await message.answer(_("I did not understand that. Use the menu below or send /help."),
                         reply_markup=main_menu())


def build_router() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(on_stale_button)
    router.message.register(on_unknown_command, F.text.startswith("/"))
    router.message.register(on_unexpected_answer, ~StateFilter(None))
    router.message.register(on_other_message)
    router.edited_message.register(on_edited_message, F.chat.type == "private")
    return router
