"""run_bot.py itself, as a subprocess against the fake server: polling, webhook, and the missing token."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.bot.fake_api import TOKEN, TgUser
from tests.helpers import FIELD_KEY

ROOT = Path(__file__).resolve().parents[2]
RUN_BOT = str(ROOT / "run_bot.py")


def bot_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEBHOOK_", "TELEGRAM_", "REDIS_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        DATA_DIR=str(tmp_path / "data"),
        FIELD_ENCRYPTION_KEY=FIELD_KEY,
        VODAFONE_CASH_NUMBER="01099998888",
        ADMIN_TELEGRAM_IDS="111000111",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def stop(proc) -> tuple[int, str]:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    return proc.returncode, err.decode()


@pytest.mark.slow
async def test_run_bot_polls_and_answers_start(fake_api, tmp_path):
    env = bot_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=fake_api.base_url)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, RUN_BOT, cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        await fake_api.wait_for_call(lambda c: c.method == "deleteWebhook", timeout=30)
        student = TgUser(9001, "Hana", "hana", "en")
        fake_api.push(fake_api.message_update(student, "/start"))
        welcome = await fake_api.wait_for_call(lambda c: c.method == "sendMessage" and c.chat_id == 9001, timeout=20)
        assert "Welcome to CodeHub, Hana" in welcome.text and "500.00 EGP" in welcome.text
        commands = [c for c in fake_api.calls if c.method == "setMyCommands"]
        langs = {c.params.get("language_code") for c in commands}
        assert "ar" in langs and None in langs
        names = {cmd["command"] for c in commands for cmd in c.params["commands"]}
        assert {
            "start",
            "help",
            "balance",
            "topup",
            "history",
            "platforms",
            "my",
            "mentors",
            "book",
            "sessions",
            "language",
            "cancel",
        } <= names
        default = [c for c in commands if c.params["scope"]["type"] == "default"]
        assert all("pending" not in {x["command"] for x in c.params["commands"]} for c in default)
    finally:
        code, err = await stop(proc)
    assert code == 0, err
    assert "Traceback" not in err
    # what start-up built is out of the garbage collector's passes before the first update (bot.app.settle_heap)
    settled = re.search(r"start-up heap settled: (\d+) objects frozen", err)
    assert settled and int(settled.group(1)) > 100_000, err[-2000:]


@pytest.mark.slow
async def test_run_bot_webhook_mode_checks_the_secret(fake_api, tmp_path):
    port = free_port()
    env = bot_env(
        tmp_path,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=fake_api.base_url,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/tg-hook",
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET="s3cret-token",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, RUN_BOT, cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        hook = await fake_api.wait_for_call(lambda c: c.method == "setWebhook", timeout=30)
        assert hook.params["url"].endswith("/tg-hook") and hook.params["secret_token"] == "s3cret-token"
        update = fake_api.message_update(TgUser(9002, "Webhook"), "/start")
        async with aiohttp.ClientSession() as http:
            for _ in range(50):
                try:
                    async with http.post(
                        f"http://127.0.0.1:{port}/tg-hook",
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                    ) as r:
                        assert r.status in (401, 403)
                    break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.2)
            async with http.post(
                f"http://127.0.0.1:{port}/tg-hook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
            ) as r:
                assert r.status == 200
        welcome = await fake_api.wait_for_call(lambda c: c.method == "sendMessage" and c.chat_id == 9002, timeout=20)
        assert "500.00 EGP" in welcome.text
        assert (
            len([c for c in fake_api.calls if c.method == "sendMessage" and c.chat_id == 9002 and "Welcome" in c.text])
            == 1
        )  # the rejected post did nothing
    finally:
        code, err = await stop(proc)
    assert code == 0, err


@pytest.mark.parametrize("token", ["", "not-a-token"])
async def test_missing_or_malformed_bot_token_exits_2_naming_it(tmp_path, token):
    env = bot_env(tmp_path, BOT_TOKEN=token)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, RUN_BOT, cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    text = err.decode()
    assert proc.returncode == 2
    assert "BOT_TOKEN" in text and "Traceback" not in text
    assert len(text.strip().splitlines()) == 1


async def test_python_m_bot_exits_2_without_token(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=ROOT,
        env=bot_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and "BOT_TOKEN" in err.decode()


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_sigterm_while_jobs_run_stops_cleanly(fake_api, tmp_path, request, database):
    """Issue 20, #11: SIGTERM with the scheduler's jobs mid-run (core jobs, rollups and delivery start 3 s after
    start; the outbox holds messages to send) logs no ERROR and no traceback, and exits 0."""
    url = request.getfixturevalue("pg_url") if database == "postgresql" else f"sqlite:///{tmp_path / 'bot.db'}"
    env = bot_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=fake_api.base_url, DATABASE_URL=url)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, RUN_BOT, cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        await fake_api.wait_for_call(lambda c: c.method == "deleteWebhook", timeout=30)
        for n in range(20):  # welcome messages and admin notices keep the delivery job busy
            fake_api.push(fake_api.message_update(TgUser(9100 + n, f"Student {n}"), "/start"))
        await fake_api.wait_for_call(lambda c: c.method == "sendMessage" and c.chat_id == 9119, timeout=30)
        await asyncio.sleep(3.2)  # the first runs of the scheduled jobs are under way
    finally:
        code, err = await stop(proc)
    assert code == 0, err
    assert "Traceback" not in err and " ERROR " not in err and "ERROR:" not in err, err[-3000:]
    assert "stopping" in err


@pytest.mark.slow
async def test_run_bot_waits_for_telegram_with_a_line_per_attempt_and_tells_the_panel(tmp_path):
    """Telegram out of reach at start-up: a 60-line traceback and an exit, while the panel ran on and told nobody.
    Now one warning line per attempt (1 s, 2 s, 4 s ... apart), the state on the dashboard ("unreachable"), and
    the bot starts as soon as Telegram answers; a stop says "stopped"."""
    from core.db import Database
    from core.services import processes
    from tests.bot.fake_api import FakeTelegramAPI
    from tests.helpers import context

    port = free_port()  # nothing listens here yet
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    env = bot_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=f"http://127.0.0.1:{port}")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, RUN_BOT, cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    lines: list[str] = []

    async def read_until(needle: str, count: int = 1) -> None:
        while sum(needle in line for line in lines) < count:
            raw = await asyncio.wait_for(proc.stderr.readline(), 30)
            assert raw, "".join(lines)
            lines.append(raw.decode())

    def state() -> str | None:
        db = Database(url, context())
        try:
            with db.session() as s:
                found = processes.status(s, "bot")
                return found.state if found else None
        finally:
            db.dispose()

    api = None
    try:
        await read_until("cannot reach Telegram", 2)
        assert state() == processes.UNREACHABLE
        api = await FakeTelegramAPI().start(port)  # Telegram is back
        await api.wait_for_call(lambda c: c.method == "deleteWebhook", timeout=30)
        assert state() == processes.RUNNING
        api.push(api.message_update(TgUser(9002, "Hana"), "/start"))
        await api.wait_for_call(lambda c: c.method == "sendMessage" and c.chat_id == 9002, timeout=20)
    finally:
        code, err = await stop(proc)
        if api is not None:
            await api.stop()
    err = "".join(lines) + err
    assert code == 0, err
    assert "Traceback" not in err
    attempts = [line for line in err.splitlines() if "cannot reach Telegram" in line]
    assert len(attempts) >= 2 and all("retrying in" in line for line in attempts)
    assert state() == processes.STOPPED


@pytest.mark.slow
async def test_run_bot_with_a_token_telegram_refuses_stops_with_one_line(fake_api, tmp_path):
    env = bot_env(
        tmp_path, BOT_TOKEN="123456789:AAEsomebodyElsesTokenThatTelegramRefuses", TELEGRAM_API_URL=fake_api.base_url
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, RUN_BOT, cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    err = err.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err and "BOT_TOKEN: Telegram refused it" in err
    assert not any(c.method == "sendMessage" for c in fake_api.calls)
