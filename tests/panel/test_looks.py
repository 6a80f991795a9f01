"""The panel's main pages, looked at in Chromium on a phone (390x844) and a laptop (1366x900): no leftover
text (`None`, raw enum names, `{`), each page's primary actions on screen without sideways scrolling (on a
phone the lists are cards: defect 10 of issue 22), and no serious or critical axe-core violation of WCAG 2
A/AA (tests/looks.py). The panel has one (light) theme, in English and in Arabic (right to left), as the owner
picks on My profile.
One browser, one logged-in owner and one seeded server for the module; screenshots in test-output/looks-*.png.
"""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from admin_panel import create_app
from core.models import Admin, BookingStatus, MentorshipBooking, Platform, Transaction, TransactionType
from core.services import api_tokens, broadcasts
from core.services.common import Actor
from tests.external import keep_offline, require_chromium
from tests.helpers import make_settings
from tests.looks import PHONE, VIEWPORTS, look, report, serve, sideways
from tests.panel.helpers import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LANGUAGES = ["en", "ar"]
FIRST_PENDING = "table.model-list tbody tr:first-child .row-actions"
EXPORT = ".nav-tabs a.dropdown-toggle:has(+ .dropdown-menu a[href*='/export/'])"
# name -> (path, its primary actions: name -> selector); {student} and {booking}: the seeded ones (fixture `server`)
PAGES = {
    "dashboard": ("/admin/", {"Oldest pending top-up": "#needs-attention a[href*='/topups/']"}),
    "queue": (
        "/admin/topups/",
        {
            "Approve": f"{FIRST_PENDING} .btn-success, {FIRST_PENDING} .btn-outline-success",
            "Reject": f"{FIRST_PENDING} .btn-outline-danger",
        },
    ),
    "transactions": ("/admin/transactions/", {"Export": EXPORT}),
    "bookings": ("/admin/bookings/", {"Confirm": "table.model-list tbody tr:first-child a[href*='/booking/']"}),
    "analytics": ("/admin/analytics", {"Show": "#period-form button[type=submit]"}),
    "reports": ("/admin/reports/", {"Show": "form[method=get] button[type=submit]", "Download CSV": "#download-csv"}),
    "settings": ("/admin/settings/", {"Save settings": "form button[type=submit].btn-primary"}),
    "transfers": ("/admin/transfers/", {"Read and match": "#paste-form button[type=submit]"}),
    "mentors": (
        "/admin/mentors/",
        {"Save": "form[action$='/save'] button[type=submit]", "Make mentor": "form[action$='/make'] button"},
    ),
    "broadcasts": ("/admin/broadcasts/", {"Preview": "#compose button[type=submit]"}),
    "api-tokens": ("/admin/api-tokens/", {"Create token": "form[action$='/new'] button[type=submit]"}),
    "accounts": ("/admin/accounts/", {"Create": "form[action$='/new'] button[type=submit]"}),
    "student": ("/admin/students/student/{student}", {"Apply adjustment": "#adjust-form button[type=submit]"}),
    "booking": ("/admin/bookings/booking/{booking}", {"Confirm booking": "#confirm-form button[type=submit]"}),
    "audit": ("/admin/audit/", {"Export": ".nav-tabs a.nav-link[href*='/export/']"}),
}


@pytest.fixture(scope="module")
def server(panel_template, tmp_path_factory):
    """The seeded panel served for the browser: (its base URL, the ids of a student with a pending top-up and of a
    pending booking)."""
    require_chromium()
    template, _mentors = panel_template  # the tests' school: two pending top-ups, a pending booking
    folder = tmp_path_factory.mktemp("panel-looks")
    shutil.copy(template, folder / "codehub.db")
    app = create_app(make_settings(f"sqlite:///{folder / 'codehub.db'}", folder))
    with app.extensions["codehub"].db.sessions() as s:  # a long name, as real catalogues have, for the charts
        s.add(Platform(name="Full-Stack Web Development with Flask, PostgreSQL and Docker", description="", price=None))
        s.commit()
        owner = s.scalar(select(Admin).where(Admin.username == "owner"))
        actor = Actor(owner.username, admin_id=owner.id)  # a row in the lists that are cards on a phone
        api_tokens.create_token(s, owner.id, "accounting export to the bank's spreadsheet", actor=actor)
        broadcasts.create_broadcast(s, "The new Flask platform opens on Sunday at 18:00.", "all", actor=actor)
        ids = {
            "student": s.scalar(select(Transaction.user_id).where(Transaction.type == TransactionType.TOP_UP).limit(1)),
            "booking": s.scalar(
                select(MentorshipBooking.id).where(MentorshipBooking.status == BookingStatus.PENDING).limit(1)
            ),
        }
    with serve(app) as url:
        yield url, ids
    app.extensions["codehub"].db.dispose()


@pytest.fixture(scope="module")
def base(server):
    return server[0]


@pytest.fixture(scope="module")
def page(base, browser):
    """The owner, logged in, in one page for the module (each test sets its window size)."""
    context = browser.new_context(base_url=base, viewport=PHONE)
    outside = keep_offline(context, base)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto("/admin/")  # to the login page
    pg.fill("#username", "owner")
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(base + "/admin/")
    yield pg
    context.close()
    assert not outside, f"pages tried to reach the network: {outside}"
    assert not errors, f"JavaScript errors: {errors}"


def choose_language(page, lang: str) -> None:
    """The owner's panel language, chosen as an admin does: on My profile."""
    page.goto("/admin/account/")
    if page.get_attribute("html", "lang") != lang:
        page.check(f"#language-{lang}")
        page.click("form[action$='/language'] button[type=submit]")
        page.wait_for_selector(f"html[lang={lang}]")


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", PAGES)
def test_the_page_reads_right_fits_and_passes_axe(server, page, name, lang, size):
    path, actions = PAGES[name]
    path = path.format(**server[1])
    page.set_viewport_size(VIEWPORTS[size])
    choose_language(page, lang)
    page.goto(path)
    page.wait_for_load_state("load")
    assert page.get_attribute("html", "lang") == lang
    assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
    shot = f"panel-{name}-{lang}-{size}"
    found = look(page, shot, actions, tap_targets=False)
    assert not found, report(shot, found)


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_login_page_reads_right_fits_and_passes_axe(base, browser, size):
    context = browser.new_context(base_url=base, viewport=VIEWPORTS[size])
    login = context.new_page()
    login.goto("/admin/login")
    found = look(login, f"panel-login-en-{size}", {"Log in": "button[type=submit]"}, tap_targets=False)
    context.close()
    assert not found, report("login", found)


def test_on_a_phone_the_queue_is_cards_with_each_requests_actions(page):
    """Defect 10: Approve and Reject sat off-screen in a sideways-scrolling table. Below 576 px each request
    is a card of label/value lines, its buttons on it."""
    page.set_viewport_size(PHONE)
    choose_language(page, "en")
    page.goto("/admin/topups/")
    first = page.locator("table.model-list tbody tr").first
    assert first.evaluate("r => getComputedStyle(r).display") == "block"  # a card, not a table row
    assert page.locator("table.model-list thead").evaluate("h => getComputedStyle(h).display") == "none"
    amount = first.locator("td.col-amount")
    assert amount.get_attribute("data-label") == "Amount"
    assert "Amount" in amount.evaluate("td => getComputedStyle(td, '::before').content")
    approve, reject = first.locator(".row-actions .btn").first, first.locator(".row-actions .btn-outline-danger")
    for button in (approve, reject):
        box = button.bounding_box()
        assert box and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], box
    assert sideways(page) == []


CLIPPED_LABELS = """() => Object.values(Chart.instances).flatMap(chart => Object.values(chart.scales)
  .filter(scale => scale.type === 'category' && scale.axis === 'y')
  .flatMap(scale => {
    chart.ctx.save();
    chart.ctx.font = Chart.helpers.toFont(scale.options.ticks.font).string;
    const wider = scale.ticks.map(t => t.label).filter(label => chart.ctx.measureText(label).width > scale.width);
    chart.ctx.restore();
    return wider.map(label => chart.canvas.id + ': ' + label);
  }))"""


def test_on_a_phone_the_dashboard_charts_keep_their_labels_whole_inside_the_chart(page):
    """Defect 10: the platform names of "Enrollments per platform" were cut off at the phone's edge."""
    page.set_viewport_size(PHONE)
    choose_language(page, "en")
    page.goto("/admin/")
    page.locator("#chart-enrollments").scroll_into_view_if_needed()
    assert page.evaluate(CLIPPED_LABELS) == []
    assert page.evaluate("Chart.getChart('chart-enrollments').width") <= PHONE["width"]
    assert sideways(page) == []


@pytest.mark.parametrize("path", ["/api-docs", "/api-docs/reference"])
def test_the_api_docs_pages_fit_a_phone(page, path):
    page.set_viewport_size(PHONE)
    page.goto(path)
    assert page.locator("meta[name=viewport]").get_attribute("content") == "width=device-width, initial-scale=1"
    assert sideways(page) == []
