"""The bot speaks the student's language (tests/core/test_words.py checks the catalog itself)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import core.errors
from bot.i18n import build_i18n
from bot.ui.errors import error_text
from core.models import MentorshipBooking, User
from core.services import enrollment, mentorship, wallet
from core.services.common import Actor
from core.timeutil import utcnow
from core.words.errors import ERROR_WORDS
from tests.bot.fake_api import TgUser
from tests.bot.helpers import ADMIN1
from tests.factories import seed_catalog


async def test_arabic_student_from_telegram_language_code(runner, sync_db):
    student = TgUser(9101, "Mariam", "mariam", "ar")
    calls = await runner.send(student, "/start")
    welcome = calls[0]
    assert "أهلًا بك في CodeHub يا Mariam" in welcome.text
    assert "٥٠٠٫٠٠ ج.م" in welcome.text
    assert "💰 الرصيد" in welcome.buttons
    calls = await runner.send(student, "💰 الرصيد")  # the Arabic menu button
    assert "آخر المعاملات" in calls[-1].text and "رصيد الترحيب" in calls[-1].text
    calls = await runner.send(student, "/topup")
    assert "شحن الرصيد بفودافون كاش" in calls[-1].text
    calls = await runner.send(student, "abc")
    assert "من فضلك أرسل رقمًا" in calls[-1].text
    calls = await runner.send(student, "/nonsense")
    assert "أمر غير معروف" in calls[-1].text
    with sync_db.session() as s:
        assert s.scalar(select(User.language).where(User.telegram_id == 9101)) == "ar"


async def test_language_switch_is_stored_and_used(runner, sync_db):
    student = TgUser(9102, "Omar", None, "en")
    await runner.send(student, "/start")
    await runner.send(student, "/language")
    await runner.press(student, runner.api.last_message(student.id), "العربية")
    switched = runner.api.last_message(student.id)
    assert "تم اختيار اللغة العربية" in switched.plain_text and "٥٠٠٫٠٠ ج.م" in switched.plain_text
    calls = await runner.send(student, "/platforms")
    assert "منصات CodeHub" in calls[-1].text
    await runner.send(student, "/language")
    await runner.press(student, runner.api.last_message(student.id), "English")
    assert "Language set to English" in runner.api.last_message(student.id).plain_text


async def test_arabic_booking_confirmed_by_arabic_admin_date(runner, sync_db):
    seed_catalog(sync_db)
    student = TgUser(9103, "Nour", "nour", "ar")
    await runner.send(student, "/start")
    await runner.send(student, "/book")
    await runner.press(student, runner.api.last_message(student.id), "Ahmed")
    await runner.press(student, runner.api.last_message(student.id), "٦٠ دقيقة")
    await runner.press(student, runner.api.last_message(student.id), "تخطي")
    summary = runner.api.last_message(student.id)
    assert "من فضلك راجع حجزك" in summary.plain_text and "٣٠٠٫٠٠ ج.م" in summary.plain_text
    await runner.press(student, summary, "تأكيد")
    assert "الحجز رقم" in runner.api.last_message(student.id).plain_text
    await runner.deliver()
    card = runner.api.message_with(ADMIN1.id, "New booking")
    await runner.press(ADMIN1, card, "Confirm")
    await runner.send(ADMIN1, "غدا 18:00")
    await runner.press(ADMIN1, runner.api.last_message(ADMIN1.id), "Skip")
    await runner.deliver()
    note = runner.api.message_with(student.id, "تم تأكيد جلسة الإرشاد")
    assert "بتوقيت القاهرة" in note.plain_text and "١٨:٠٠" in note.plain_text
    with sync_db.session() as s:
        b = s.scalar(select(MentorshipBooking))
        assert b.session_date > utcnow() and b.session_date < utcnow() + timedelta(days=2)


def _spend_and_refund(sync_db, telegram_id: int, ids: dict) -> int:
    """An admin credits the student, who buys the paid platform, renews it, books a 30-minute session that an
    admin cancels."""
    with sync_db.session() as s:
        user_id = s.scalar(select(User.id).where(User.telegram_id == telegram_id))
        wallet.adjust_balance(s, user_id, "1000.00", "Hackathon prize", actor=Actor("@amr_admin"), idempotency_key="k0")
        enrollment.enroll(s, user_id, ids["paid"], idempotency_key="k1")
        enrollment.enroll(s, user_id, ids["paid"], idempotency_key="k2", renew=True)
        booking = mentorship.book(s, user_id, ids["mentor"], 30, idempotency_key="k3").booking
        mentorship.cancel(s, booking.id, "Mentor is ill", actor=Actor("@amr_admin"))
        return booking.id


async def test_history_lines_are_worded_in_the_readers_language(runner, sync_db):
    """Bug: ledger descriptions are stored in English ("Enrolled in X") and were shown that way in Arabic."""
    ids = seed_catalog(sync_db)
    arabic, english = TgUser(9301, "Mariam", "mariam", "ar"), TgUser(9302, "Mona", "mona", "en")
    await runner.send(arabic, "/start")
    await runner.send(english, "/start")
    ar_booking = _spend_and_refund(sync_db, arabic.id, ids)
    en_booking = _spend_and_refund(sync_db, english.id, ids)

    await runner.send(arabic, "/history")
    page = runner.api.last_message(arabic.id).plain_text
    digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    ar_id = str(ar_booking).translate(digits)
    assert "اشتراك في Web <Flask>" in page and "تجديد Web <Flask>" in page
    assert f"جلسة إرشاد رقم {ar_id} مع Ahmed Mentor (٣٠ دقيقة)" in page
    assert f"استرداد الجلسة رقم {ar_id}" in page and "Hackathon prize" in page
    assert not any(english in page for english in ("Enrolled", "Renewed", "Mentorship", "Refund for"))

    await runner.send(english, "/balance")
    receipt = runner.api.last_message(english.id).plain_text
    assert "Enrolled in Web <Flask>" in receipt and "Renewed Web <Flask>" in receipt
    assert f"Mentorship session #{en_booking} with Ahmed Mentor (30 min)" in receipt
    assert f"Refund for session #{en_booking}" in receipt


PANEL_ONLY_ERRORS = {
    "HasEnrollments",
    "InvalidSetting",
    "AuthFailed",
    "NotAMentor",
    "WeakPassword",
    "ConfirmationRequired",
    "TransferAlreadyUsed",
}  # raised only behind the panel


def test_every_domain_error_met_in_telegram_has_its_own_words_in_both_languages():
    errors = [
        cls
        for cls in vars(core.errors).values()
        if isinstance(cls, type) and issubclass(cls, core.errors.DomainError) and cls is not core.errors.DomainError
    ]
    assert {cls.__name__ for cls in errors if cls not in ERROR_WORDS} == PANEL_ONLY_ERRORS
    i18n = build_i18n()
    details = {"required": "10", "balance": "0", "shortfall": "10", "old": "1", "new": "2", "limit": 3}
    for cls in ERROR_WORDS:
        with i18n.context(), i18n.use_locale("en"):
            english = error_text(cls("x", **details))
        with i18n.context(), i18n.use_locale("ar"):
            arabic = error_text(cls("x", **details))
        assert "did not work" not in english and "{" not in english, cls
        assert any("\u0600" <= ch <= "\u06ff" for ch in arabic), cls
