"""Connection pool: no update holds one pool connection while waiting for another (a pool of one
connection still serves every flow), a class of 100 students at once on SQLite and PostgreSQL without
Redis, and an apology in seconds when the database is down or has no free connection."""

from __future__ import annotations

import asyncio
import statistics
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from bot.outbox.scheduler import run_core_jobs
from core.cli import cmd_check_ledger
from core.db import Database
from core.models import Enrollment, MentorshipBooking, Transaction, TransactionStatus, TransactionType, User
from tests.bot.fake_api import ApiCall, FakeTelegramAPI, StoredMessage, TgUser
from tests.bot.helpers import ADMIN1, BotRunner
from tests.factories import seed_catalog
from tests.helpers import context, make_settings

ONE_CONNECTION = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 2}
APOLOGY = "Sorry, something went wrong"


class Student:
    """One student acting on their own: each step waits for the bot's answer that a person would read."""

    def __init__(self, api: FakeTelegramAPI, user: TgUser, answer_times: list[float]):
        self.api, self.user, self.answer_times = api, user, answer_times

    async def _step(self, update: dict, needle: str) -> StoredMessage:
        mark = len(self.api.by_chat.get(self.user.id, []))
        pushed = time.monotonic()
        self.api.push(update)
        call: ApiCall = await self.api.wait_in_chat(
            self.user.id, lambda c: c.error is None and needle in c.text, since=mark, timeout=90
        )
        self.answer_times.append(call.at - pushed)
        return self.api.messages[(self.user.id, call.result["message_id"])]

    async def send(self, text: str, needle: str) -> StoredMessage:
        return await self._step(self.api.message_update(self.user, text), needle)

    async def press(self, message: StoredMessage, label: str, needle: str) -> StoredMessage:
        return await self._step(self.api.callback_update(self.user, message, message.callback_data(label)), needle)

    async def register(self) -> None:
        await self.send("/start", "Welcome to CodeHub")

    async def top_up(self) -> None:
        await self.send("/topup", "How much did you send")
        await self.send("150", "Now send the Vodafone Cash number")
        prompt = await self.send("01012345678", "transaction number")
        summary = await self.press(prompt, "Skip", "Please check your top-up request")
        await self.press(summary, "Confirm", "Top-up request #")

    async def enroll(self) -> None:
        listing = await self.send("/platforms", "Web <Flask> — 250.00 EGP")
        page = await self.press(listing, "Web <Flask>", "Tasks: 3")
        confirm = await self.press(page, "Enroll", "Balance after: 250.00 EGP")
        await self.press(confirm, "Confirm", "You are enrolled")

    async def book(self) -> None:
        mentors = await self.send("/book", "Ahmed Mentor")
        durations = await self.press(mentors, "Book Ahmed", "Session with")
        await self.press(durations, "30 min", "Anything the mentor should know")
        summary = await self.send("Graphs & trees, please", "Cost: 150.00 EGP")
        await self.press(summary, "Confirm", "Booking #")

    async def all_flows(self) -> None:
        await self.register()
        await self.top_up()
        await self.enroll()
        await self.book()


def assert_everyone_served(api: FakeTelegramAPI, sync_db: Database, students: list[TgUser], settings) -> None:
    said = [c.text for c in api.calls if c.method in ("sendMessage", "editMessageText", "answerCallbackQuery")]
    said += [c.params.get("text", "") for c in api.calls if c.method == "answerCallbackQuery"]
    assert not [t for t in said if APOLOGY in t or "Too many requests" in t]
    ids = [s.id for s in students]
    with sync_db.session() as s:
        balances = dict(s.execute(select(User.telegram_id, User.balance).where(User.telegram_id.in_(ids))).all())
        assert balances == {i: Decimal("100.00") for i in ids}  # 500 bonus - 250 platform - 150 session
        theirs = select(User.id).where(User.telegram_id.in_(ids)).scalar_subquery()
        assert s.scalar(
            select(func.count())
            .select_from(Transaction)
            .where(
                Transaction.user_id.in_(theirs),
                Transaction.type == TransactionType.TOP_UP,
                Transaction.status == TransactionStatus.PENDING,
            )
        ) == len(ids)
        assert s.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.user_id.in_(theirs))) == len(ids)
        assert s.scalar(
            select(func.count()).select_from(MentorshipBooking).where(MentorshipBooking.student_id.in_(theirs))
        ) == len(ids)
    assert cmd_check_ledger(settings, None) == 0  # `codehub check-ledger`


# -- a pool of one connection: a nested checkout would fail at once -----------------------------------


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_every_flow_completes_on_a_pool_of_one_connection(request, database, fake_api, tmp_path):
    url = request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url")
    settings = make_settings(url, tmp_path, bot_token=fake_api.token, telegram_api_url=fake_api.base_url)
    sync_db = Database(url, context())
    seed_catalog(sync_db)
    runner = await BotRunner(fake_api, settings, db_kw=ONE_CONNECTION, throttle_limit=1000).start()
    try:
        times: list[float] = []
        one, two = TgUser(9101, "Nour"), TgUser(9102, "Omar", language_code="ar")
        await Student(fake_api, one, times).all_flows()
        # a flow left with /cancel, a menu command in the middle of another, a state cleared when empty
        await runner.send(two, "/start")
        await runner.send(two, "/cancel")  # nothing to leave: no write
        await runner.send(two, "/topup")
        await runner.send(two, "/cancel")  # leaves the flow: one write
        await runner.send(two, "/topup")
        await runner.send(two, "/balance")  # a command in the middle of the flow leaves it
        calls = await runner.send(two, "150")
        assert calls[-1].chat_id == two.id and "150.00" not in calls[-1].text  # not read as an amount any more
        # the admin approves in Telegram; the outbox and the scheduled jobs run on the same one-connection pool
        assert await runner.deliver() > 0
        card = fake_api.message_with(ADMIN1.id, "New top-up request")
        await runner.press(ADMIN1, card, "Approve")
        await runner.send(ADMIN1, "Seen in the statement")  # no received transfer matches: a reason
        assert await runner.deliver() > 0
        assert "New balance: 250.00 EGP" in fake_api.message_with(one.id, "approved").plain_text
        result = await run_core_jobs(runner.db)
        assert result["errors"] == []
        # and several students at once, still on one connection
        await runner.stop()
        runner = await BotRunner(fake_api, settings, db_kw=ONE_CONNECTION, as_tasks=True).start()
        crowd = [TgUser(9200 + i, f"S{i}") for i in range(5)]
        await asyncio.wait_for(asyncio.gather(*(Student(fake_api, u, times).all_flows() for u in crowd)), 120)
        assert_everyone_served(fake_api, sync_db, crowd, settings)
    finally:
        await runner.stop()
        sync_db.dispose()


# -- a class of 100 students at once --------------------------------------------------------------------


async def run_class(fake_api, url: str, tmp_path, students: int = 100) -> dict:
    """As run_bot.py runs by default (no Redis, default pool, updates handled as tasks)."""
    settings = make_settings(url, tmp_path, bot_token=fake_api.token, telegram_api_url=fake_api.base_url)
    assert settings.redis_url is None
    sync_db = Database(url, context())
    seed_catalog(sync_db)
    runner = await BotRunner(fake_api, settings, as_tasks=True).start()
    times: list[float] = []
    users = [TgUser(50_000 + i, f"Student {i}") for i in range(students)]
    started = time.monotonic()
    try:
        # registration first (an announcement), then the three flows, everyone at the same moment
        await asyncio.wait_for(asyncio.gather(*(Student(fake_api, u, times).all_flows() for u in users)), 240)
        wall = time.monotonic() - started
        assert_everyone_served(fake_api, sync_db, users, settings)
    finally:
        await runner.stop()
        sync_db.dispose()
    times.sort()
    figures = {
        "students": students,
        "updates": len(times),
        "wall_s": round(wall, 2),
        "p50_s": round(statistics.median(times), 3),
        "p99_s": round(times[int(len(times) * 0.99) - 1], 3),
        "max_s": round(times[-1], 3),
    }
    print(f"\n{url.split(':')[0]}: {figures}")
    return figures


@pytest.mark.slow
async def test_a_class_of_100_students_at_once_on_sqlite(fake_api, sqlite_url, tmp_path):
    figures = await run_class(fake_api, sqlite_url, tmp_path)
    assert figures["updates"] == 100 * 15  # 15 steps a student, the Skip of the transaction number one


@pytest.mark.slow
async def test_a_class_of_100_students_at_once_on_postgres(fake_api, pg_url, tmp_path):
    figures = await run_class(fake_api, pg_url, tmp_path)
    assert figures["updates"] == 100 * 15  # 15 steps a student, the Skip of the transaction number one


# -- the database down or without a free connection: an apology, in seconds ------------------------------


async def test_no_free_connection_gives_the_apology_while_the_database_is_still_busy(fake_api, bot_settings):
    runner = await BotRunner(fake_api, bot_settings, db_kw=ONE_CONNECTION).start()
    student = TgUser(9301, "Mai", language_code="ar")
    try:
        await runner.send(student, "/start")
        mark = len(fake_api.calls)
        async with runner.db.engine.connect() as hog:  # something else holds the only connection
            await hog.execute(text("SELECT 1"))
            fake_api.push(fake_api.message_update(student, "/topup"))
            apology = await fake_api.wait_for_call(lambda c: c.chat_id == student.id, start=mark, timeout=15)
        assert "عذرًا، حدث خطأ من جهتنا" in apology.text  # in the student's language, worded without the database
        # once the database is free again, the same student is served
        calls = await runner.send(student, "/topup")
        assert any(c.chat_id == student.id and "01099998888" in c.text for c in calls)  # the top-up screen
    finally:
        await runner.stop()


async def test_database_down_gives_the_apology(fake_api, tmp_path):
    settings = make_settings(
        "postgresql://postgres@127.0.0.1:9/nowhere",
        tmp_path,
        bot_token=fake_api.token,
        telegram_api_url=fake_api.base_url,
    )
    runner = await BotRunner(fake_api, settings).start()
    try:
        calls = await runner.send(TgUser(9401, "Hany"), "/start")
        assert [c for c in calls if c.chat_id == 9401 and APOLOGY in c.text]
    finally:
        await runner.stop()
