"""Outbox delivery: claim due notifications, render them in the reader's language, send, record."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramNotFound, TelegramRetryAfter
from aiogram.utils.i18n import I18n

from bot.ui.cards import render
from core.db import AsyncDatabase
from core.services import jobs, notifications, students, topups
from core.services.notifications import OutboxMessage
from core.timeutil import as_utc

log = logging.getLogger("bot.delivery")
BROADCAST_RATE = 25  # messages per second, overall (Telegram allows about 30)


class RateLimiter:
    """At most `rate` acquisitions per second, spaced evenly, shared by every caller."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            now = time.monotonic()
            if self.next_at > now:
                await asyncio.sleep(self.next_at - now)
            self.next_at = max(now, self.next_at) + self.interval


class RedisRateLimiter:
    """RateLimiter's even spacing, shared by every bot replica through one Redis key.

    A Lua script reads Redis's own clock, takes the next free slot (max(now, next)) and moves `next`
    one interval on, atomically; each caller sleeps until its slot. So replicas together keep the
    same rate as one process would, with no burst at the edge of a second.
    """

    SCRIPT = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
    local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
    local slot = math.max(now, nxt)
    redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', 60000)
    return tostring(slot - now)
    """

    def __init__(self, redis, rate: float, key: str = "codehub:broadcast-rate"):
        self.redis, self.key = redis, key
        self.interval_us = int(1_000_000 / rate)
        self._script = redis.register_script(self.SCRIPT)

    async def wait(self) -> None:
        delay_us = int(float(await self._script(keys=[self.key], args=[self.interval_us])))
        if delay_us > 0:
            await asyncio.sleep(delay_us / 1_000_000)


broadcast_limiter = RateLimiter(BROADCAST_RATE)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


async def _language(db: AsyncDatabase, msg: OutboxMessage, cache: dict[int, str]) -> str:
    if msg.language:
        return msg.language
    if msg.chat_id not in cache:  # admins: their own user row's language when they registered, else English
        async with db.sessions() as session:
            user = await session.run_sync(students.find_by_telegram, msg.chat_id)
        cache[msg.chat_id] = user.language if user else "en"
    return cache[msg.chat_id]


async def _edit_decided(bot: Bot, db: AsyncDatabase, msg: OutboxMessage, text: str) -> None:
    """Edit this admin's earlier message(s) about the subject to show who decided."""
    async with db.sessions() as session:
        copies = await session.run_sync(notifications.sent_messages, msg.subject) if msg.subject else []
    for chat_id, message_id in copies:
        if chat_id != msg.chat_id:
            continue
        try:
            await bot.edit_message_text(chat_id=chat_id, message_id=message_id, text=text, reply_markup=None)
        except TelegramBadRequest as exc:  # already shows it, or too old to edit
            log.debug("edit of %s/%s skipped: %s", chat_id, message_id, exc)


async def _still_relevant(db: AsyncDatabase, msg: OutboxMessage, now: datetime) -> bool:
    if msg.kind != "reminder.session":
        return True
    async with db.sessions() as session:
        return await session.run_sync(
            jobs.reminder_still_due, msg.payload.get("booking_id"), msg.payload.get("session_date", ""), now=now
        )


async def _reveal_for_review(db: AsyncDatabase, msg: OutboxMessage) -> dict:
    """An admin's top-up card is that request's review screen: the full sender number, decrypted now,
    so it is never stored in plain text in the outbox (lists elsewhere keep the masked form)."""
    if msg.kind != "admin.topup_new" or "transaction_id" not in msg.payload:
        return msg.payload
    async with db.sessions() as session:
        full = await session.run_sync(topups.reveal_wallet, int(msg.payload["transaction_id"]))
    return {**msg.payload, "wallet": full} if full else msg.payload


async def deliver_one(
    bot: Bot,
    db: AsyncDatabase,
    i18n: I18n,
    msg: OutboxMessage,
    now: datetime,
    lang_cache: dict[int, str],
    limiter: RateLimiter | RedisRateLimiter,
) -> None:
    if not await _still_relevant(db, msg, now):
        async with db.sessions() as session:
            await session.run_sync(notifications.mark_failed, msg.id, "stale: booking changed")
        return
    lang = await _language(db, msg, lang_cache)
    payload = await _reveal_for_review(db, msg)
    with i18n.context(), i18n.use_locale(lang):
        rendered = render(msg.kind, payload)
    if rendered is None:
        async with db.sessions() as session:
            await session.run_sync(notifications.mark_failed, msg.id, f"unknown kind {msg.kind}")
        return
    text, markup = rendered
    message_id = None
    try:
        if msg.kind in ("admin.topup_decided", "admin.booking_decided"):
            await _edit_decided(bot, db, msg, text)
        else:
            if msg.kind == "broadcast" or msg.broadcast_id is not None:
                await limiter.wait()
            sent = await bot.send_message(msg.chat_id, text, reply_markup=markup)
            message_id = sent.message_id
    except TelegramRetryAfter as exc:
        async with db.sessions() as session:
            await session.run_sync(
                notifications.mark_retry,
                msg.id,
                f"retry after {exc.retry_after}s",
                retry_at=now + timedelta(seconds=exc.retry_after),
                count_attempt=False,
            )
        return
    except TelegramForbiddenError:
        log.info("chat %s blocked the bot: marked, its messages dropped", msg.chat_id)
        async with db.sessions() as session:
            await session.run_sync(notifications.mark_chat_blocked, msg.chat_id, now=now)
        return
    except (TelegramBadRequest, TelegramNotFound) as exc:  # a message Telegram will never accept
        log.warning("notification %s refused: %s", msg.id, exc)
        async with db.sessions() as session:
            await session.run_sync(notifications.mark_failed, msg.id, str(exc))
        return
    except Exception as exc:  # network, 5xx: try again later, with growing pauses
        log.warning("notification %s not delivered (attempt %s): %s", msg.id, msg.attempts, exc)
        async with db.sessions() as session:
            await session.run_sync(
                notifications.mark_retry, msg.id, f"{type(exc).__name__}: {exc}", retry_at=now + backoff(msg.attempts)
            )
        return
    async with db.sessions() as session:
        await session.run_sync(notifications.mark_sent, msg.id, message_id=message_id, now=now)


async def deliver_due(
    bot: Bot,
    db: AsyncDatabase,
    i18n: I18n,
    worker_id: str,
    now: datetime | None = None,
    limit: int = 50,
    limiter: RateLimiter | RedisRateLimiter | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """One delivery pass: returns how many messages were claimed.

    When `stop` is set mid-pass (the bot is shutting down), the claimed messages not sent yet are
    released at once, so a restart delivers them without waiting for their lease to run out.
    """
    now = as_utc(now)
    async with db.sessions() as session:
        due = await session.run_sync(notifications.claim_due, worker_id, now=now, limit=limit)
    cache: dict[int, str] = {}
    for index, msg in enumerate(due):
        if stop is not None and stop.is_set():
            async with db.sessions() as session:
                await session.run_sync(notifications.release, [m.id for m in due[index:]], worker_id)
            break
        try:
            await deliver_one(bot, db, i18n, msg, now, cache, limiter or broadcast_limiter)
        except Exception:  # one bad row must not stop the others
            log.exception("delivery of notification %s failed", msg.id)
    return len(due)


class DeliveryLoop:
    """The outbox job with a clean stop: no new pass after stop(), and the running one winds down."""

    def __init__(self, bot: Bot, db: AsyncDatabase, i18n: I18n, worker_id: str, limiter=None):
        self.bot, self.db, self.i18n, self.worker_id = bot, db, i18n, worker_id
        self.limiter = limiter
        self.stopping = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()

    async def run_pass(self) -> int:
        if self.stopping.is_set():
            return 0
        self.idle.clear()
        try:
            return await deliver_due(
                self.bot, self.db, self.i18n, self.worker_id, stop=self.stopping, limiter=self.limiter
            )
        finally:
            self.idle.set()

    async def stop(self, timeout: float = 15) -> None:
        self.stopping.set()
        try:
            await asyncio.wait_for(self.idle.wait(), timeout)
        except asyncio.TimeoutError:
            log.warning("delivery pass still running after %ss; its claims expire by lease", timeout)
