"""The bot under a burst: N students send a command at once through the tests' fake Bot API server; answers
per second and the p99 wait, for the product and for an aiogram bot with empty handlers on the same fake API
(the floor); statements and transactions per update; resident memory after start, against the empty bot."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import time
from contextlib import suppress
from pathlib import Path

from sqlalchemy import event

from tests.bot.fake_api import TOKEN, FakeTelegramAPI, TgUser


def _settings(url: str, data_dir: Path, api_url: str):
    from bench.panel import _key
    from core.config import Settings

    return Settings(
        database_url=url,
        data_dir=data_dir,
        field_encryption_key=_key(data_dir),
        bot_token=TOKEN,
        telegram_api_url=api_url,
        secret_key="bench-secret-key",
        vodafone_cash_number="01099998888",
        admin_telegram_ids=[555000111],
        _env_file=None,
    )


def _empty_dispatcher():
    from aiogram import Dispatcher, Router

    router = Router()

    @router.message()
    async def on_any(message):  # the floor: read the update, send one answer
        await message.answer("ok")

    dp = Dispatcher()
    dp.include_router(router)
    return dp


def _register_dispatcher(url: str):
    """The floor of a first /start: an aiogram bot whose /start does the product's registration writes (the user
    row with the welcome credit, its ledger row) in raw sqlite3, one durable transaction per student (WAL,
    synchronous=FULL, as the product), then answers."""
    import sqlite3

    from aiogram import Dispatcher, Router
    from sqlalchemy import make_url

    conn = sqlite3.connect(make_url(url).database, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    router = Router()

    @router.message()
    async def on_start(message):
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(
            "INSERT INTO users (telegram_id, full_name, username, language, balance, created_at, last_seen_at) "
            "VALUES (?, ?, ?, 'en', 50000, ?, ?) ON CONFLICT (telegram_id) DO NOTHING RETURNING id",
            (message.from_user.id, message.from_user.full_name, message.from_user.username, now, now),
        ).fetchone()
        if row is not None:
            conn.execute(
                "INSERT INTO transactions (user_id, type, amount, description, status, created_at, updated_at) "
                "VALUES (?, 'SIGNUP_BONUS', 50000, 'Welcome credit', 'APPROVED', ?, ?)",
                (row[0], now, now),
            )
        conn.execute("COMMIT")
        await message.answer("Welcome")

    dp = Dispatcher()
    dp.include_router(router)
    return dp


class Bench:
    def __init__(self, kind: str, url: str | None, data_dir: Path):
        self.kind, self.url, self.data_dir = kind, url, data_dir
        self.statements: list[str] = []

    async def start(self) -> None:
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        self.api = await FakeTelegramAPI().start()
        self.db = None
        if self.kind == "product":
            from bot.app import create_bot, create_dispatcher, settle_heap
            from core.startup import open_async_database

            settings = _settings(self.url, self.data_dir, self.api.base_url)
            self.db = open_async_database(settings)
            reads = self.db.reads.engine.sync_engine if self.db.reads is not None else None
            for engine in (self.db.engine.sync_engine, self.db.point_engine, reads):  # per-update reads: own engines
                if engine is not None:
                    event.listen(
                        engine,
                        "before_cursor_execute",
                        lambda c, cur, stmt, *a: self.statements.append(" ".join(stmt.split()[:2]).upper()),
                    )
            if self.db.point_reader is not None:  # the reads that go to the driver past SQLAlchemy
                self.db.point_reader.listeners.append(
                    lambda stmt: self.statements.append(" ".join(stmt.split()[:2]).upper())
                )
            self.bot = create_bot(settings)
            self.dp = create_dispatcher(settings, self.db, throttle_limit=1000)
            if os.environ.get("CODEHUB_BENCH_NO_SETTLE") is None:
                settle_heap()  # as bot.runner does before the first update
        else:
            self.bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(self.api.base_url)))
            self.dp = _register_dispatcher(self.url) if self.kind == "register" else _empty_dispatcher()
            if self.kind == "empty-settled":  # the floor with the product's garbage-collector settings
                from bot.app import settle_heap

                settle_heap()
        self.task = asyncio.create_task(
            self.dp.start_polling(
                self.bot, handle_signals=False, handle_as_tasks=True, polling_timeout=1, close_bot_session=True
            )
        )
        await self.api.wait_for_call(lambda c: c.method == "getMe")

    async def stop(self) -> None:
        with suppress(RuntimeError):
            await self.dp.stop_polling()
        with suppress(asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(self.task, 10)
        with suppress(Exception):
            await self.dp.storage.close()
        if self.db is not None:
            await self.db.dispose()
        await self.api.stop()

    async def burst(self, users: list[TgUser], text: str, timeout: float = 120.0) -> dict:
        marks = {u.id: len(self.api.by_chat.get(u.id, [])) for u in users}
        start = time.monotonic()
        for u in users:
            self.api.push(self.api.message_update(u, text))
        waits: dict[int, float] = {}
        deadline = start + timeout
        while len(waits) < len(users) and time.monotonic() < deadline:
            for u in users:
                if u.id not in waits:
                    answered = [
                        c
                        for c in self.api.by_chat.get(u.id, [])[marks[u.id] :]
                        if c.method == "sendMessage" and c.error is None
                    ]
                    if answered:
                        waits[u.id] = answered[0].at - start
            await asyncio.sleep(0.01)
        done = sorted(waits.values())
        if not done:
            return {"rate": 0.0, "p99": None, "answered": 0}
        p99 = done[min(len(done) - 1, int(len(done) * 0.99))]
        return {"rate": len(done) / done[-1], "p99": p99, "answered": len(done), "sent": len(users)}

    async def per_update(self, user: TgUser, text: str) -> dict:
        """Statements and transactions one update costs (product only)."""
        mark = len(self.statements)
        sent = len(self.api.by_chat.get(user.id, []))
        self.api.push(self.api.message_update(user, text))
        await self.api.wait_in_chat(user.id, lambda c: c.method == "sendMessage", since=sent, timeout=30)
        await asyncio.sleep(0.3)  # anything written after the answer (state flush, activity marks)
        seen = self.statements[mark:]
        begins = [s for s in seen if s.startswith("BEGIN")]
        return {
            "statements": len([s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]),
            "transactions": len(begins),
            "writes": len([b for b in begins if "IMMEDIATE" in b]),
            "kinds": seen,
        }


async def _burst_run(kind: str, url: str | None, data_dir: Path, n: int) -> dict:
    b = Bench(kind, url, data_dir)
    await b.start()
    try:
        users = [TgUser(700_000 + i, f"S{i}", f"s{i}", "en") for i in range(n)]
        if kind == "register":  # the first /start only
            return {"start_new": await b.burst(users, "/start")}
        out = {
            "start_new": await b.burst(users, "/start"),
            "start": await b.burst(users, "/start"),
            "balance": await b.burst(users, "/balance"),
        }
        if kind == "product":
            out["per_update_start"] = await b.per_update(users[0], "/start")
            out["per_update_balance"] = await b.per_update(users[0], "/balance")
        return out
    finally:
        await b.stop()


def burst(kind: str, url: str | None, data_dir: Path, n: int) -> dict:
    """One burst run in a child process (a fresh interpreter state for each bot)."""
    return _in_child(_burst_child, kind, url, str(data_dir), n)


def _burst_child(kind, url, data_dir, n):
    return asyncio.run(_burst_run(kind, url, Path(data_dir), n))


def memory(kind: str, url: str | None, data_dir: Path) -> float:
    """Resident MB after start: imports, dispatcher, database engine, polling running."""
    import subprocess

    code = (
        "import asyncio, sys, json; sys.path.insert(0, '.'); from bench.bot import _memory_child; "
        f"print(json.dumps(asyncio.run(_memory_child({kind!r}, {url!r}, {str(data_dir)!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-800:])
    return json.loads(out.stdout.strip().splitlines()[-1])


async def _memory_child(kind: str, url: str | None, data_dir: str) -> float:
    from bench.panel import rss_mb

    b = Bench(kind, url, Path(data_dir))
    await b.start()
    try:
        user = TgUser(900_001, "M", "m", "en")
        await b.burst([user], "/start")
        await asyncio.sleep(0.5)
        return rss_mb()
    finally:
        await b.stop()


def _in_child(fn, *args):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
