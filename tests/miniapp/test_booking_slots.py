"""Booking a free slot in the Mini App (Chromium at 390x844): mentor, duration, a day and one of its free times,
a confirm step with the time, the price, the policy and the balance after; the booking card then offers Change
time (a move the mentor confirms) and Cancel with what the policy gives back now. English and Arabic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete

from core.models import SlotHold
from core.services import availability, mentorship
from core.services.common import Actor
from tests.miniapp.phone import DARK, LIGHT, Phone

pytestmark = [pytest.mark.slow, pytest.mark.browser]
OWNER = Actor(name="owner")


@pytest.fixture(scope="module")
def karim(live) -> int:
    """A mentor with hours every day, 10:00-18:00 Cairo time, 240.00 EGP an hour."""
    api, _base = live
    with api.session() as s:
        mentor = mentorship.create_mentor(s, "Karim Adel", actor=OWNER, rate=Decimal("240.00"))
        availability.set_week(s, mentor.id, {d: [(600, 1080)] for d in range(7)}, actor=OWNER)
    return mentor.id


def choose_karim(page, karim: int) -> None:
    page.wait_for_selector("#book-durations input")
    page.select_option("#book-mentor", str(karim))


def test_book_a_free_time_then_ask_to_move_it_and_cancel_under_the_policy_in_english(live, browser, karim):
    api, base = live
    phone = Phone(browser, base, 700000021, "en", LIGHT)
    phone.open(f"/app/mentorship/book?mentor={karim}")
    page = phone.page
    choose_karim(page, karim)
    assert page.is_hidden("#book-time")  # the times follow the duration
    page.check("#book-durations input[value='60']")
    expect(page.locator("#book-days label").first).to_be_visible()
    assert page.is_disabled("#book-submit")  # a time first
    expect(page.locator("#book-policy")).to_contain_text("Cancel at least 24 hours before the start")
    days = page.locator("#book-days label").all_inner_texts()
    assert 1 <= len(days) <= 7 and all(d and "Invalid" not in d for d in days)
    page.locator("#book-days label").nth(1).click()  # tomorrow: the whole day is open
    times = page.locator("#book-slots label").all_inner_texts()
    assert times[:3] == ["10:00", "10:30", "11:00"] and times[-1] == "17:00"
    page.locator("#book-slots label", has_text="11:00").click()
    expect(page.locator("#book-submit")).to_be_enabled()
    assert "11:00" in page.inner_text("#book-when") and page.inner_text("#book-cost") == "240.00 EGP"
    phone.shot("book-slot-en-light")
    page.click("#book-submit")
    summary = page.locator("#book-summary")
    expect(summary).to_be_visible()
    assert (
        "Karim Adel" in summary.inner_text()
        and "11:00" in summary.inner_text()
        and "240.00 EGP" in summary.inner_text()
    )
    assert "Cancellation policy" in page.inner_text("#sheet-content")
    page.click("#sheet-ok")
    page.wait_for_url("**/app/dashboard/mentorship**")
    expect(page.locator("#booked-notice")).to_have_text("Booked and paid. The mentor will confirm the time.")
    card = page.locator("#booking-list article[data-booking]", has_text="Karim Adel")
    expect(card).to_contain_text("11:00")
    assert phone.balance() == "260.00 EGP" and api.balance(700000021) == Decimal("260.00")
    ics = card.locator("a", has_text="Add to calendar")
    assert ics.get_attribute("href").startswith("/api/mentorship/calendar/") and ics.get_attribute("download")
    assert (
        card.locator("a", has_text="Google Calendar").get_attribute("href").startswith("https://calendar.google.com/")
    )
    # another time: the same booking, nothing to pay, the mentor decides
    card.locator("a", has_text="Change time").click()
    page.wait_for_selector("#book-slots label")
    assert page.is_disabled("#book-mentor") and page.locator("#book-durations input").count() == 1
    assert page.is_hidden("#book-notes")
    page.locator("#book-slots label", has_text="15:00").click()
    page.click("#book-submit")
    expect(page.locator("#book-summary")).to_contain_text("15:00")
    page.click("#sheet-ok")
    page.wait_for_url("**/app/dashboard/mentorship**")
    card = page.locator("#booking-list article[data-booking]", has_text="Karim Adel")
    expect(card).to_contain_text("Asked to move to")
    assert card.locator("a", has_text="Change time").count() == 0  # one move at a time
    card.locator("button", has_text="Cancel booking").click()
    expect(page.locator("#cancel-refund")).to_have_text("If you cancel now, 240.00 EGP comes back.")
    page.click("#sheet-ok")
    expect(page.locator("#toast")).to_have_text("Cancelled. 240.00 EGP came back to your balance.")
    expect(page.locator("#balance-chip")).to_have_text("500.00 EGP")
    assert api.ledger_ok()
    phone.close()


def test_a_time_taken_meanwhile_is_refused_without_charge_and_the_times_reload_in_arabic(live, browser, karim):
    api, base = live
    phone = Phone(browser, base, 700000022, "ar", DARK)
    phone.open(f"/app/mentorship/book?mentor={karim}")
    page = phone.page
    choose_karim(page, karim)
    page.check("#book-durations input[value='30']")
    page.locator("#book-days label").nth(2).click()
    first = page.locator("#book-slots input").first.get_attribute("value")
    assert page.locator("#book-slots label").first.inner_text() == "١٠:٠٠ ص"  # as Egyptians read a time
    with page.expect_response(lambda r: r.url.endswith("/hold")) as held:
        page.locator("#book-slots label").first.click()
    assert held.value.status == 200
    other = api.as_student(700000023, "en")
    other.get("/api/me")
    r = other.post("/api/mentorship/book", {"mentorId": karim, "duration": 30, "slotStart": first})
    assert r.status_code == 409  # held for the student who picked it
    with api.session() as s:  # the hold ends (as after its minutes) and someone else books the time
        s.execute(delete(SlotHold))
        s.commit()
    assert (
        other.post("/api/mentorship/book", {"mentorId": karim, "duration": 30, "slotStart": first}).status_code == 201
    )
    page.click("#book-submit")
    page.click("#sheet-ok")
    expect(page.locator("#book-error")).to_contain_text("حجز شخص آخر هذا الوقت للتو")
    expect(page.locator("#book-slots input").first).not_to_have_attribute("value", first)  # what is free now
    assert api.balance(700000022) == Decimal("500.00") and api.ledger_ok()
    phone.close()
