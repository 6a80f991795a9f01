"""The Mini App in Debian's Chromium at a phone's size (390x844), opened as Telegram opens it: signed init
data in the URL hash. English and Arabic (right-to-left), light and dark. Top up, enroll, book, cancel,
rate; the header balance follows every action. Nothing may leave 127.0.0.1 (no CDN), no JavaScript
error, no CSP violation. Screenshots go to test-output/miniapp-*.png.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.models import Transaction, TransactionType
from core.services import mentorship
from core.services.common import Actor
from core.timeutil import utcnow
from tests.miniapp.phone import DARK, LIGHT, Phone
from tests.student_api.conftest import sign, tg_user

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_wallet_top_up_and_receipt_in_english_light(live, browser):
    api, base = live
    phone = Phone(browser, base, 700000001, "en", LIGHT)
    phone.open("/app/dashboard/wallet")
    page = phone.page
    assert phone.balance() == "500.00 EGP" and page.get_attribute("html", "dir") == "ltr"
    expect(page.locator("#receiving-number")).to_have_text("01099998888")  # loaded after the balance
    page.click("#copy-number")
    page.fill("#topup-amount", "150.50")
    page.fill("#topup-wallet", "010 1234 5678")
    page.fill("#topup-description", "From my brother's phone")
    page.click("#topup-submit")
    page.wait_for_selector("#pending-list li[data-id]")
    assert "Pending" in page.inner_text("#pending-list") and "150.50 EGP" in page.inner_text("#pending-list")
    assert phone.balance() == "500.00 EGP"  # credited only when an admin approves
    page.fill("#topup-amount", "40")
    page.fill("#topup-wallet", "")
    page.click("#topup-submit")  # the number left empty: what is wrong, on that field, with the cursor there
    expect(page.locator("#topup-error")).to_have_text(
        "Enter the Vodafone Cash number you sent from: 11 digits, like 01012345678."
    )
    assert page.get_attribute("#topup-wallet", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "topup-wallet"
    page.fill("#topup-amount", "5")
    page.fill("#topup-wallet", "01012345678")
    page.click("#topup-submit")
    page.wait_for_selector("#topup-error:not([hidden])")
    assert "below the minimum of 10.00 EGP" in page.inner_text("#topup-error")
    assert page.get_attribute("#topup-amount", "aria-invalid") == "true"
    assert page.get_attribute("#topup-wallet", "aria-invalid") is None  # the earlier mark is gone
    # the optional transaction number from the SMS: a bad one is explained, a good one is kept
    assert "Transaction number (optional)" in page.inner_text("#topup-form")
    page.fill("#topup-amount", "200")
    page.fill("#topup-reference", "12")
    page.click("#topup-submit")
    expect(page.locator("#topup-error")).to_contain_text("6 to 20 digits")
    page.fill("#topup-reference", "0227 6854 3034")
    page.click("#topup-submit")
    expect(page.locator("#pending-list")).to_contain_text("200.00 EGP")
    with api.session() as s:
        assert s.scalar(
            select(Transaction.amount).where(
                Transaction.transfer_reference == "022768543034", Transaction.type == TransactionType.TOP_UP
            )
        ) == Decimal("200.00")
    welcome = page.locator("#history-list li:last-child")
    assert welcome.locator(".balance-after").inner_text() == "500.00 EGP"  # the running balance, as a statement
    page.click("#copy-number")  # a toast, then at once a sheet: the toast must not cover the sheet's buttons
    page.click("#history-list li:last-child button")  # the welcome credit's receipt
    page.wait_for_selector("#receipt")
    toast, ok = page.locator("#toast").bounding_box(), page.locator("#sheet-ok").bounding_box()
    assert page.locator("#toast").is_visible() and (
        toast["y"] + toast["height"] <= ok["y"] or ok["y"] + ok["height"] <= toast["y"]
    ), (toast, ok)
    assert "Welcome credit" in page.inner_text("#receipt") and "500.00 EGP" in page.inner_text("#receipt")
    phone.shot("wallet-en-light-receipt")
    page.click("#sheet-ok")
    phone.shot("wallet-en-light")
    phone.close()


def test_enroll_with_a_confirm_step_and_do_a_task_in_arabic_dark(live, browser):
    api, base = live
    phone = Phone(browser, base, 700000002, "ar", DARK)
    phone.open("/app/dashboard/enrollments")
    page = phone.page
    assert page.get_attribute("html", "dir") == "rtl" and phone.balance() == "٥٠٠٫٠٠ ج.م"
    card = page.locator("article[data-platform]", has_text="Telegram Bots with aiogram")
    assert "وصول لمدة ٣٠ يومًا" in card.inner_text()  # the access period, said before buying
    assert card.locator("strong").first.get_attribute("dir") == "auto"  # Latin text keeps its full stop on its side
    card.locator("button", has_text="اشترك").click()
    page.wait_for_selector("#enroll-summary")
    assert page.inner_text("#enroll-after") == "٣٥٠٫٠٠ ج.م"  # the balance after, before paying
    assert page.inner_text("#enroll-access") == "وصول لمدة ٣٠ يومًا"
    phone.shot("platforms-ar-dark-confirm")
    page.click("#sheet-ok")
    page.wait_for_selector("#task-list li")
    expect(page.locator("#balance-chip")).to_have_text("٣٥٠٫٠٠ ج.م")
    bought = page.locator("article[data-platform]", has_text="Telegram Bots")
    assert "تم الاشتراك" in bought.inner_text()
    assert bought.locator("button", has_text="جدّد").count() == 0  # no Renew right after buying
    page.locator("#task-list li").first.locator("button").click()
    expect(page.locator("#tasks-progress")).to_contain_text("١/٤")
    phone.shot("platforms-ar-dark")
    assert api.balance(700000002) == Decimal("350.00") and api.ledger_ok()
    phone.close()


def test_book_then_cancel_in_english_dark(live, browser):
    api, base = live
    phone = Phone(browser, base, 700000003, "en", DARK)
    phone.open("/app/mentorship/book")
    page = phone.page
    page.wait_for_selector("#book-durations input")
    page.select_option("#book-mentor", label="Salma Farouk · 200.00 EGP per hour")
    # nothing is chosen for the student: no cost yet, and the button waits for a duration
    assert page.locator("#book-durations input:checked").count() == 0
    assert page.inner_text("#book-after") == "—" and page.is_disabled("#book-submit")
    page.check("#book-durations input[value='90']")
    page.fill("#book-notes", "SQL joins, please")
    assert page.inner_text("#book-cost") == "300.00 EGP" and page.inner_text("#book-after") == "200.00 EGP"
    phone.shot("book-en-dark")
    page.click("#book-submit")
    page.wait_for_selector("#book-summary")  # a confirm step with the cost and the balance after, as enrolling
    summary = page.inner_text("#book-summary")
    assert "Salma Farouk" in summary and "90 min" in summary and "300.00 EGP" in summary
    assert page.inner_text("#book-summary-after") == "200.00 EGP" and api.balance(700000003) == Decimal("500.00")
    page.click("#sheet-ok")
    page.wait_for_url("**/app/dashboard/mentorship**")
    expect(page.locator("#booked-notice")).to_have_text("Booked and paid. An admin will confirm the time.")
    page.wait_for_selector("#booking-list article[data-booking]")
    card = page.locator("#booking-list article[data-booking]").first
    assert "Salma Farouk" in card.inner_text() and "Pending" in card.inner_text()
    assert phone.balance() == "200.00 EGP"
    card.locator("button", has_text="Cancel booking").click()
    page.click("#sheet-ok")
    page.wait_for_selector("#booking-list article .badge.CANCELLED")
    expect(page.locator("#balance-chip")).to_have_text("500.00 EGP")
    phone.shot("mentorship-en-dark-cancelled")
    assert api.balance(700000003) == Decimal("500.00") and api.ledger_ok()
    phone.close()


def test_not_enough_balance_is_said_before_confirming_with_a_top_up_of_the_difference(live, browser):
    """A 120-minute session at 300.00/h costs 600.00 with 500.00 in the wallet: the form says it is 100.00 short
    and keeps Book disabled; "Top up the difference" opens the top-up form with 100.00 filled in. Nothing is paid."""
    api, base = live
    phone = Phone(browser, base, 700000005, "en", LIGHT)
    phone.open("/app/mentorship/book")
    page = phone.page
    page.wait_for_selector("#book-durations input")
    page.select_option("#book-mentor", label="Ahmed (CodeHub founder) · 300.00 EGP per hour")
    page.check("#book-durations input[value='120']")
    assert page.inner_text("#book-after") == "−100.00 EGP" and page.is_disabled("#book-submit")
    assert page.inner_text("#book-short-text") == "Not enough balance: you need 100.00 EGP more."
    assert page.locator("#book-topup").is_visible() and page.inner_text("#book-topup") == "Top up the difference"
    page.click("#book-topup")
    page.wait_for_url("**/app/dashboard/wallet**")
    expect(page.locator("#topup-amount")).to_have_value("100.00")
    assert api.balance(700000005) == Decimal("500.00")
    phone.close()


def test_enrolling_without_enough_balance_disables_confirm_in_arabic(live, browser):
    api, base = live
    student = api.as_student(700000006, "ar")
    assert student.get("/api/me").status_code == 200
    dsa = next(p for p in student.get("/api/platforms").get_json()["platforms"] if p["name"].startswith("Data"))
    assert student.post("/api/enrollments", {"platformId": dsa["id"]}).status_code == 201  # 100.00 left
    phone = Phone(browser, base, 700000006, "ar", LIGHT)
    phone.open("/app/dashboard/enrollments")
    page = phone.page
    card = page.locator("article[data-platform]", has_text="Web Development with Flask")
    card.locator("button", has_text="اشترك").click()
    page.wait_for_selector("#enroll-summary")
    assert page.is_disabled("#sheet-ok")  # said before, not after Confirm
    assert page.inner_text("#sheet-short-text") == "الرصيد غير كافٍ: تحتاج إلى ١٥٠٫٠٠ ج.م إضافية."
    assert "amount=150.00" in page.get_attribute("#sheet-topup", "href")
    page.click("#sheet-cancel")
    assert api.balance(700000006) == Decimal("100.00")
    phone.close()


def test_a_failed_load_says_what_happened_with_retry_instead_of_loading_forever(live, browser):
    """Offline, "Loading…" showed in red as the error and other pages stayed on "Loading…": each list says what
    went wrong (no connection, or our side) with Retry, which loads it once the network is back."""
    api, base = live
    phone = Phone(browser, base, 700000007, "en", LIGHT)
    page = phone.page
    down = {"history": True, "platforms": True}

    def history(route):
        if down["history"]:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    def platform_list(route):
        if down["platforms"]:
            route.fulfill(status=502, body="<html>Bad gateway</html>", content_type="text/html")
        else:
            route.continue_()

    page.route("**/api/wallet/transactions?*", history)
    page.route("**/api/platforms?*", platform_list)
    phone.open("/app/dashboard/wallet")
    failed = page.locator("#history-list .failed")
    expect(failed).to_contain_text("No connection. Check your internet and try again.")
    assert "Loading" not in page.inner_text("#history-list")
    down["history"] = False
    failed.locator("button", has_text="Retry").click()
    expect(page.locator("#history-list li[data-id]")).to_have_count(1)  # the welcome credit
    page.goto(page.url.replace("/dashboard/wallet", "/dashboard/enrollments"))
    grid = page.locator("#platform-grid .failed")
    expect(grid).to_contain_text("Something went wrong on our side. Please try again.")
    down["platforms"] = False
    grid.locator("button", has_text="Retry").click()
    expect(page.locator("#platform-grid article[data-platform]")).to_have_count(4)
    provoked = ("net::ERR_INTERNET_DISCONNECTED", "status of 502")  # the failures this test made; a script error stays
    phone.errors[:] = [e for e in phone.errors if not any(p in e for p in provoked)]
    phone.close()


def test_the_arabic_wallet_reads_arabic_names_what_each_row_was_for_and_keeps_numbers_left_to_right(live, browser):
    """The masked sender number showed reversed (5678****010), receipts kept English system texts and raw
    references (booking:4) and "Amount (EGP) 250.00 EGP", history rows named no mentor, and a pending top-up was
    green like money received."""
    api, base = live
    student = api.as_student(700000008, "ar")
    assert student.get("/api/me").status_code == 200
    assert student.post("/api/wallet/topup", {"amount": "120", "walletNumber": "01012345678"}).status_code == 201
    booked = student.post("/api/mentorship/book", {"mentorId": 1, "duration": 30})
    assert booked.status_code == 201, booked.get_json()
    phone = Phone(browser, base, 700000008, "ar", LIGHT)
    phone.open("/app/dashboard/wallet")
    page = phone.page
    pending = page.locator("#pending-list li[data-id]").first
    expect(pending).to_be_visible()
    number = pending.locator("bdi[dir=ltr]")
    assert number.inner_text() == "010****5678"
    assert number.evaluate("n => getComputedStyle(n).direction") == "ltr"
    assert "waiting" in pending.locator(".amount").get_attribute("class")  # not green: nothing received yet
    session = page.locator("#history-list li[data-id]", has_text="جلسة إرشاد")
    assert "Ahmed (CodeHub founder)" in session.inner_text()  # the row names the mentor
    session.locator("button").click()
    page.wait_for_selector("#receipt")
    receipt = page.inner_text("#receipt")
    assert "booking:" not in receipt and "Mentorship" not in receipt and "(ج.م)" not in receipt
    assert "المبلغ" in receipt and "Ahmed (CodeHub founder)" in page.inner_text("#receipt dd[data-row=details]")
    page.click("#sheet-ok")
    page.locator("#history-list li[data-id]", has_text="رصيد الترحيب").locator("button").click()
    page.wait_for_selector("#receipt")
    assert "Welcome credit" not in page.inner_text("#receipt")  # no English system text in the Arabic receipt
    page.click("#sheet-ok")
    phone.close()


def test_history_filters_by_type_status_and_month_and_a_receipt_is_shared_as_text(live, browser):
    """History could not be filtered, and a receipt could not leave the app: a banking app's history can."""
    api, base = live
    student = api.as_student(700000009, "en")
    assert student.get("/api/me").status_code == 200
    assert student.post("/api/wallet/topup", {"amount": "75", "walletNumber": "01012345678"}).status_code == 201
    phone = Phone(browser, base, 700000009, "en", DARK)
    phone.context.grant_permissions(["clipboard-write"], origin=base)
    phone.open("/app/dashboard/wallet")
    page = phone.page
    history = page.locator("#history-list")
    expect(history.locator("li[data-id]")).to_have_count(2)  # the request and the welcome credit
    page.select_option("#filter-type", "TOP_UP")
    expect(history.locator("li[data-id]")).to_have_count(1)
    assert "Top-up" in history.inner_text() and "Welcome credit" not in history.inner_text()
    page.select_option("#filter-status", "APPROVED")  # no approved top-up yet: said, not an empty box
    expect(history).to_have_text("No transactions match these filters.")
    page.select_option("#filter-type", "")
    expect(history.locator("li[data-id]")).to_have_count(1)
    assert "Welcome credit" in history.inner_text()
    months = page.locator("#filter-month option").all_inner_texts()
    assert len(months) == 13 and months[0] == "Any month" and all(m and "undefined" not in m for m in months)
    page.select_option("#filter-month", index=1)  # this Cairo month: the welcome credit was given today
    expect(history.locator("li[data-id]")).to_have_count(1)
    page.select_option("#filter-month", index=12)  # eleven months ago: nothing
    expect(history).to_have_text("No transactions match these filters.")
    page.select_option("#filter-month", "")
    page.select_option("#filter-status", "")
    expect(history.locator("li[data-id]")).to_have_count(2)
    history.locator("li[data-id]", has_text="Welcome credit").locator("button").click()
    page.wait_for_selector("#receipt")
    # Chromium on Linux has no share sheet: the clipboard (the page's policy forbids reading it back)
    page.evaluate(
        """() => { delete Navigator.prototype.share;
                   const clip = navigator.clipboard, write = clip.writeText.bind(clip);
                   clip.writeText = (text) => { window.sharedText = text; return write(text); }; }"""
    )
    page.click("#receipt-share")
    expect(page.locator("#toast")).to_have_text("Receipt copied: paste it in a chat to share it.")
    shared = page.evaluate("window.sharedText")
    assert shared.startswith("CodeHub · Receipt\n") and "Amount: 500.00 EGP" in shared, shared
    assert "Type: Welcome credit" in shared and "Status: Approved" in shared and "None" not in shared
    page.click("#sheet-ok")
    phone.close()


def test_rate_a_completed_session_in_arabic_light(live, browser):
    api, base = live
    phone = Phone(browser, base, 700000004, "ar", LIGHT)
    assert api.as_student(700000004, "ar").get("/api/me").status_code == 200  # registered, as by /start
    now = utcnow()
    with api.session() as s:
        booked = mentorship.book(s, api.user_id(700000004), 1, 30, "Flask review", idempotency_key="ui-rate", now=now)
        mentorship.confirm(s, booked.booking.id, now + timedelta(hours=1), "Meet link", actor=Actor("t"), now=now)
        mentorship.complete(s, booked.booking.id, actor=Actor("t"), now=now + timedelta(hours=2))
    phone.open("/app/dashboard/mentorship")
    page = phone.page
    assert phone.balance() == "٣٥٠٫٠٠ ج.م"
    page.wait_for_selector(".rate-form")
    page.click(".rate-form button[type=submit]")  # no stars chosen: said so, on the stars
    expect(page.locator(".rate-form .error")).to_have_text("من فضلك اختر من ١ إلى ٥ نجوم.")
    assert page.get_attribute(".rate-form .stars", "aria-invalid") == "true"
    page.click(".rate-form button[data-star='4']")
    page.fill(".rate-form textarea", "جلسة مفيدة جدًا")
    page.click(".rate-form button[type=submit]")
    page.wait_for_selector("#booking-list article:has-text('★★★★')")
    assert "مكتمل" in page.inner_text("#booking-list")
    phone.shot("mentorship-ar-light-rated")
    with api.session() as s:
        assert mentorship.get_booking(s, booked.booking.id).rating == 4
    phone.close()


def test_launch_page_follows_startapp_and_a_plain_browser_is_told_to_use_telegram(live, browser):
    api, base = live
    phone = Phone(browser, base, 700000005, "en", LIGHT)
    init = sign(tg_user(700000005, "en"), start_param="book")
    phone.page.goto(f"/app/?lang=en#tgWebAppData={quote(init, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=tdesktop")
    phone.page.wait_for_url("**/app/mentorship/book**")
    expect(phone.page.locator("#balance-chip")).not_to_have_text("…")  # the init data came along
    # the bot's page names: topup opens the wallet with the top-up form focused
    init = sign(tg_user(700000005, "en"), start_param="topup")
    phone.page.goto(f"/app/?lang=en#tgWebAppData={quote(init, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=tdesktop")
    phone.page.wait_for_url("**/app/dashboard/wallet?*focus=topup*")
    expect(phone.page.locator("#topup-amount")).to_be_focused()
    # a direct link also names the page in the URL (tgWebAppStartParam), as Telegram passes it
    init = sign(tg_user(700000005, "en"))
    phone.page.goto(
        f"/app/?lang=en&tgWebAppStartParam=platforms#tgWebAppData={quote(init, safe='')}"
        "&tgWebAppVersion=8.0&tgWebAppPlatform=tdesktop"
    )
    phone.page.wait_for_url("**/app/dashboard/enrollments**")
    phone.close()
    plain = Phone(browser, base, 0, "en", LIGHT)
    plain.page.goto("/app/dashboard/wallet")
    plain.page.wait_for_selector("#no-telegram:not([hidden])")
    plain.shot("outside-telegram")
    plain.close()
