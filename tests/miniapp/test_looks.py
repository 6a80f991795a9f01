"""Every Mini App screen a student can reach, looked at in Chromium: English and Arabic, Telegram's light and
dark themes, a phone (390x844) and a laptop (1366x900). On each: no leftover text (`None`, `undefined`, raw
enum names, `{`), the screen's primary actions on screen without sideways scrolling, no serious or critical
axe-core violation of WCAG 2 A/AA (colour contrast among them) and every tap target at least 44x44 px
(tests/looks.py). One browser and one seeded server for the module; screenshots in test-output/looks-*.png.

The launch page (/app/) only forwards to one of these screens; the Mini App has no profile or settings
screen (a student's language is the bot's /language).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core.services import mentorship
from core.services.common import Actor
from core.timeutil import utcnow
from tests.factories import approved_topup, pending_topup
from tests.looks import VIEWPORTS, look, report
from tests.miniapp.phone import DARK, LIGHT, Phone
from tests.student_api.conftest import MARIAM, OMAR

pytestmark = [pytest.mark.slow, pytest.mark.browser]

STUDENT = {"en": OMAR, "ar": MARIAM}  # the school's students who read English and Arabic
THEMES = {"light": LIGHT, "dark": DARK}
ENROLLED = "article[data-platform]:has(.badge.ok)"
NOT_ENROLLED = "article[data-platform]:not(:has(.badge.ok))"


def give_each_student_a_full_history(api) -> None:
    """On top of the school (tests/factories.py): money to spend, a pending top-up, a pending booking and a
    completed session waiting for its rating, for both students."""
    now = utcnow()
    with api.session() as s:
        for n, telegram_id in enumerate(STUDENT.values()):
            user = api.user_id(telegram_id)
            approved_topup(s, user, "2000.00", "01012345678", key=f"looks-{n}-1", now=now - timedelta(days=4))
            pending_topup(s, user, "120.00", "01098765432", key=f"looks-{n}-2", now=now - timedelta(hours=2))
            done = mentorship.book(s, user, 2, 30, "Pandas basics", idempotency_key=f"looks-{n}-3", now=now)
            mentorship.confirm(s, done.booking.id, now + timedelta(hours=1), "Meet link", actor=Actor("t"), now=now)
            mentorship.complete(s, done.booking.id, actor=Actor("t"), now=now + timedelta(hours=2))
        omar = api.user_id(OMAR)  # Mariam's pending booking is the school's
        mentorship.book(s, omar, 1, 30, "Graphs again", idempotency_key="looks-pending", now=now)


@pytest.fixture(scope="module")
def school(live):
    api, base = live
    give_each_student_a_full_history(api)
    return api, base


@pytest.fixture(scope="module")
def phones(school, browser):
    """One context per language, theme and size, opened when first needed."""
    _api, base = school
    opened: dict[tuple, Phone] = {}

    def phone(lang: str, theme: str, size: str) -> Phone:
        key = (lang, theme, size)
        if key not in opened:
            opened[key] = Phone(browser, base, STUDENT[lang], lang, THEMES[theme], VIEWPORTS[size])
        return opened[key]

    yield phone
    for each in opened.values():
        each.close()


def loaded(page) -> None:
    expect(page.locator("[aria-busy=true]")).to_have_count(0)  # every list drawn (no skeletons)


def open_receipt(page) -> None:
    page.locator("#history-list li[data-id] button").first.click()
    expect(page.locator("#receipt")).to_be_visible()


def open_tasks(page) -> None:
    page.locator(f"{ENROLLED} .row button").first.click()
    expect(page.locator("#task-list li").first).to_be_visible()


def open_enroll(page) -> None:
    page.locator(f"{NOT_ENROLLED} .row button").first.click()
    expect(page.locator("#enroll-summary")).to_be_visible()


def pick_a_duration(page) -> None:
    page.locator("#book-durations input").first.check()
    expect(page.locator("#book-submit")).to_be_enabled()


def open_book_confirm(page) -> None:
    pick_a_duration(page)
    page.click("#book-submit")
    expect(page.locator("#book-summary")).to_be_visible()


# name -> (path, what to do once it has loaded, its primary actions: name -> selector)
SCREENS = {
    "wallet": (
        "/app/dashboard/wallet",
        None,
        {"Send request": "#topup-submit", "Copy": "#copy-number", "Top up": "#quick-topup"},
    ),
    "topup": ("/app/dashboard/wallet?focus=topup&amount=150.00", None, {"Send request": "#topup-submit"}),
    "receipt": ("/app/dashboard/wallet", open_receipt, {"Close": "#sheet-ok"}),
    "platforms": (
        "/app/dashboard/enrollments",
        None,
        {"Enroll": f"{NOT_ENROLLED} .row button", "Tasks": f"{ENROLLED} .row button"},
    ),
    "tasks": ("/app/dashboard/enrollments", open_tasks, {"Mark done": "#task-list button"}),
    "enroll": ("/app/dashboard/enrollments", open_enroll, {"Confirm": "#sheet-ok", "Cancel": "#sheet-cancel"}),
    "mentorship": (
        "/app/dashboard/mentorship",
        None,
        {
            "Book a session": "#mentor-list a.btn",
            "Cancel booking": "#booking-list .btn.danger",
            "Send rating": ".rate-form button[type=submit]",
        },
    ),
    "book": ("/app/mentorship/book", pick_a_duration, {"Book a session": "#book-submit"}),
    "book-confirm": ("/app/mentorship/book", open_book_confirm, {"Confirm": "#sheet-ok", "Cancel": "#sheet-cancel"}),
}


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("screen", SCREENS)
def test_the_screen_reads_right_fits_and_passes_axe(phones, screen, lang, theme, size):
    path, setup, actions = SCREENS[screen]
    phone = phones(lang, theme, size)
    phone.open(path)
    loaded(phone.page)
    if setup:
        setup(phone.page)
    name = f"miniapp-{screen}-{lang}-{theme}-{size}"
    found = look(phone.page, name, actions, tap_targets=True)
    assert not found, report(name, found)


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_outside_telegram_the_notice_reads_right_and_passes_axe(school, browser, lang, theme, size):
    """No init data and no Telegram theme: the page's own light and dark colours (prefers-color-scheme)."""
    _api, base = school
    plain = Phone(browser, base, 0, lang, THEMES[theme], VIEWPORTS[size])
    plain.page.goto(f"/app/dashboard/wallet?lang={lang}")  # no init data: opened in a plain browser
    expect(plain.page.locator("#no-telegram")).to_be_visible()
    name = f"miniapp-outside-telegram-{lang}-{theme}-{size}"
    found = look(plain.page, name, {}, tap_targets=True)
    plain.close()
    assert not found, report(name, found)


BAD_PAGE = """<!doctype html><html><head><title>bad</title></head><body>
<p style="color:#aaa;background:#fff">Status: PENDING, balance None, {{ t.copy }}</p>
<img src="data:,">
<button style="width:30px;height:30px;padding:0">x</button>
<div style="width:1800px">wide</div>
<a id="far" href="#" style="position:absolute;left:1500px;top:10px">Approve</a>
</body></html>"""


def test_a_look_catches_each_thing_it_looks_for(browser):
    """The checks themselves, on a page that breaks each rule once: none of them passes by construction."""
    context = browser.new_context(viewport=VIEWPORTS["390"])
    page = context.new_page()
    page.set_content(BAD_PAGE)
    found = "\n".join(look(page, "self-check", {"Approve": "#far", "Missing": "#nowhere"}, tap_targets=True))
    context.close()
    for expected in (
        "leftover text 'PENDING'",
        "leftover text 'None'",
        "leftover text '{'",
        "scrolls sideways",
        "primary action 'Approve' is outside the window",
        "primary action 'Missing' (#nowhere) is not on the page",
        "axe color-contrast (serious)",
        "axe image-alt (critical)",
        "axe html-has-lang (serious)",
        'tap target under 44x44 px: button "x" 30x30',
    ):
        assert expected in found, f"{expected!r} not in:\n{found}"
