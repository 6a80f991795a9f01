"""The whole system as it runs in production, for the reliability tests: run_bot.py (polling, or N webhook
replicas) and run_admin.py (waitress) as real subprocesses on one database, the fake Bot API server in
the test's event loop, simulated students in Telegram and admins over HTTP, faults (kill -9) and
replays, then the checks every scenario shares (ledger, half-written rows, outbox exactly once, audit
rows, no error seen by anyone) and the figures for the lead's note (test-output/reliability.json).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest_asyncio
from sqlalchemy import func, select

from core.db import Database
from core.models import (
    AuditLog,
    BookingStatus,
    Enrollment,
    MentorshipBooking,
    Notification,
    NotificationStatus,
    Transaction,
    TransactionStatus,
    TransactionType,
    User,
)
from core.services import api_tokens
from core.services import settings as app_settings
from core.services.admins import create_admin
from core.services.common import Actor
from tests.bot.fake_api import CALL, TOKEN, ApiCall, FakeTelegramAPI, StoredMessage, TgUser
from tests.factories import seed_catalog
from tests.helpers import ADMIN_CHAT_IDS, FIELD_KEY, context

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "reliability.json"
PASSWORD = "correct-horse-1"
WEBHOOK_SECRET = "reliability-secret-token"
ERROR_TEXTS = (
    "database is locked",
    "Sorry, something went wrong",
    "Error reference",
    "Traceback",
    "OperationalError",
    "عذرًا، حدث خطأ",
)
NEEDLE_NO_MONEY = "Not enough balance"
ANSWERS = ("sendMessage", "editMessageText", "answerCallbackQuery")
REFUSED = ("Already processed", "can no longer")
RECEIPTS = {
    "top_up": "🧾 Top-up request #",
    "enroll": "✅ You are enrolled in",
    "book": "🧾 Booking #",
    "cancel": "cancelled. Refunded",
}
CONFUSED = (
    "Please send the amount again",
    "Please send the number again",
    "Please answer the question above",
    "This button is no longer valid",
    "That did not work",
)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
NONCE_RE = re.compile(r'name="nonce" value="([^"]+)"')


class TelegramAPI(FakeTelegramAPI):
    """The fake Bot API, with each answerCallbackQuery also filed under the chat of the student who pressed
    (a refusal of a button, e.g. "already processed", comes back as an alert, not a message)."""

    def __init__(self):
        super().__init__()
        self.callback_chats: dict[str, int] = {}

    def callback_update(self, user: TgUser, message: StoredMessage, data: str) -> dict:
        update = super().callback_update(user, message, data)
        self.callback_chats[update["callback_query"]["id"]] = user.id
        return update

    async def _handle(self, request):
        response = await super()._handle(request)
        call = request.get(CALL)
        if call is not None and call.method == "answerCallbackQuery":
            chat = self.callback_chats.get(str(call.params.get("callback_query_id")))
            if chat is not None:
                self.by_chat.setdefault(chat, []).append(call)
                self._chat_changed.setdefault(chat, asyncio.Event()).set()
        return response


@pytest_asyncio.fixture
async def tg():
    """The fake Telegram (TelegramAPI) for one test."""
    api = TelegramAPI()
    await api.start()
    yield api
    await api.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- processes ---------------------------------------------------------------------------------------------


class Proc:
    """One product process; output goes to a log file (a pipe nobody reads would stall it)."""

    def __init__(self, name: str, args: list[str], env: dict, workdir: Path):
        self.name, self.args, self.env, self.workdir = name, args, env, workdir
        self.proc: asyncio.subprocess.Process | None = None
        self.logs: list[Path] = []
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        log = self.workdir / f"{self.name}.{self.starts}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, *self.args, cwd=self.workdir, env=self.env, stdout=out, stderr=asyncio.subprocess.STDOUT
            )

    async def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self, timeout: float = 40) -> int | None:
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"{self.name} did not stop within {timeout}s of SIGTERM")

    def output(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())


# -- the system --------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What happened, for the assertions and the figures."""

    ops: Counter = field(default_factory=Counter)  # completed student / admin operations by name
    interrupted: int = 0  # student flows that lost their answer (a killed bot) and were ended with /cancel
    unanswered: list = field(default_factory=list)  # (operation, what the bot said last), for the failure message
    unended: list = field(default_factory=list)  # flows whose /cancel was not answered either
    resumed: int = 0  # steps sent while the bot was down (killed), answered after its restart
    out_of_step: int = 0  # answers asking for the previous step again (a kill between a reply and its state)
    faults: list[str] = field(default_factory=list)
    replays: Counter = field(default_factory=Counter)
    http_errors: list[str] = field(default_factory=list)  # >= 500, "locked", or a connection refused unexpectedly
    http_retries: int = 0  # admin requests retried because the panel was down (killed)
    approved: set = field(default_factory=set)  # top-up ids the admins approved (2xx)
    rejected: set = field(default_factory=set)
    confirmed: set = field(default_factory=set)  # booking ids
    adjusted: set = field(default_factory=set)  # (user_id, form nonce) of adjustments the panel took
    conflicts: int = 0  # 409: another admin / the student got there first


class System:
    def __init__(
        self,
        api: FakeTelegramAPI,
        url: str,
        workdir: Path,
        *,
        redis_url: str | None = None,
        replicas: int = 0,
        with_panel: bool = True,
    ):
        """replicas=0: one bot polling; replicas=N: N bots on webhooks (one port each)."""
        self.api, self.url, self.workdir, self.redis_url = api, url, workdir, redis_url
        self.replica_count = replicas
        self.with_panel = with_panel
        self.db = Database(url, context())
        self.tally = Tally()
        self.panel_port = free_port()
        self.panel_url = f"http://127.0.0.1:{self.panel_port}"
        self.hook_ports = [free_port() for _ in range(replicas)]
        self.bots: list[Proc] = []
        self.panel: Proc | None = None
        self.http: aiohttp.ClientSession | None = None
        self.token = ""
        self.ids: dict = {}
        self.rng = random.Random(15)
        self.bot_down = False  # between a kill -9 of the bot and its restart

    # environment -------------------------------------------------------------------------------------
    def env(self, **extra) -> dict:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BOT_", "WEBHOOK_", "TELEGRAM_", "REDIS_", "DATABASE_", "ADMIN_", "LOG_"))
        }
        env.update(
            DATABASE_URL=self.url,
            DATA_DIR=str(self.workdir / "data"),
            FIELD_ENCRYPTION_KEY=FIELD_KEY,
            SECRET_KEY="reliability-secret-key",
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=self.api.base_url,
            ADMIN_TELEGRAM_IDS=str(ADMIN_CHAT_IDS[0]),
            VODAFONE_CASH_NUMBER="01099998888",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(extra)
        return env

    # One admin chat (the panel's admins do the work): half the copies of every "new request" card to deliver.

    def seed(self) -> None:
        """The catalogue, limits wide enough for a long session, an owner account and its API token."""
        self.ids = seed_catalog(self.db)
        with self.db.session() as s:
            app_settings.update_settings(
                s,
                {"max_pending_topups": "100", "max_topups_per_day": "1000", "max_pending_bookings": "100"},
                actor=Actor("seed"),
            )
            owner = create_admin(s, "owner", PASSWORD, "owner")
            self.token, _ = api_tokens.create_token(s, owner.id, "reliability", actor=Actor("seed"))

    # processes ---------------------------------------------------------------------------------------
    async def start(self) -> System:
        self.seed()
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        if self.with_panel:
            self.panel = Proc(
                "panel",
                [str(ROOT / "run_admin.py")],
                self.env(ADMIN_HOST="127.0.0.1", ADMIN_PORT=str(self.panel_port)),
                self.workdir,
            )
        if self.replica_count:
            for i, port in enumerate(self.hook_ports):
                self.bots.append(
                    Proc(
                        f"bot{i + 1}",
                        [str(ROOT / "run_bot.py")],
                        self.env(
                            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
                            WEBHOOK_SECRET=WEBHOOK_SECRET,
                            WEBHOOK_HOST="127.0.0.1",
                            WEBHOOK_PORT=str(port),
                        ),
                        self.workdir,
                    )
                )
        else:
            self.bots.append(Proc("bot", [str(ROOT / "run_bot.py")], self.env(), self.workdir))
        starts = [self.start_bot(i) for i in range(len(self.bots))]
        if self.panel:
            starts.append(self.start_panel())
        try:
            await asyncio.gather(*starts)
        except BaseException:
            await self.stop()  # no process outlives a failed start
            raise
        return self

    async def start_bot(self, index: int = 0) -> None:
        mark = len(self.api.calls)
        await self.bots[index].start()
        if self.replica_count:
            await self._wait_http(f"http://127.0.0.1:{self.hook_ports[index]}/readyz", self.bots[index])
        else:
            await self.api.wait_for_call(lambda c: c.method == "deleteWebhook", timeout=60, start=mark)

    async def start_panel(self) -> None:
        await self.panel.start()
        await self._wait_http(f"{self.panel_url}/readyz", self.panel)

    async def _wait_http(self, url: str, proc: Proc, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.proc.returncode is not None:
                raise AssertionError(f"{proc.name} exited {proc.proc.returncode}:\n{proc.output()[-3000:]}")
            try:
                async with self.http.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"{proc.name} not ready at {url} in {timeout}s:\n{proc.output()[-3000:]}")

    async def stop(self) -> None:
        codes = {}
        for proc in self.bots + ([self.panel] if self.panel else []):
            if proc.proc is not None:
                try:
                    codes[proc.name] = await proc.stop()
                except AssertionError as exc:  # killed instead: the others still stop
                    codes[proc.name] = str(exc)
        if self.http:
            await self.http.close()
        self.db.dispose()
        self.exit_codes = codes

    def assert_clean_exit(self) -> None:
        """Every process stopped on SIGTERM: the bot exits 0 after finishing its updates, waitress by the signal."""
        assert all(code in (0, -signal.SIGTERM) for code in self.exit_codes.values()), self.exit_codes

    # Telegram side -----------------------------------------------------------------------------------
    async def deliver(self, update: dict, *, replay: bool = False) -> None:
        """Hand an update to the bot as Telegram would: queued for getUpdates, or POSTed to a random replica's
        webhook (replay=True: POSTed again, to another replica when there are several, like a retried call)."""
        if not self.replica_count:
            self.api.push(update)
            if replay:
                self.api.push(dict(update))  # the same update_id again
                self.tally.replays["telegram update"] += 1
            return
        update.setdefault("update_id", next(self.api._update_ids))
        ports = list(self.hook_ports)
        self.rng.shuffle(ports)
        targets = ports[:2] if replay else ports[:1]
        if replay and len(ports) == 1:
            targets = ports * 2
        for port in targets:
            await self.post_webhook(port, update)
        if replay:
            self.tally.replays["telegram update"] += 1

    async def post_webhook(self, port: int, update: dict) -> None:
        for attempt in range(60):
            try:
                async with self.http.post(
                    f"http://127.0.0.1:{port}/telegram",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                ) as r:
                    if r.status == 200:
                        return
                    text = await r.text()
                    self.tally.http_errors.append(f"webhook {port}: {r.status} {text[:200]}")
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.5)  # Telegram retries a webhook that does not answer
        self.tally.http_errors.append(f"webhook {port} unreachable")

    # admin side --------------------------------------------------------------------------------------
    async def admin_call(
        self, method: str, path: str, *, json_body=None, data=None, session=None, headers=None, allow_redirects=False
    ) -> tuple[int, str]:
        """An admin's request; while the panel is down (killed), retried until it is back."""
        http = session or self.http
        hdrs = dict(headers or {})
        if path.startswith("/api/admin/"):
            hdrs["Authorization"] = f"Bearer {self.token}"
        for attempt in range(120):
            try:
                async with http.request(
                    method,
                    self.panel_url + path,
                    json=json_body,
                    data=data,
                    headers=hdrs,
                    allow_redirects=allow_redirects,
                ) as r:
                    body = await r.text()
                    if r.status >= 500 or "database is locked" in body.lower():
                        self.tally.http_errors.append(f"{method} {path}: {r.status} {body[:300]}")
                    return r.status, body
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError):
                self.tally.http_retries += 1
                await asyncio.sleep(0.5)
        raise AssertionError(f"the panel did not answer {method} {path} for a minute")

    async def panel_login(self) -> aiohttp.ClientSession:
        jar = aiohttp.CookieJar(unsafe=True)
        session = aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=30))
        _, page = await self.admin_call("GET", "/admin/login", session=session)
        status, _ = await self.admin_call(
            "POST",
            "/admin/login",
            session=session,
            data={"username": "owner", "password": PASSWORD, "csrf_token": csrf_from(page)},
        )
        assert status in (302, 303), f"login failed: {status}"
        return session

    # checks --------------------------------------------------------------------------------------------
    def bot_texts(self) -> list[str]:
        said = [c.text for c in self.api.calls if c.method in ("sendMessage", "editMessageText")]
        return said + [str(c.params.get("text", "")) for c in self.api.calls if c.method == "answerCallbackQuery"]

    async def drain_outbox(self, timeout: float = 90) -> None:
        """Until every notification is delivered (or given up for a reason), at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.session() as s:
                left = (
                    s.scalar(
                        select(func.count())
                        .select_from(Notification)
                        .where(
                            Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]),
                            Notification.next_attempt_at <= utc_in(timedelta(minutes=5)),
                        )
                    )
                    or 0
                )
            if not left:
                return
            await asyncio.sleep(1)
        raise AssertionError(f"{left} notifications still undelivered after {timeout}s")

    async def check_ledger_cli(self) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "core",
            "check-ledger",
            cwd=self.workdir,
            env=self.env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, f"codehub check-ledger failed:\n{out.decode()}"
        return out.decode()

    def check_no_half_writes(self) -> dict:
        """Every paid enrollment has its purchase row, every booking its payment, every cancelled booking its
        refund; balance = ledger for every student (also what check-ledger says) and never negative."""
        with self.db.session() as s:
            paid = s.scalars(select(Enrollment).where(Enrollment.platform_id == self.ids["paid"])).all()
            purchases = _by_reference(s, TransactionType.PLATFORM_PURCHASE)
            assert [e.id for e in paid if purchases[f"enrollment:{e.id}"] != 1] == [], (
                "an enrollment without its purchase row (or paid twice)"
            )
            assert sum(purchases.values()) == len(paid), "a purchase without its enrollment"
            bookings = s.scalars(select(MentorshipBooking)).all()
            pays = _by_reference(s, TransactionType.MENTORSHIP_PAYMENT)
            refunds = _by_reference(s, TransactionType.REFUND)
            for b in bookings:
                ref = f"booking:{b.id}"
                assert pays[ref] == 1, f"booking {b.id} has {pays[ref]} payment rows"
                want = 1 if b.status == BookingStatus.CANCELLED else 0
                assert refunds[ref] == want, f"booking {b.id} ({b.status}) has {refunds[ref]} refunds"
            assert sum(pays.values()) == len(bookings) and sum(refunds.values()) == sum(
                1 for b in bookings if b.status == BookingStatus.CANCELLED
            ), "a payment or refund without booking"
            ledger = dict(
                s.execute(
                    select(Transaction.user_id, func.sum(Transaction.amount))
                    .where(Transaction.status == TransactionStatus.APPROVED)
                    .group_by(Transaction.user_id)
                ).all()
            )
            users = s.execute(select(User.id, User.balance)).all()
            wrong = [(u, b, ledger.get(u)) for u, b in users if b != (ledger.get(u) or 0) or b < 0]
            off = sum(abs(b - (ledger.get(u) or 0)) for u, b in users) * 100
            assert wrong == [], f"balance differs from the ledger by {off} piastres: {wrong[:5]}"
            return {
                "piastres_lost_or_doubled": int(off),
                "enrollments": len(paid),
                "bookings": len(bookings),
                "cancelled": sum(1 for b in bookings if b.status == BookingStatus.CANCELLED),
                "transactions": s.scalar(select(func.count()).select_from(Transaction)),
            }

    def check_outbox_exactly_once(self, in_doubt: set[int] = frozenset()) -> dict:
        """Each delivered notification reached Telegram exactly once: the message id it recorded is a sendMessage
        to its chat, and no other sendMessage to that chat repeats its text. `in_doubt`: rows a killed bot
        had claimed (sent or not, it could not record it): at most one extra copy each, reported."""
        sends = {
            (c.chat_id, c.result["message_id"]): c
            for c in self.api.calls
            if c.method == "sendMessage" and c.error is None and c.result
        }
        texts = Counter((c.chat_id, c.params.get("text", "")) for c in sends.values())
        with self.db.session() as s:
            rows = s.scalars(select(Notification).where(Notification.audience != "admins")).all()
        undelivered = [
            (n.id, n.kind, n.status.value, n.last_error)
            for n in rows
            if n.status != NotificationStatus.SENT and not (n.last_error or "").startswith("stale")
        ]
        assert undelivered == [], f"notifications not delivered: {undelivered[:10]}"
        expected: Counter = Counter()
        missing, by_row = [], {}
        for n in rows:
            if n.status != NotificationStatus.SENT or n.message_id is None:
                continue  # edits of admins' cards (decided) record no message of their own
            call = sends.get((n.chat_id, n.message_id))
            if call is None:
                missing.append(n.id)
                continue
            key = (n.chat_id, call.params.get("text", ""))
            expected[key] += 1
            by_row[key] = n.id
        assert missing == [], f"notifications marked sent that Telegram never got: {missing[:10]}"
        doubled = {key: texts[key] - count for key, count in expected.items() if texts[key] > count}
        explained = {k: v for k, v in doubled.items() if by_row[k] in in_doubt and v == 1}
        assert doubled == explained, f"notifications sent twice: {list(doubled.items())[:5]}"
        return {
            "notifications": sum(expected.values()),
            "sent_twice": sum(doubled.values()),
            "sent_twice_in_doubt": sum(explained.values()),
        }

    def check_audit(self) -> dict:
        with self.db.session() as s:
            rows = s.execute(select(AuditLog.action, AuditLog.entity_id)).all()
        have: dict[str, Counter] = {}
        for action, entity in rows:
            have.setdefault(action, Counter())[str(entity)] += 1
        t = self.tally
        for action, ids in (
            ("topup.approved", t.approved),
            ("topup.rejected", t.rejected),
            ("booking.confirm", t.confirmed),
        ):
            for i in ids:
                assert have.get(action, Counter())[str(i)] == 1, f"{action} {i}: audit rows {have.get(action)}"
        adjusts = sum(have.get("balance.adjust", Counter()).values())
        assert adjusts == len(t.adjusted), f"{len(t.adjusted)} adjustments, {adjusts} audit rows"
        return {"audit_rows": len(rows)}

    def check_nobody_saw_an_error(self) -> None:
        bad = [t for t in self.bot_texts() if any(e in t for e in ERROR_TEXTS)]
        assert bad == [], f"the bot said: {bad[:5]}"
        assert self.tally.http_errors == [], f"HTTP errors: {self.tally.http_errors[:5]}"
        for proc in self.bots + ([self.panel] if self.panel else []):
            out = proc.output()
            assert "database is locked" not in out, f"{proc.name}: database is locked:\n{out[-3000:]}"
            assert "Traceback" not in out, f"{proc.name} logged a traceback:\n{out[-5000:]}"

    def check_each_receipt_once(self, students: list[Student], *, allow_out_of_step: bool = False) -> dict:
        """Every money step a student finished was answered with exactly one receipt (a replayed update, on this
        replica or another, must not send a second), and no update was handled twice into a confusing answer."""
        wrong = []
        for st in students:
            said = [
                c.text
                for c in self.api.by_chat.get(st.user.id, [])
                if c.method in ("sendMessage", "editMessageText") and c.error is None
            ]
            for kind, needle in RECEIPTS.items():
                got = sum(needle in text for text in said)
                if got != st.receipts[kind]:
                    wrong.append((st.user.id, kind, st.receipts[kind], got))
            if not allow_out_of_step:
                wrong += [(st.user.id, "confused", text[:80]) for text in said if any(c in text for c in CONFUSED)]
        assert wrong == [], f"receipts sent twice, or an update handled twice: {wrong[:10]}"
        return {"receipts": sum(sum(st.receipts.values()) for st in students)}

    def pending_in_doubt(self, worker_pid: int) -> set[int]:
        with self.db.session() as s:
            return set(
                s.scalars(
                    select(Notification.id).where(
                        Notification.status == NotificationStatus.SENDING,
                        Notification.claimed_by.like(f"%:{worker_pid}"),
                    )
                ).all()
            )


def csrf_from(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1) or m.group(2)


def _by_reference(s, kind: TransactionType) -> Counter:
    return Counter(
        s.scalars(
            select(Transaction.reference).where(
                Transaction.type == kind, Transaction.status == TransactionStatus.APPROVED
            )
        ).all()
    )


# an approval with no received transfer needs a confirmation and a reason (issue 14)
APPROVE = {"status": "APPROVED", "confirm": True, "reason": "Seen in the statement"}


def utc_in(delta: timedelta):
    from core.timeutil import utcnow

    return utcnow() + delta


# -- students ----------------------------------------------------------------------------------------------


class NoAnswer(Exception):
    """The bot did not answer a step (it was killed while handling it)."""


class Student:
    """One student in Telegram; each step waits for the answer a person would read."""

    def __init__(self, system: System, user: TgUser, *, step_timeout: float = 45, replay_rate: float = 0.0):
        self.sys, self.api, self.user = system, system.api, user
        self.step_timeout, self.replay_rate = step_timeout, replay_rate
        self.receipts: Counter = Counter()  # the receipts this student was shown, by kind

    async def _step(self, update: dict, *needles: str) -> tuple[str, StoredMessage]:
        mark = len(self.api.by_chat.get(self.user.id, []))
        sent_while_down = self.sys.bot_down
        replay = self.replay_rate and self.sys.rng.random() < self.replay_rate
        await self.sys.deliver(update, replay=bool(replay))
        try:
            call: ApiCall = await self.api.wait_in_chat(
                self.user.id,
                lambda c: c.error is None and c.method in ANSWERS and any(n in c.text for n in needles + CONFUSED),
                since=mark,
                timeout=self.step_timeout,
            )
        except AssertionError as exc:
            raise NoAnswer(str(exc)) from None
        if not any(n in call.text for n in needles):
            # The bot is a step behind what the student last saw: a bot killed after sending its answer but
            # before writing the new FSM state. It asks again, clearly; the student ends the flow with /cancel.
            self.sys.tally.out_of_step += 1
            raise NoAnswer(f"out of step: {call.text[:200]}")
        needle = next(n for n in needles if n in call.text)
        if sent_while_down:
            self.sys.tally.resumed += 1  # sent to a dead bot, answered by the restarted one from the stored state
        if call.method == "answerCallbackQuery":
            return needle, None
        return needle, self.api.messages[(self.user.id, call.result["message_id"])]

    async def think(self) -> None:
        """A person reads, then types or taps (which also keeps them under the bot's throttle). Before the
        update is built: its update_id must be newer than what the bot already confirmed."""
        await asyncio.sleep(self.sys.rng.uniform(0.5, 1.2))

    async def send(self, text: str, *needles: str):
        await self.think()
        return await self._step(self.api.message_update(self.user, text), *needles)

    async def press(self, message: StoredMessage, label: str, *needles: str):
        await self.think()
        return await self._step(self.api.callback_update(self.user, message, message.callback_data(label)), *needles)

    # flows -------------------------------------------------------------------------------------------
    async def register(self) -> None:
        await self.send("/start", "Welcome to CodeHub", "Welcome back")

    async def top_up(self) -> None:
        await self.send("/topup", "How much did you send")
        await self.send("150", "Now send the Vodafone Cash number")
        _, ask = await self.send("01012345678", "transaction number")
        if self.user.id % 2:  # half of them give the number from their SMS (no SMS arrives: it stays pending)
            _, summary = await self.send(f"0227{self.user.id:08d}", "Please check your top-up request")
        else:
            _, summary = await self.press(ask, "Skip", "Please check your top-up request")
        await self.press(summary, "Confirm", RECEIPTS["top_up"])
        self.receipts["top_up"] += 1

    async def enroll(self) -> bool:
        _, listing = await self.send("/platforms", "Web <Flask> — 250.00 EGP")
        _, page = await self.press(listing, "Web <Flask>", "Tasks: 3")
        if "Enroll" not in " ".join(page.buttons):
            return False  # already enrolled
        found, confirm = await self.press(page, "Enroll", "Balance after", NEEDLE_NO_MONEY)
        if found == NEEDLE_NO_MONEY:
            return False
        found, _ = await self.press(confirm, "Confirm", RECEIPTS["enroll"], NEEDLE_NO_MONEY, "already enrolled")
        self.receipts["enroll"] += found == RECEIPTS["enroll"]
        return found == RECEIPTS["enroll"]

    async def book(self) -> bool:
        _, mentors = await self.send("/book", "Ahmed Mentor")
        _, durations = await self.press(mentors, "Book Ahmed", "Session with")
        found, _ = await self.press(durations, "30 min", "Anything the mentor should know", NEEDLE_NO_MONEY)
        if found == NEEDLE_NO_MONEY:
            return False
        # the summary names the cost either way: "Not enough balance" is looked for first (the balance may have
        # dropped since the duration was chosen, e.g. a purchase that answered late)
        found, summary = await self.send("Graphs & trees, please", NEEDLE_NO_MONEY, "Cost: 150.00 EGP")
        if found == NEEDLE_NO_MONEY:
            await self.send("/cancel", "Cancelled", "nothing to cancel", "Booking cancelled")
            return False
        found, _ = await self.press(summary, "Confirm", RECEIPTS["book"], NEEDLE_NO_MONEY)
        self.receipts["book"] += found == RECEIPTS["book"]
        return found == RECEIPTS["book"]

    async def cancel_pending(self) -> bool:
        """Cancel the newest pending booking from /sessions, if there is one."""
        _, listing = await self.send("/sessions", "session", "Session", "booking", "Booking")
        labels = [b for b in listing.buttons if b.startswith("✖️ Cancel #")]
        if not labels:
            return False
        found, ask = await self.press(listing, labels[-1], "You get", *REFUSED)
        if found in REFUSED:
            return False  # an admin confirmed it meanwhile
        found, _ = await self.press(ask, "Yes, cancel it", RECEIPTS["cancel"], *REFUSED)
        self.receipts["cancel"] += found == RECEIPTS["cancel"]
        return found == RECEIPTS["cancel"]

    async def leave_flow(self) -> None:
        """After an unanswered step: end whatever flow is open, cleanly. The bot answers one student's updates in
        order, so once /cancel is answered every earlier update was handled (or lost with a killed bot) and the
        student is in step with the bot again; waiting long enough for a restarted bot's backlog."""
        patience, self.step_timeout = self.step_timeout, max(self.step_timeout, 120)
        try:
            await self.send("/cancel", "Cancelled. Nothing was changed", "nothing to cancel")
        finally:
            self.step_timeout = patience

    async def live(self, deadline: float) -> None:
        """Register, then top up, enroll, book and cancel, over and over until the deadline."""
        t = self.sys.tally
        plan = ["top_up", "enroll", "book", "cancel", "top_up", "book"]
        registered = False
        i = self.user.id % len(plan)  # students start at different points: every kind of operation happens
        while time.monotonic() < deadline:
            op = "register" if not registered else plan[i % len(plan)]
            try:
                done = True
                if op == "register":
                    await self.register()
                    registered = True
                elif op == "top_up":
                    await self.top_up()
                elif op == "enroll":
                    done = await self.enroll()
                elif op == "book":
                    done = await self.book()
                else:
                    done = await self.cancel_pending()
                t.ops[op if done else f"{op} (refused or nothing to do)"] += 1
                if op != "register":
                    i += 1
            except NoAnswer as exc:
                t.interrupted += 1
                t.unanswered.append((op, str(exc)[-300:]))
                try:
                    await self.leave_flow()
                except NoAnswer as again:
                    t.unended.append((op, str(again)[-300:]))
                if op != "register":
                    i += 1


# -- admins ------------------------------------------------------------------------------------------------


class Admins:
    """Admins working the queue over HTTP while the students act: approve and reject top-ups through
    /api/admin (bearer token) and the panel's forms (CSRF), confirm bookings, adjust balances."""

    def __init__(self, system: System, *, replay_rate: float = 0.0):
        self.sys, self.replay_rate = system, replay_rate

    async def work(self, until: asyncio.Event) -> None:
        panel = await self.sys.panel_login()
        try:
            while not until.is_set():
                await self.one_round(panel)
                await asyncio.sleep(0.5)
            await self.one_round(panel)  # the last requests too
        finally:
            await panel.close()

    async def one_round(self, panel) -> int:
        s, t = self.sys, self.sys.tally
        status, body = await s.admin_call("GET", "/api/admin/topup-requests?status=PENDING&limit=40")
        done = 0
        items = json.loads(body)["items"] if status == 200 else []
        for n, item in enumerate(items):
            tx = item["id"]
            if tx % 5 == 0:
                code, _ = await s.admin_call(
                    "PUT",
                    f"/api/admin/topup-requests/{tx}",
                    json_body={"status": "REJECTED", "adminNotes": "No transfer found"},
                )
                if code == 200:
                    t.rejected.add(tx)
                    t.ops["admin reject"] += 1
            elif n % 3 == 0:  # through the panel's form
                code = await self.panel_approve(panel, tx)
                if code is not None:
                    t.approved.add(tx)
                    t.ops["admin approve (panel form)"] += 1
            else:
                code, _ = await s.admin_call("PUT", f"/api/admin/topup-requests/{tx}", json_body=APPROVE)
                if code == 200:
                    t.approved.add(tx)
                    t.ops["admin approve (API)"] += 1
                elif code == 409:
                    t.conflicts += 1
            done += 1
        with s.db.session() as db:
            pending = db.scalars(
                select(MentorshipBooking.id)
                .where(MentorshipBooking.status == BookingStatus.PENDING)
                .order_by(MentorshipBooking.id)
                .limit(20)
            ).all()
            students = db.scalars(
                select(User.id).where(User.telegram_id >= 70_000).order_by(func.random()).limit(1)
            ).all()
        for booking_id in pending:
            if booking_id % 2:
                continue  # the other half stays pending: the students may cancel those
            when = (utc_in(timedelta(days=3))).isoformat()
            code, _ = await s.admin_call(
                "PUT",
                f"/api/admin/mentorship/{booking_id}/confirm",
                json_body={"sessionDate": when, "adminNotes": "See you"},
            )
            if code == 200:
                t.confirmed.add(booking_id)
                t.ops["admin confirm"] += 1
            elif code == 409:
                t.conflicts += 1
            done += 1
        for user_id in students:
            await self.adjust(panel, user_id, "25.00")
            done += 1
        return done

    async def panel_approve(self, panel, tx: int) -> int | None:
        s = self.sys
        _, page = await s.admin_call("GET", f"/admin/topups/request/{tx}", session=panel)
        if "csrf_token" not in page:
            return None
        code, _ = await s.admin_call(
            "POST",
            f"/admin/topups/request/{tx}/approve",
            session=panel,
            data={"csrf_token": csrf_from(page), "confirmed": "1", "notes": "Transfer seen in the Vodafone Cash app"},
        )
        with s.db.session() as db:
            row = db.get(Transaction, tx)
            approved = row.status == TransactionStatus.APPROVED and row.admin_id is not None
        return code if code in (302, 303) and approved else None

    async def adjust(self, panel, user_id: int, amount: str, *, replay: bool = False) -> None:
        s = self.sys
        _, page = await s.admin_call("GET", f"/admin/students/student/{user_id}", session=panel)
        nonce = NONCE_RE.search(page)
        if nonce is None:
            return
        form = {
            "csrf_token": csrf_from(page),
            "nonce": nonce.group(1),
            "amount": amount,
            "reason": "Reliability test goodwill credit",
        }
        code, _ = await s.admin_call("POST", f"/admin/students/student/{user_id}/adjust", session=panel, data=form)
        if code in (302, 303):
            s.tally.adjusted.add((user_id, nonce.group(1)))
            s.tally.ops["admin adjust (panel form)"] += 1
        if replay or (self.replay_rate and s.rng.random() < self.replay_rate):
            await s.admin_call("POST", f"/admin/students/student/{user_id}/adjust", session=panel, data=form)
            s.tally.replays["panel form"] += 1


# -- figures ---------------------------------------------------------------------------------------------


def record(name: str, figures: dict) -> None:
    """Merge this scenario's figures into test-output/reliability.json and print them (pytest -s)."""
    OUTPUT.parent.mkdir(exist_ok=True)
    try:
        data = json.loads(OUTPUT.read_text())
    except (OSError, ValueError):
        data = {}
    data[name] = figures
    data["_total"] = {
        "operations": sum(v.get("operations", 0) for k, v in data.items() if not k.startswith("_")),
        "faults_injected": sum(v.get("faults_injected", 0) for k, v in data.items() if not k.startswith("_")),
        "replays_sent": sum(v.get("replays_sent", 0) for k, v in data.items() if not k.startswith("_")),
        "piastres_lost_or_doubled": sum(
            v.get("piastres_lost_or_doubled", 0) for k, v in data.items() if not k.startswith("_")
        ),
    }
    OUTPUT.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    print(f"\nRELIABILITY {name}: {json.dumps(figures, sort_keys=True, default=str)}")
