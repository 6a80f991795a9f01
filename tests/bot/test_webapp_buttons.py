"""The Mini App opened from the bot: inline web_app buttons under /start, /balance, /platforms, /mentors and /book
open the matching page in the student's language, /start points the chat's menu button at the app, /help shows
the t.me startapp link; without WEBAPP_URL none of it (no web button, no menu-button call)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import pytest_asyncio
from aiogram.types import MenuButtonDefault, MenuButtonWebApp

from bot.i18n import build_i18n
from bot.ui import webapp
from core.config import ConfigError, load_settings
from tests.bot.fake_api import TOKEN, ApiCall, TgUser
from tests.bot.helpers import MONA, MONA_AR, BotRunner
from tests.factories import seed_catalog
from tests.helpers import make_settings

BASE = "https://codehub.example.com"
I18N = build_i18n()


@contextmanager
def in_language(language: str):
    """An update's gettext context, outside the dispatcher."""
    with I18N.context(), I18N.use_locale(language):
        yield


# -- the builders -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page,path",
    [
        ("wallet", "/app/dashboard/wallet?lang=ar"),
        ("topup", "/app/dashboard/wallet?focus=topup&lang=ar"),
        ("platforms", "/app/dashboard/enrollments?lang=ar"),
        ("mentorship", "/app/dashboard/mentorship?lang=ar"),
        ("book", "/app/mentorship/book?lang=ar"),
    ],
)
def test_inline_buttons_open_each_page_in_the_students_language(page, path):
    with in_language("ar"):
        button = webapp.web_app_button(BASE + "/", page)
    assert button.web_app.url == BASE + path
    assert button.text == I18N.gettext(webapp.LABELS[page], locale="ar") != webapp.LABELS[page]
    assert button.url is None and button.callback_data is None


def test_labels_are_translated_in_the_catalogs():
    for page, msgid in webapp.LABELS.items():
        arabic = I18N.gettext(msgid, locale="ar")
        assert arabic and arabic != msgid, page
        assert I18N.gettext(msgid, locale="en") == msgid


def test_no_base_url_means_no_buttons():
    assert webapp.web_app_button(None, "wallet", "en") is None
    assert webapp.web_app_rows(None, "wallet", "book") == []
    assert isinstance(webapp.menu_button(None, "en"), MenuButtonDefault)
    assert webapp.startapp_link("codehub_bot", None, "wallet") is None


def test_menu_button_opens_the_launch_page():
    with in_language("en"):
        button = webapp.menu_button(BASE)
    assert isinstance(button, MenuButtonWebApp)
    assert button.web_app.url == BASE + "/app/?lang=en" and button.text == "CodeHub app"


def test_startapp_link():
    assert webapp.startapp_link("@codehub_bot", "app", "book") == "https://t.me/codehub_bot/app?startapp=book"
    assert webapp.startapp_link("codehub_bot", "app", "nope") is None


def test_webapp_url_setting_must_be_https(tmp_path):
    assert load_settings(_env_file=None, webapp_url="https://codehub.example.com/").webapp_url == BASE
    assert load_settings(_env_file=None, webapp_url="").webapp_url is None
    assert load_settings(_env_file=None, webapp_url="http://127.0.0.1:8000").webapp_url == "http://127.0.0.1:8000"
    with pytest.raises(ConfigError, match="WEBAPP_URL"):
        load_settings(_env_file=None, webapp_url="http://codehub.example.com")


async def test_set_menu_button_calls_telegram_only_with_a_base_url():
    calls = []

    class FakeBot:
        async def set_chat_menu_button(self, **kw):
            calls.append(kw)

    with in_language("ar"):
        assert await webapp.set_menu_button(FakeBot(), 42, None) is False
        assert calls == []
        assert await webapp.set_menu_button(FakeBot(), 42, BASE) is True
    assert calls[0]["chat_id"] == 42 and calls[0]["menu_button"].web_app.url == BASE + "/app/?lang=ar"
    assert calls[0]["menu_button"].text == "تطبيق CodeHub"


# -- through the real dispatcher -------------------------------------------------------------------------


def web_buttons(calls: list[ApiCall]) -> list[tuple[str, str]]:
    """(text, url) of every inline web_app button the bot sent."""
    out = []
    for c in calls:
        markup = c.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard") or []:
            out += [(b["text"], b["web_app"]["url"]) for b in row if "web_app" in b]
    return out


def no_reply_keyboard_web_app(calls: list[ApiCall]) -> bool:
    """A reply-keyboard web_app button sends no init data: never one."""
    return not any(
        "web_app" in b
        for c in calls
        for row in (c.params.get("reply_markup") or {}).get("keyboard") or []
        for b in row
        if isinstance(b, dict)
    )


@pytest_asyncio.fixture
async def web_runner(fake_api, sqlite_url, tmp_path):
    settings = make_settings(
        sqlite_url,
        tmp_path,
        bot_token=TOKEN,
        telegram_api_url=fake_api.base_url,
        webapp_url=BASE + "/",
        webapp_short_name="app",
    )
    r = await BotRunner(fake_api, settings, throttle_limit=1000).start()
    yield r
    await r.stop()


@pytest.mark.parametrize(
    "user,lang,wallet_label,menu_label",
    [(MONA, "en", "💳 Open wallet", "CodeHub app"), (MONA_AR, "ar", "💳 افتح المحفظة", "تطبيق CodeHub")],
)
async def test_start_sets_the_menu_button_and_offers_the_wallet(web_runner, user, lang, wallet_label, menu_label):
    calls = await web_runner.send(user, "/start")
    [menu] = [c for c in calls if c.method == "setChatMenuButton"]
    assert menu.chat_id == user.id
    assert menu.params["menu_button"] == {
        "type": "web_app",
        "text": menu_label,
        "web_app": {"url": f"{BASE}/app/?lang={lang}"},
    }
    assert web_runner.api.menu_buttons[user.id]["web_app"]["url"] == f"{BASE}/app/?lang={lang}"
    assert web_buttons(calls) == [(wallet_label, f"{BASE}/app/dashboard/wallet?lang={lang}")]
    greeting = web_runner.api.sent_to(user.id)[0]
    assert greeting.params["reply_markup"].get("keyboard")  # the main menu stays a reply keyboard
    assert no_reply_keyboard_web_app(calls)


async def test_each_screen_opens_its_page(web_runner, sync_db):
    ids = seed_catalog(sync_db)
    await web_runner.send(MONA_AR, "/start")
    expected = {
        "/balance": ("💳 افتح المحفظة", "/app/dashboard/wallet?lang=ar"),
        "💰 الرصيد": ("💳 افتح المحفظة", "/app/dashboard/wallet?lang=ar"),
        "/platforms": ("📚 افتح المنصات", "/app/dashboard/enrollments?lang=ar"),
        "📚 المنصات": ("📚 افتح المنصات", "/app/dashboard/enrollments?lang=ar"),
        "/my": ("📚 افتح المنصات", "/app/dashboard/enrollments?lang=ar"),
        "/book": ("📅 احجز من التطبيق", "/app/mentorship/book?lang=ar"),
        "/mentors": ("🎓 افتح الإرشاد", "/app/dashboard/mentorship?lang=ar"),
    }
    for text, (label, path) in expected.items():
        calls = await web_runner.send(MONA_AR, text)
        assert web_buttons(calls) == [(label, BASE + path)], text
        assert no_reply_keyboard_web_app(calls)
    # the platform list reached by a button shows the same screen, with the same web button
    await web_runner.send(MONA_AR, f"/start platform_{ids['paid']}")
    page = web_runner.api.last_message(MONA_AR.id)
    calls = await web_runner.press_data(MONA_AR, page, page.callback_data("⬅️"))
    assert web_buttons(calls) == [("📚 افتح المنصات", BASE + "/app/dashboard/enrollments?lang=ar")]
    # the bot's own buttons are still there and still work
    calls = await web_runner.send(MONA_AR, "/book")
    booking = web_runner.api.last_message(MONA_AR.id)
    assert any("Ahmed" in b for b in booking.buttons)
    await web_runner.press(MONA_AR, booking, "Ahmed")
    assert "٣٠ دقيقة — ١٥٠٫٠٠ ج.م" in web_runner.api.last_message(MONA_AR.id).buttons


async def test_help_shows_the_startapp_link_and_language_moves_the_menu_button(web_runner):
    await web_runner.send(MONA, "/start")
    calls = await web_runner.send(MONA, "/help")
    assert "📱 The CodeHub app: https://t.me/codehub_test_bot/app?startapp=wallet" in calls[-1].text
    await web_runner.send(MONA, "/language")
    calls = await web_runner.press(MONA, web_runner.api.last_message(MONA.id), "العربية")
    [menu] = [c for c in calls if c.method == "setChatMenuButton"]
    assert menu.params["menu_button"]["web_app"]["url"] == f"{BASE}/app/?lang=ar"
    assert menu.params["menu_button"]["text"] == "تطبيق CodeHub"


async def test_without_a_short_name_help_has_no_link(fake_api, sqlite_url, tmp_path):
    settings = make_settings(sqlite_url, tmp_path, bot_token=TOKEN, telegram_api_url=fake_api.base_url, webapp_url=BASE)
    r = await BotRunner(fake_api, settings, throttle_limit=1000).start()
    try:
        await r.send(MONA, "/start")
        calls = await r.send(MONA, "/help")
        assert "t.me/" not in calls[-1].text and "ℹ️ CodeHub help" in calls[-1].text
    finally:
        await r.stop()


async def test_without_webapp_url_nothing_changes(runner, sync_db):
    seed_catalog(sync_db)
    student = TgUser(9190, "Plain", "plain", "en")
    calls = await runner.send(student, "/start")
    assert [c.method for c in calls if c.chat_id == student.id] == ["sendMessage"]  # the greeting alone
    for text in ("/balance", "/platforms", "/my", "/book", "/mentors", "/help", "💰 Balance", "📚 Platforms"):
        calls += await runner.send(student, text)
    assert web_buttons(calls) == [] and no_reply_keyboard_web_app(calls)
    assert not any(c.method in ("setChatMenuButton", "getChatMenuButton") for c in runner.api.calls)
    assert not any("t.me/" in c.text or "CodeHub app" in c.text for c in calls)


def test_each_request_is_one_json_body_with_the_fields_aiogram_would_send():
    """BotSession sends a request as JSON with the same fields and values as aiogram's own form, the main menu
    serialized once, in both languages; any other markup too; a request uploading a file goes as the form."""
    import json

    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.methods import SendDocument, SendMessage
    from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

    from bot.app import BotSession
    from bot.ui.keyboards import main_menu
    from tests.bot.fake_api import TOKEN

    def same_request(method) -> None:
        sent = json.loads(ours.json_body(bot, method))
        form = {options["name"]: value for options, _headers, value in plain.build_form_data(bot, method)._fields}
        assert sent.keys() == form.keys()
        for key, value in sent.items():  # the form carries text; JSON its values
            assert value == (form[key] if isinstance(value, str) else json.loads(form[key])), key

    i18n = build_i18n()
    ours, plain = BotSession(), AiohttpSession()
    bot = Bot(TOKEN, session=ours)
    for language in ("en", "ar"):
        with i18n.context(), i18n.use_locale(language):
            menu = main_menu()
        same_request(SendMessage(chat_id=5, text="hi <b>there</b>", reply_markup=menu))
        assert json.loads(ours.json_body(bot, SendMessage(chat_id=5, text="hi", reply_markup=menu)))["reply_markup"][
            "keyboard"
        ]
    inline = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="a", callback_data="b")]])
    same_request(SendMessage(chat_id=5, text="hi", reply_markup=inline, disable_notification=True))
    upload = SendDocument(chat_id=5, document=BufferedInputFile(b"a,b\n", filename="history.csv"))
    assert ours.json_body(bot, upload) is None
