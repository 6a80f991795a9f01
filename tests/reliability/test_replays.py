"""Replays across interfaces, on the running system (run_bot.py on a webhook, run_admin.py on waitress, one
SQLite file): the same Telegram update delivered twice (a retried webhook: same update_id), a double-submitted
panel form (the same CSRF form POSTed twice), a repeated /api/admin PUT, a repeated student API POST with the
same Idempotency-Key. One effect each: one ledger row, one audit row, one receipt."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.models import AuditLog, MentorshipBooking, Transaction, TransactionStatus, TransactionType, User
from tests.bot.fake_api import TOKEN, TgUser
from tests.reliability.system import (  # noqa: F401 - tg is a fixture
    APPROVE,
    NONCE_RE,
    RECEIPTS,
    System,
    csrf_from,
    record,
    tg,
    utc_in,
)
from tests.student_api.conftest import sign, tg_user

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


async def test_every_interface_answers_a_replay_with_the_first_effect_only(sqlite_url, tg, tmp_path):
    system = await System(tg, sqlite_url, tmp_path, replicas=1).start()
    port = system.hook_ports[0]
    replays = system.tally.replays
    student = TgUser(88_001, "Replay")

    async def twice(update: dict, needle: str):
        """POST the update, then the very same update again (Telegram retrying a webhook)."""
        mark = len(tg.by_chat.get(student.id, []))
        await system.post_webhook(port, update)
        await system.post_webhook(port, update)
        replays["telegram update (same update_id)"] += 1
        call = await tg.wait_in_chat(student.id, lambda c: c.error is None and needle in c.text, since=mark, timeout=30)
        await asyncio.sleep(1.5)  # time for a second handling to show itself
        return tg.messages[(student.id, call.result["message_id"])] if call.result else None

    def rows(*where) -> int:
        with system.db.session() as s:
            return s.scalar(select(func.count()).select_from(Transaction).where(*where)) or 0

    def audits(action: str) -> int:
        with system.db.session() as s:
            return s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == action)) or 0

    try:
        # -- Telegram: every step of a top-up delivered twice ---------------------------------------------------
        await twice(tg.message_update(student, "/start"), "Welcome to CodeHub")
        await twice(tg.message_update(student, "/topup"), "How much did you send")
        await twice(tg.message_update(student, "150"), "Now send the Vodafone Cash number")
        ask = await twice(tg.message_update(student, "01012345678"), "transaction number")
        summary = await twice(
            tg.callback_update(student, ask, ask.callback_data("Skip")), "Please check your top-up request"
        )
        await twice(tg.callback_update(student, summary, summary.callback_data("Confirm")), RECEIPTS["top_up"])
        said = [
            c.text for c in tg.by_chat[student.id] if c.method in ("sendMessage", "editMessageText") and c.error is None
        ]
        assert sum("Welcome to CodeHub" in t for t in said) == 1
        assert sum(RECEIPTS["top_up"] in t for t in said) == 1
        assert not [t for t in said if "again" in t], said  # no step was read twice (e.g. "150" as a number)
        with system.db.session() as s:
            user_id = s.scalar(select(User.id).where(User.telegram_id == student.id))
        assert rows(Transaction.user_id == user_id, Transaction.type == TransactionType.SIGNUP_BONUS) == 1
        assert rows(Transaction.user_id == user_id, Transaction.type == TransactionType.TOP_UP) == 1
        with system.db.session() as s:
            topup_id = s.scalar(
                select(Transaction.id).where(Transaction.user_id == user_id, Transaction.type == TransactionType.TOP_UP)
            )

        # -- /api/admin: the same approval PUT twice ----------------------------------------------------------
        first, body1 = await system.admin_call("PUT", f"/api/admin/topup-requests/{topup_id}", json_body=APPROVE)
        again, body2 = await system.admin_call("PUT", f"/api/admin/topup-requests/{topup_id}", json_body=APPROVE)
        replays["admin API PUT"] += 1
        assert (first, again) == (200, 409), (body1, body2)
        assert "already" in body2.lower()
        assert rows(Transaction.user_id == user_id, Transaction.status == TransactionStatus.APPROVED) == 2
        assert audits("topup.approved") == 1

        # -- the panel: the same adjustment form POSTed twice ----------------------------------------------
        panel = await system.panel_login()
        try:
            _, page = await system.admin_call("GET", f"/admin/students/student/{user_id}", session=panel)
            form = {
                "csrf_token": csrf_from(page),
                "nonce": NONCE_RE.search(page).group(1),
                "amount": "40",
                "reason": "Replay check goodwill",
            }
            codes = [
                (
                    await system.admin_call(
                        "POST",
                        f"/admin/students/student/{user_id}/adjust",
                        session=panel,
                        data=form,
                        allow_redirects=True,
                    )
                )
                for _ in range(2)
            ]
            replays["panel form POST"] += 1
            assert [c for c, _ in codes] == [200, 200]
            assert "already saved" in codes[1][1]
            assert rows(Transaction.user_id == user_id, Transaction.type == TransactionType.ADJUSTMENT) == 1
            assert audits("balance.adjust") == 1
        finally:
            await panel.close()

        # -- the student API: the same POST with the same Idempotency-Key, twice --------------------------
        headers = {
            "Authorization": "tma " + sign(tg_user(student.id, "en"), token=TOKEN),
            "Idempotency-Key": str(uuid.uuid4()),
        }
        answers = []
        for _ in range(2):
            async with system.http.post(
                f"{system.panel_url}/api/enrollments", json={"platformId": system.ids["paid"]}, headers=headers
            ) as r:
                answers.append((r.status, await r.json(), r.headers.get("Idempotent-Replayed")))
        replays["student API POST (same Idempotency-Key)"] += 1
        assert answers[0][0] == answers[1][0] == 201 and answers[0][1] == answers[1][1]
        assert answers[1][2] == "true"
        assert rows(Transaction.user_id == user_id, Transaction.type == TransactionType.PLATFORM_PURCHASE) == 1
        key = str(uuid.uuid4())
        book = {"duration": 30, "mentorId": system.ids["mentor"]}
        for _ in range(2):
            async with system.http.post(
                f"{system.panel_url}/api/mentorship/book", json=book, headers={**headers, "Idempotency-Key": key}
            ) as r:
                assert r.status == 201, await r.text()
        replays["student API POST (same Idempotency-Key)"] += 1
        assert rows(Transaction.user_id == user_id, Transaction.type == TransactionType.MENTORSHIP_PAYMENT) == 1

        # -- /api/admin: the same booking confirmation PUT twice ------------------------------------------
        with system.db.session() as s:
            booking_id = s.scalar(select(MentorshipBooking.id).where(MentorshipBooking.student_id == user_id))
        when = {"sessionDate": utc_in(timedelta(days=30)).isoformat(), "adminNotes": "Replayed"}
        codes = [
            (await system.admin_call("PUT", f"/api/admin/mentorship/{booking_id}/confirm", json_body=when))[0]
            for _ in range(2)
        ]
        replays["admin API PUT"] += 1
        assert codes[0] == 200 and codes[1] in (200, 409)
        assert audits("booking.confirm") == 1

        await system.drain_outbox()
        checked = system.check_outbox_exactly_once()
        system.check_nobody_saw_an_error()
        ledger = await system.check_ledger_cli()
        assert "ledger OK" in ledger
    finally:
        await system.stop()
    system.assert_clean_exit()
    record(
        "replays across interfaces",
        {
            "replays_sent": sum(replays.values()),
            "by_interface": dict(replays),
            "operations": 9,
            "piastres_lost_or_doubled": 0,
            **checked,
        },
    )
