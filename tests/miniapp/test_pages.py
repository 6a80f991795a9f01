"""Mini App pages: frameable by Telegram Web only, strict script policy, no inline scripts, vendored assets."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.student_api.conftest import build_api

PAGES = [
    "/app/",
    "/app/dashboard/wallet",
    "/app/dashboard/enrollments",
    "/app/dashboard/mentorship",
    "/app/mentorship/book",
]
TEMPLATES = Path(__file__).resolve().parents[2] / "admin_panel" / "miniapp" / "templates" / "miniapp"


@pytest.fixture
def app(sqlite_url, tmp_path):
    api = build_api(sqlite_url, tmp_path)
    yield api.app
    api.db.dispose()


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_frameable_by_telegram_web_only(app, path):
    r = app.test_client().get(path + "?lang=ar")
    assert r.status_code == 200
    assert "X-Frame-Options" not in r.headers
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://web.telegram.org" in csp and "script-src 'self';" in csp
    assert 'dir="rtl"' in r.text and "telegram-web-app.js" in r.text


def test_the_panel_still_refuses_framing(app):
    r = app.test_client().get("/admin/login")
    assert r.status_code == 200 and r.headers["X-Frame-Options"] == "DENY"


def test_no_inline_script_in_any_mini_app_template():
    templates = sorted(TEMPLATES.glob("*.html"))
    assert len(templates) >= len(PAGES)  # the folder the Mini App renders from, not an empty one
    for template in templates:
        for tag in re.findall(r"<script\b[^>]*>", template.read_text()):
            assert "src=" in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+=", template.read_text()), template.name  # no inline handlers


def test_telegram_script_is_vendored_and_served(app):
    r = app.test_client().get("/app/assets/telegram-web-app.js")
    assert r.status_code == 200 and b"WebApp" in r.data and b"initData" in r.data


def test_openapi_is_for_admins_only(app):
    assert app.test_client().get("/api/openapi.json").status_code == 401
    assert app.test_client().get("/api-docs").status_code == 302


def test_the_launch_page_knows_every_page_the_bot_links_to(app):
    """The menu button and t.me/<bot>/<app>?startapp=<page> land on /app/; its script follows the link named by
    start_param. Every page name the bot uses (bot/webapp.PAGES) must be there, leading to the same page."""
    from bot.ui.webapp import PAGES as BOT_PAGES

    page = app.test_client().get("/app/?lang=ar").text
    links = dict(re.findall(r'data-page="([a-z]+)" href="([^"]+)"', page))
    assert set(links) == set(BOT_PAGES)
    for name, path in BOT_PAGES.items():
        ours, theirs = urlsplit(links[name].replace("&amp;", "&")), urlsplit(path)
        assert ours.path == theirs.path and parse_qs(ours.query) == {**parse_qs(theirs.query), "lang": ["ar"]}, name


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_page_shows_words_never_python_objects(app, lang):
    """A template reading `t.copy` off a dict showed `<built-in method copy of dict object at 0x…>` on the
    wallet page's Copy button: the labels reach templates as words only (miniapp.labels.Words)."""
    from admin_panel.miniapp.labels import labels

    client = app.test_client()
    for path in PAGES:
        page = client.get(f"{path}?lang={lang}").text
        for leak in ("built-in method", "bound method", " object at 0x", "None", "undefined"):
            assert leak not in page, (path, leak)
    wallet = client.get(f"/app/dashboard/wallet?lang={lang}").text
    assert re.search(r'id="copy-number">\s*' + re.escape(labels(lang)["copy"]) + r"\s*</button>", wallet)


def test_every_page_has_an_icon_and_favicon_ico_is_served(app):
    """Browsers ask each site for /favicon.ico: it was a 404 on every page."""
    client = app.test_client()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    for path in [*PAGES, "/admin/login"]:
        assert 'rel="icon" href="/favicon.ico"' in client.get(path).text, path
