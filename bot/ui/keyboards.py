"""The main reply-keyboard menu and small shared inline buttons."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, KeyboardButton, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import ReplyKeyboardBuilder
from pydantic import Field

from bot.i18n import all_translations

# The id of a row, carried in a button: a forged one past what a database integer holds (2^31 - 1 on
# PostgreSQL) makes the button unreadable (a stale button), never an overflow in the query.
RowId = Annotated[int, Field(ge=0, le=2**31 - 1)]


def N_(text: str) -> str:
    """Marks a text for extraction; translated where it is shown."""
    return text


BTN_BALANCE = N_("💰 Balance")
BTN_TOPUP = N_("➕ Top up")
BTN_HISTORY = N_("📜 History")
BTN_PLATFORMS = N_("📚 Platforms")
BTN_MY = N_("🎓 My platforms")
BTN_MENTORS = N_("👨‍🏫 Mentors")
BTN_SESSIONS = N_("📅 My sessions")
BTN_LANGUAGE = N_("🌐 Language")
BTN_HELP = N_("❓ Help")
MENU = [
    [BTN_BALANCE, BTN_TOPUP, BTN_HISTORY],
    [BTN_PLATFORMS, BTN_MY],
    [BTN_MENTORS, BTN_SESSIONS],
    [BTN_LANGUAGE, BTN_HELP],
]


_MENUS: dict[tuple, ReplyKeyboardMarkup] = {}
_MENU_JSON: dict[int, str] = {}  # id of a menu above -> its JSON as sent (the menus live as long as the process)


def sent_as(markup) -> str | None:
    """The JSON a main menu is sent as, serialized once (None for any other markup)."""
    return _MENU_JSON.get(id(markup))


def main_menu() -> ReplyKeyboardMarkup:
    """The menu in the current language, built once per language: building it (aiogram's builder validates
    and deep-copies each button) is a large part of a /start. Sent as is, never changed."""
    labels = tuple(tuple(_(label) for label in row) for row in MENU)
    markup = _MENUS.get(labels)
    if markup is None:
        builder = ReplyKeyboardBuilder()
        for row in labels:
            builder.row(*(KeyboardButton(text=label) for label in row))
        markup = _MENUS[labels] = builder.as_markup(resize_keyboard=True, is_persistent=True)
        _MENU_JSON[id(markup)] = markup.model_dump_json(exclude_none=True)
    return markup


class MenuButton(Filter):
    """A menu button, in whichever language the keyboard was drawn."""

    def __init__(self, msgid: str):
        self.msgid = msgid

    async def __call__(self, message: Message, i18n: I18n) -> bool:
        return bool(message.text) and message.text in all_translations(i18n, self.msgid)


class WalletCb(CallbackData, prefix="w"):
    action: str  # topup | history | balance


def topup_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("➕ Top up"), callback_data=WalletCb(action="topup").pack())
