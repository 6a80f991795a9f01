"""The Arabic panel end to end in Chromium: an admin picks Arabic on "My profile", approves a top-up, confirms a
booking and reads the dashboard (the seed's analytics page), right to left, in Arabic, with Arabic-Indic digits,
and never a `None` or an enum name. Screenshots go to test-output/ (ar-*.png)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.models import BookingStatus, TransactionStatus
from core.timeutil import CAIRO, utcnow
from core.words import digits
from tests.external import keep_offline
from tests.panel.helpers import PASSWORD
from tests.panel.test_browser import OUTPUT, chromium, live  # noqa: F401 (the same live server setup)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

RAW = re.compile(
    r"\b(None|undefined|TOP_UP|PLATFORM_PURCHASE|MENTORSHIP_PAYMENT|SIGNUP_BONUS|PENDING|APPROVED|"
    r"REJECTED|CONFIRMED|COMPLETED|CANCELLED)\b|built-in method"
)


@pytest.fixture(scope="module")
def page(live, browser):  # noqa: F811 (browser: tests/conftest.py)
    _panel, base = live
    context = browser.new_context(base_url=base, viewport={"width": 1366, "height": 900})
    outside = keep_offline(context, base)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    assert not outside, f"pages tried to reach the network: {outside}"
    assert not errors, f"JavaScript errors: {errors}"
    context.close()


def reads_arabic(page, *words: str) -> str:
    """The page is right to left, in Arabic, says `words`, and shows no None or enum name."""
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"  # the RTL Bootstrap is loaded
    text = page.inner_text("body")
    missing = [w for w in words if w not in text]
    assert missing == [], missing
    assert not RAW.search(text), RAW.search(text).group(0)
    return text


def test_an_admin_chooses_arabic_on_the_login_page_and_on_my_profile(page, live):
    _panel, base = live
    page.goto("/admin/login")
    page.click("button[lang=ar]")  # before login: this browser only
    page.wait_for_selector("html[lang=ar]")
    reads_arabic(page, "تسجيل الدخول", "اسم المستخدم")
    page.fill("#username", "owner")
    page.fill("#password", PASSWORD)
    page.click("form[novalidate] button[type=submit]")
    page.wait_for_url(base + "/admin/")
    assert page.evaluate("document.documentElement.dir") == "ltr"  # the owner's account still says English
    page.goto("/admin/account/")
    page.check("#language-ar")
    page.click("button:text-is('Save language')")
    page.wait_for_selector(".alert-success")
    reads_arabic(page, "لغة لوحتك الآن العربية", "لغة اللوحة")


def test_approve_a_topup_in_arabic(page, live):
    panel, _base = live
    tx = panel.pending_topups()[0]
    before = panel.user(tx.user_id).balance
    page.goto("/admin/topups/")
    reads_arabic(page, "طلبات الشحن", "الطالب", "المبلغ", "قيد المراجعة")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "ar-topup-queue.png"), full_page=True)
    row = page.locator("tr", has=page.locator(f"a:text-is('#{digits(str(tx.id), 'ar')}')"))
    row.locator("button:text-is('قبول')").click()
    page.wait_for_selector(".alert-success")
    said = page.inner_text(".alert-success")
    assert "تم قبول طلب الشحن" in said and "٢٠٠٫٠٠ ج.م" in said, said
    assert panel.tx(tx.id).status == TransactionStatus.APPROVED
    page.goto(f"/admin/students/student/{tx.user_id}")
    reads_arabic(page, "الرصيد", "دفتر الحساب")
    after = digits(f"{before + 200:,.2f}", "ar").replace(",", "٬").replace(".", "٫")
    assert page.inner_text("#student-balance") == f"{after} ج.م"


def test_confirm_a_booking_in_arabic(page, live):
    panel, _base = live
    booking = panel.bookings(BookingStatus.PENDING)[0]
    when = (utcnow() + timedelta(days=2)).astimezone(CAIRO).replace(hour=18, minute=30, second=0, microsecond=0)
    page.goto("/admin/bookings/")
    reads_arabic(page, "الحجوزات", "المرشد", "المدة")
    row = page.locator("tr", has=page.locator(f"a:text-is('#{digits(str(booking.id), 'ar')}')"))
    row.locator("a:text-is('تأكيد…')").click()
    page.wait_for_selector("#confirm-form")
    reads_arabic(page, "التاريخ والوقت (بتوقيت القاهرة)")
    page.fill("input[name=session_date]", when.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=notes]", "رابط Google Meet في المحادثة")
    page.click("button:text-is('تأكيد الحجز')")
    page.wait_for_selector(".alert-success")
    assert "تم تأكيد الحجز" in page.inner_text(".alert-success")
    assert page.inner_text("#booking-status") == "مؤكد"
    assert digits(when.strftime("%Y-%m-%d 18:30"), "ar") in page.inner_text("#booking-date")
    assert panel.booking(booking.id).session_date == when
    rows = page.evaluate(
        "[...document.querySelectorAll('dl.facts > *')].map(e => [e.tagName, Math.round(e.getBoundingClientRect().y),"
        " Math.round(e.getBoundingClientRect().x)])"
    )
    for (label, label_y, label_x), (fact, fact_y, fact_x) in zip(rows[::2], rows[1::2]):
        assert (label, fact) == ("DT", "DD") and fact_y == label_y and fact_x < label_x  # side by side, label right
    page.screenshot(path=str(OUTPUT / "ar-booking.png"), full_page=True)


def test_read_the_dashboard_and_the_analytics_in_arabic(page, live):
    page.goto("/admin/")
    # a function, not an expression: Playwright evaluates a polled expression with eval, which the CSP forbids
    page.wait_for_function("() => typeof Chart !== 'undefined' && Chart.getChart('chart-revenue') !== undefined")
    reads_arabic(page, "لوحة المعلومات", "الإيرادات اليوم", "طلبات شحن معلقة", "الإيرادات اليومية، آخر ٣٠ يومًا")
    assert re.fullmatch("[٠-٩]+", page.inner_text("#kpi-pending-topups"))  # Arabic-Indic digits
    assert "ج.م" in page.inner_text("#kpi-revenue-month")
    legend = page.evaluate("Chart.getChart('chart-revenue').data.datasets.map(d => d.label)")
    assert legend == ["مشتريات المنصات", "الإرشاد"]
    assert page.evaluate("Chart.getChart('chart-topups').data.labels") == ["مقبول", "مرفوض", "قيد المراجعة"]
    assert page.evaluate("Chart.getChart('chart-revenue').options.locale") == "ar-EG"
    page.screenshot(path=str(OUTPUT / "ar-dashboard.png"), full_page=True)

    page.goto("/admin/analytics")  # the seed's page name, kept: the success metrics
    page.wait_for_function("() => typeof Chart !== 'undefined' && Chart.getChart('chart-bookings') !== undefined")
    reads_arabic(page, "التحليلات", "حجوزات الجلسات شهريًا، بحسب النتيجة", "استخدام المحفظة", "القيمة الدائمة للعميل")
    outcomes = page.evaluate("Chart.getChart('chart-bookings').data.datasets.map(d => d.label)")
    assert outcomes == ["قيد المراجعة", "مؤكد", "مكتمل", "ملغي"]
    months = page.evaluate("Chart.getChart('chart-mrr').data.labels")
    assert months and all(re.fullmatch("[٠-٩]{4}-[٠-٩]{2}", m) for m in months), months
    assert page.evaluate("Chart.getChart('chart-mrr').options.scales.y.title.text") == "ج.م"
    page.screenshot(path=str(OUTPUT / "ar-analytics.png"), full_page=True)


@pytest.mark.parametrize(
    "path,words",
    [
        ("/admin/transactions/", ["المعاملات", "النوع", "رصيد الترحيب"]),
        ("/admin/settings/", ["الإعدادات", "رقم فودافون كاش للاستلام", "حفظ الإعدادات"]),
        ("/admin/reports/", ["التقرير المالي الشهري", "إجمالي الإيرادات (الصافي)"]),
    ],
)
def test_the_other_main_pages_read_in_arabic(page, path, words):
    page.goto(path)
    reads_arabic(page, *words)
    page.screenshot(path=str(OUTPUT / f"ar-{path.strip('/').split('/')[-1]}.png"), full_page=True)
