"""The key pages in Debian's Chromium: log in, decide top-ups, confirm a booking, charts, CSV export.

The app is served by werkzeug in a thread; every request that leaves 127.0.0.1 is blocked and recorded,
which shows the pages work offline (no CDN). Screenshots go to test-output/ (git-ignored).
"""

from __future__ import annotations

import csv
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from werkzeug.serving import make_server

from admin_panel import create_app
from core.models import BookingStatus, TransactionStatus, Transfer, User
from core.services import topups
from core.timeutil import CAIRO, utcnow
from tests.external import keep_offline, require_chromium
from tests.factories import feed_a_transfer, pending_topup
from tests.helpers import make_settings
from tests.panel.helpers import PASSWORD, Panel

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module", autouse=True)
def chromium() -> Path:
    return require_chromium()


@pytest.fixture(scope="module")
def live(panel_template, tmp_path_factory):
    template, (founder, other) = panel_template
    folder = tmp_path_factory.mktemp("live")
    shutil.copy(template, folder / "codehub.db")
    app = create_app(make_settings(f"sqlite:///{folder / 'codehub.db'}", folder))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Panel(app, app.extensions["codehub"].db, founder, other), f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["codehub"].db.dispose()


@pytest.fixture(scope="module")
def page(live, browser):
    _panel, base = live
    context = browser.new_context(base_url=base, viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    outside = keep_offline(context, base)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto("/admin/")
    assert "/admin/login" in pg.url
    pg.fill("#username", "owner")
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(base + "/admin/")
    yield pg
    assert not outside, f"pages tried to reach the network: {outside}"
    assert not errors, f"JavaScript errors: {errors}"
    context.close()


def test_dashboard_charts_are_drawn(page):
    page.goto("/admin/")
    page.wait_for_function("typeof Chart !== 'undefined' && Chart.getChart('chart-revenue') !== undefined")
    for chart_id in ("chart-revenue", "chart-topups", "chart-enrollments", "chart-bookings"):
        painted = page.evaluate(
            """id => {
            const c = document.getElementById(id);
            const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) n++; }
            return {w: c.width, h: c.height, painted: n, chart: !!Chart.getChart(id)};
        }""",
            chart_id,
        )
        assert painted["chart"] and painted["w"] > 100 and painted["h"] > 100, (chart_id, painted)
        assert painted["painted"] > 500, (chart_id, painted)
    assert page.inner_text("#kpi-pending-topups") == "2"
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)


def test_analytics_charts_are_drawn(page):
    """Each success metric's chart on the Analytics page (js/charts.js, shared with the dashboard), at desktop
    width and on a phone."""
    page.goto("/admin/analytics/")
    page.wait_for_function("typeof Chart !== 'undefined' && Chart.getChart('chart-clv') !== undefined")
    for chart_id in ("chart-mrr", "chart-completion", "chart-bookings", "chart-mentors", "chart-adoption", "chart-clv"):
        chart = page.evaluate(
            "id => ({chart: !!Chart.getChart(id), w: document.getElementById(id).width, "
            "labels: Chart.getChart(id).data.labels.length})",
            chart_id,
        )
        assert chart["chart"] and chart["w"] > 100 and chart["labels"] > 0, (chart_id, chart)
    assert "None" not in page.inner_text("body") and "undefined" not in page.inner_text("body")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "analytics.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.goto("/admin/analytics/")
        page.wait_for_function("Chart.getChart('chart-clv') !== undefined")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling
        page.screenshot(path=str(OUTPUT / "analytics-phone.png"), full_page=True)
    finally:
        page.set_viewport_size({"width": 1400, "height": 1000})


def test_approve_a_topup_and_see_the_balance_change(page, live):
    panel, _base = live
    tx = panel.pending_topups()[0]  # Youssef's 200.00
    before = panel.user(tx.user_id).balance
    page.goto("/admin/topups/")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "topup-queue.png"), full_page=True)
    row = page.locator("tr", has=page.locator(f"a:text-is('#{tx.id}')"))
    row.locator("button:text-is('Approve')").click()  # no transfer feed in this install: one tap
    page.wait_for_selector(".alert-success")
    assert "approved: 200.00 EGP credited" in page.inner_text(".alert-success")
    assert panel.tx(tx.id).status == TransactionStatus.APPROVED
    page.goto(f"/admin/students/student/{tx.user_id}")
    shown = page.inner_text("#student-balance")
    assert shown == f"{before + 200:,.2f} EGP"


def test_reject_a_topup_with_a_reason(page, live):
    panel, _base = live
    tx = panel.pending_topups()[0]
    page.goto("/admin/topups/")
    row = page.locator("tr", has=page.locator(f"a:text-is('#{tx.id}')"))
    row.locator("a:text-is('Reject…')").click()
    assert "01212345678" in page.inner_text("#wallet-full")  # the full number on the request's page only
    page.fill("textarea[name=reason]", "No matching transfer on the statement")
    page.click("button:text-is('Reject')")
    page.wait_for_selector(".alert-success")
    assert panel.tx(tx.id).status == TransactionStatus.REJECTED
    assert panel.tx(tx.id).admin_notes == "No matching transfer on the statement"


def test_confirm_a_booking_with_a_date(page, live):
    panel, _base = live
    booking = panel.bookings(BookingStatus.PENDING)[0]
    when = (utcnow() + timedelta(days=2)).astimezone(CAIRO).replace(hour=18, minute=30, second=0, microsecond=0)
    page.goto("/admin/bookings/")
    row = page.locator("tr", has=page.locator(f"a:text-is('#{booking.id}')"))
    row.locator("a:text-is('Confirm…')").click()
    page.fill("input[name=session_date]", when.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=notes]", "Google Meet link in chat")
    page.click("button:text-is('Confirm booking')")
    page.wait_for_selector(".alert-success")
    assert page.inner_text("#booking-status") == "Confirmed"  # the status by its label
    assert when.strftime("%Y-%m-%d 18:30") in page.inner_text("#booking-date")
    assert panel.booking(booking.id).session_date == when


def test_export_transactions_as_csv(page, live, tmp_path):
    page.goto("/admin/transactions/?flt0_type_equals=TOP_UP")
    assert "Totals of the filtered rows" in page.inner_text("#ledger-totals")
    page.click("a.dropdown-toggle:text-is('Export')")
    with page.expect_download() as info:
        page.click("a:text-is('Export CSV')")
    target = tmp_path / "transactions.csv"
    info.value.save_as(target)
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 4 and {r["Type"] for r in rows} == {"Top-up"}


def test_bulk_reject_asks_for_a_reason(page, live):
    panel, _base = live
    with panel.session() as s:
        user_id = s.scalar(select(User.id).where(User.full_name == "Omar Hassan"))
        request = topups.request_topup(s, user_id, "75", "01012345678", idempotency_key="browser-bulk")
    page.goto("/admin/topups/")
    row = page.locator("tr", has=page.locator(f"a:text-is('#{request.transaction_id}')"))
    row.locator("input.action-checkbox").check()
    page.once("dialog", lambda dialog: dialog.accept("Duplicate of an earlier request"))
    page.click("a.dropdown-toggle:text-is('With selected')")
    page.click("a.dropdown-item:text-is('Reject (asks for a reason)')")
    page.wait_for_selector(".alert-success")
    assert "Rejected 1 top-up request(s)." in page.inner_text(".alert-success")
    row = panel.tx(request.transaction_id)
    assert row.status == TransactionStatus.REJECTED and row.admin_notes == "Duplicate of an earlier request"


def test_a_hostile_platform_name_runs_no_script_and_pages_break_no_csp_rule(page, live):
    from core.models import Platform

    panel, _base = live
    name = "</script><img src=x onerror=alert(1)>"
    with panel.session() as s:
        platform = Platform(name=name, description="", price=None)
        s.add(platform)
        s.commit()
        platform_id = platform.id
    dialogs, violations = [], []
    on_dialog = lambda d: (dialogs.append(d.message), d.dismiss())  # noqa: E731
    on_console = lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None  # noqa: E731
    page.on("dialog", on_dialog)
    page.on("console", on_console)
    try:
        for path in ("/admin/", "/admin/topups/", "/admin/platforms/", "/admin/transactions/", "/admin/settings/"):
            page.goto(path)
        page.goto("/admin/")
        page.wait_for_function("typeof Chart !== 'undefined' && Chart.getChart('chart-enrollments') !== undefined")
        assert name in page.evaluate("Chart.getChart('chart-enrollments').data.labels")
        assert dialogs == [] and violations == []
        # Flask-Admin's delete button asks first (data-confirm: assets/js/panel.js, no inline onclick)
        page.goto("/admin/platforms/")
        # clicked from JS: the form's hidden input named "id" shadows form.id, which trips Playwright's locator
        page.evaluate(
            """id => [...document.querySelectorAll('form.icon')]
            .find(f => f.querySelector('input[name=id]').value === String(id))
            .querySelector('button').click()""",
            platform_id,
        )
        page.wait_for_timeout(300)
        assert dialogs == ["Are you sure you want to delete this record?"]
        with panel.session() as s:
            assert s.get(Platform, platform_id) is not None  # dismissed: not deleted
    finally:
        page.remove_listener("dialog", on_dialog)
        page.remove_listener("console", on_console)
        with panel.session() as s:
            s.delete(s.get(Platform, platform_id))
            s.commit()


def test_where_transfers_are_fed_in_approving_without_one_asks_for_a_reason(page, live):
    """Last in this module: it adds a top-up request and a transfer feed to the module's shared school."""
    panel, _base = live
    with panel.session() as s:
        feed_a_transfer(s)
        student = s.scalar(select(User.id).where(User.full_name == "Omar Hassan"))
        tx_id = pending_topup(s, student, "75.00", "01012345678", key="fed-in", now=utcnow())
    try:
        page.goto("/admin/topups/")
        row = page.locator("tr", has=page.locator(f"a:text-is('#{tx_id}')"))
        row.locator("a:text-is('Approve…')").click()  # no transfer matches: confirm with a reason
        page.check("#confirm-approve")
        page.fill("#approve-without-transfer input[name=notes]", "checked the statement")
        page.click("#approve-without-transfer button[type=submit]")
        page.wait_for_selector(".alert-success")
        approved = panel.tx(tx_id)
        assert approved.status == TransactionStatus.APPROVED and approved.admin_notes == "checked the statement"
    finally:  # the module's other tests run without a feed, as a fresh install
        with panel.session() as s, s.begin():
            s.execute(delete(Transfer))
