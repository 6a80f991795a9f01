"""What no feature router took: stale buttons, unknown commands, unread answers, edits, anything else."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.ui.keyboards import main_menu


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
    await message.answer(_("I did not understand that. Use the menu below or send /help."), reply_markup=main_menu())


def build_router() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(on_stale_button)
    router.message.register(on_unknown_command, F.text.startswith("/"))
    router.message.register(on_unexpected_answer, ~StateFilter(None))
    router.message.register(on_other_message)
    router.edited_message.register(on_edited_message, F.chat.type == "private")
    return router
