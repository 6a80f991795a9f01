"""Where a conversation may go: private chats only for students; a menu button or command leaves a flow."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, Update
from aiogram.utils.i18n import gettext as _

from bot.i18n import all_translations
from bot.ui.keyboards import MENU


class PrivateChatOnlyMiddleware(BaseMiddleware):
    """In a group the bot shows a student no wallet and starts no flow: a command is asked to come to the private
    chat, other group messages are not answered. A button pressed in a group by a student, or under an inline
    message (the bot sends none: it is forged), is answered the same way, never handled without a chat."""

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        chat = data.get("event_chat")
        callback = event.callback_query
        if callback is not None and callback.message is None:
            await callback.answer(_("This button is no longer valid. Please open the menu again."), show_alert=True)
            return None
        if callback is not None and chat is not None and chat.type != "private" and not data.get("is_admin"):
            await callback.answer(
                _("Let's talk in private, where your wallet stays yours: open a chat with me and send /start."),
                show_alert=True,
            )
            return None
        if event.message is None or chat is None or chat.type == "private" or data.get("is_admin"):
            return await handler(event, data)  # admins may work from a staff group
        if (event.message.text or "").startswith("/"):
            await data["bot"].send_message(
                chat.id, _("Let's talk in private, where your wallet stays yours: open a chat with me and send /start.")
            )
        return None


class LeaveFlowMiddleware(BaseMiddleware):
    """A main-menu button or another command sent in the middle of a flow leaves the flow: it is never read as
    the answer, and text typed later is not taken for a top-up, a reason, notes or feedback.
    /cancel says itself what it left."""

    async def __call__(self, handler, event: Message, data: dict[str, Any]) -> Any:
        text = event.text or ""
        if data.get("raw_state") is not None and text and "i18n" in data:
            command = text.startswith("/") and text.split()[0].split("@")[0] != "/cancel"
            if command or any(text in all_translations(data["i18n"], label) for row in MENU for label in row):
                await data["state"].clear()
                data["raw_state"] = None
        return await handler(event, data)
