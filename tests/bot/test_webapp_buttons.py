"""bot/webapp.py: web_app buttons and the menu button open the right Mini App page, only with WEBAPP_URL."""
from __future__ import annotations

import pytest
from aiogram.types import MenuButtonDefault, MenuButtonWebApp

from bot import webapp
from core.config import ConfigError, load_settings

BASE = "https://codehub.example.com"


@pytest.mark.parametrize("page,path", [("wallet", "/app/dashboard/wallet?lang=ar"),
                                       ("topup", "/app/dashboard/wallet?focus=topup&lang=ar"),
                                       ("platforms", "/app/dashboard/enrollments?lang=ar"),
                                       ("mentorship", "/app/dashboard/mentorship?lang=ar"),
                                       ("book", "/app/mentorship/book?lang=ar")])
def test_inline_buttons_open_each_page_in_the_students_language(page, path):
    button = webapp.web_app_button(BASE + "/", page, "ar")
    assert button.web_app.url == BASE + path
    assert button.text == webapp.LABELS["ar"][page] and button.url is None and button.callback_data is None


def test_no_base_url_means_no_buttons():
    assert webapp.web_app_button(None, "wallet") is None
    assert isinstance(webapp.menu_button(None), MenuButtonDefault)
    assert webapp.startapp_link("codehub_bot", None, "wallet") is None


def test_menu_button_opens_the_launch_page():
    button = webapp.menu_button(BASE, "en")
    assert isinstance(button, MenuButtonWebApp)
    assert button.web_app.url == BASE + "/app/?lang=en" and button.text == "CodeHub"


def test_startapp_link():
    assert webapp.startapp_link("@codehub_bot", "app", "book") == "https://t.me/codehub_bot/app?startapp=book"
    assert webapp.startapp_link("codehub_bot", "app", "nope") is None


def test_webapp_url_setting_must_be_https(tmp_path):
    assert load_settings(_env_file=None, webapp_url="https://codehub.example.com/").webapp_url == BASE
    assert load_settings(_env_file=None, webapp_url="").webapp_url is None
    assert load_settings(_env_file=None, webapp_url="http://127.0.0.1:8000").webapp_url == "http://127.0.0.1:8000"
    with pytest.raises(ConfigError, match="WEBAPP_URL"):
        load_settings(_env_file=None, webapp_url="http://codehub.example.com")


async def test_set_menu_button_calls_telegram():
    calls = []

    class FakeBot:
        async def set_chat_menu_button(self, **kw):
            calls.append(kw)

    await webapp.set_menu_button(FakeBot(), 42, BASE, "ar")
    assert calls[0]["chat_id"] == 42 and calls[0]["menu_button"].web_app.url == BASE + "/app/?lang=ar"
