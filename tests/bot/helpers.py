"""What the bot tests share: the runner that drives the real dispatcher, test users, seeded data, common steps."""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bot.app import create_bot, create_dispatcher
from bot.i18n import build_i18n
from bot.outbox.delivery import deliver_due
from core.db import Database, unit_of_work
from core.models import MentorshipBooking, Platform, Task, Transaction, TransactionType, User
from core.services import mentorship
from core.services.common import Actor
from core.startup import open_async_database
from core.timeutil import utcnow
from tests.bot.fake_api import ApiCall, FakeTelegramAPI, StoredMessage, TgUser
from tests.factories import seed_catalog
from tests.helpers import ADMIN_CHAT_IDS

ADMIN1 = TgUser(ADMIN_CHAT_IDS[0], "Amr", "amr_admin", "en")
ADMIN2 = TgUser(ADMIN_CHAT_IDS[1], "Hoda", "hoda_admin", "en")
MONA = TgUser(9101, "Mona", "mona", "en")
MONA_AR = TgUser(9102, "منى", "mona_ar", "ar")


class BotRunner:
    """The real dispatcher in polling mode against the fake server; one update handled at a time
    (as_tasks=True: updates handled concurrently, as run_bot.py does; db_kw: engine options, e.g. the pool)."""

    def __init__(
        self, api: FakeTelegramAPI, settings, *, db_kw: dict | None = None, as_tasks: bool = False, **dispatcher_kw
    ):
        self.api, self.settings, self.dispatcher_kw = api, settings, dispatcher_kw
        self.db_kw, self.as_tasks = db_kw or {}, as_tasks
        self.i18n = build_i18n()
        self.task: asyncio.Task | None = None

    async def start(self) -> BotRunner:
        self.db = open_async_database(self.settings, **self.db_kw)
        self.bot = create_bot(self.settings)
        self.dp = create_dispatcher(self.settings, self.db, i18n=self.i18n, **self.dispatcher_kw)
        self.task = asyncio.create_task(
            self.dp.start_polling(
                self.bot, handle_signals=False, handle_as_tasks=self.as_tasks, polling_timeout=1, close_bot_session=True
            )
        )
        await self.api.wait_for_call(lambda c: c.method == "getMe")
        return self

    async def stop(self) -> None:
        if self.task is not None:
            with suppress(RuntimeError):
                await self.dp.stop_polling()
            with suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, 10)
            self.task = None
        storage = self.dp.fsm.storage
        await storage.close()
        await self.db.dispose()

    async def feed(self, update: dict) -> list[ApiCall]:
        mark = len(self.api.calls)
        update_id = self.api.push(update)
        await self.api.wait_processed(update_id)
        return self.api.calls[mark:]

    async def send(self, user: TgUser, text: str) -> list[ApiCall]:
        return await self.feed(self.api.message_update(user, text))

    async def press(self, user: TgUser, message: StoredMessage, label: str) -> list[ApiCall]:
        return await self.feed(self.api.callback_update(user, message, message.callback_data(label)))

    async def press_data(self, user: TgUser, message: StoredMessage, data: str) -> list[ApiCall]:
        return await self.feed(self.api.callback_update(user, message, data))

    async def deliver(self, now=None) -> int:
        total = 0
        for _ in range(5):  # admin rows fan out on the first pass
            n = await deliver_due(self.bot, self.db, self.i18n, "test-worker", now=now)
            total += n
            if not n:
                break
        return total

    def texts(self, chat_id: int, since: int = 0) -> list[str]:
        return [c.text for c in self.api.sent_to(chat_id, since)]


def media_update(api, user: TgUser, kind: str) -> dict:
    """A photo, sticker or voice message where text was expected."""
    msg_id = api._next_message_id(user.id)
    message = {
        "message_id": msg_id,
        "date": int(time.time()),
        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
        "from": user.as_dict(),
    }
    if kind == "photo":
        message["photo"] = [{"file_id": "ph1", "file_unique_id": "u1", "width": 90, "height": 90}]
    elif kind == "sticker":
        message["sticker"] = {
            "file_id": "st1",
            "file_unique_id": "u2",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "😂",
        }
    else:
        message["voice"] = {"file_id": "vo1", "file_unique_id": "u3", "duration": 3}
    return {"message": message}


def topup_count(sync_db) -> int:
    with sync_db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Transaction).where(Transaction.type == TransactionType.TOP_UP))
            or 0
        )


async def open_platform_page(runner, sync_db) -> tuple[dict, object]:
    """The catalogue seeded, the student registered and looking at the paid platform's page."""
    ids = seed_catalog(sync_db)
    await runner.send(MONA, "/start")
    await runner.send(MONA, f"/start platform_{ids['paid']}")
    return ids, runner.api.last_message(MONA.id)


async def admin_starts_rejecting_a_topup(runner) -> None:
    """A student's 150.00 top-up request is pending and ADMIN1 has tapped Reject (asked for a reason)."""
    await runner.send(MONA, "/start")
    await runner.send(MONA, "/topup")
    await runner.send(MONA, "150")
    await runner.send(MONA, "01012345678")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Skip")  # no transaction number
    await runner.press(MONA, runner.api.last_message(MONA.id), "Confirm")
    await runner.deliver()
    await runner.press(ADMIN1, runner.api.message_with(ADMIN1.id, "New top-up request"), "Reject")


async def choose_session(runner, user: TgUser = MONA, minutes: str = "30 min", *, start: bool = True) -> None:
    """The student (registered first, unless start=False) on /book has chosen Ahmed and a duration: asked for
    notes."""
    if start:
        await runner.send(user, "/start")
    await runner.send(user, "/book")
    await runner.press(user, runner.api.last_message(user.id), "Book Ahmed")
    await runner.press(user, runner.api.last_message(user.id), minutes)


async def booking_summary(runner, user: TgUser = MONA, minutes: str = "30 min", *, start: bool = True) -> StoredMessage:
    """... and skipped the notes: the summary with Confirm and Cancel."""
    await choose_session(runner, user, minutes, start=start)
    await runner.press(user, runner.api.last_message(user.id), "Skip")
    return runner.api.last_message(user.id)


async def book_session(runner, user: TgUser = MONA, minutes: str = "30 min") -> None:
    """... and confirmed it: a PENDING booking, paid."""
    await runner.press(user, await booking_summary(runner, user, minutes), "Confirm")


async def complete_booking(runner, sync_db):
    seed_catalog(sync_db)
    await book_session(runner)
    with sync_db.session() as s:
        b = s.scalar(select(MentorshipBooking))
        mentorship.confirm(s, b.id, utcnow() + timedelta(hours=2), actor=Actor("qa"))
        mentorship.complete(s, b.id, actor=Actor("qa"), now=utcnow() + timedelta(hours=3))
        return b.id


async def booking_waiting_for_a_date(runner, sync_db):
    """A 30-minute booking of MONA is pending and ADMIN1 has tapped Confirm (asked for the date)."""
    seed_catalog(sync_db)
    await book_session(runner)
    await runner.deliver()
    await runner.press(ADMIN1, runner.api.message_with(ADMIN1.id, "New booking"), "Confirm")


def group_update(api, user: TgUser, text: str) -> dict:
    """A message in a group the bot was added to."""
    message = {
        "message_id": api._next_message_id(-100777),
        "date": int(time.time()),
        "text": text,
        "chat": {"id": -100777, "type": "supergroup", "title": "CS students"},
        "from": user.as_dict(),
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": message}


def speaks_arabic(sync_db, who) -> None:
    """`who` (an admin, who never picked a language through /start) now reads the bot in Arabic."""
    with sync_db.session() as s:
        s.query(User).filter(User.telegram_id == who.id).update({"language": "ar"})
        s.commit()
