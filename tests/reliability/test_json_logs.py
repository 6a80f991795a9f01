"""LOG_FORMAT=json: one JSON object per line, carrying the error reference the student was shown."""

from __future__ import annotations

import io
import json
import logging
import os

import pytest

from core.config import ConfigError, load_settings
from core.logs import configure_logging
from tests.bot.conftest import bot_settings, fake_api, runner  # noqa: F401 - fixtures
from tests.bot.helpers import MONA
from tests.helpers import run_core_cli


@pytest.fixture
def json_lines():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in saved[0]:
        root.addHandler(h)
    root.setLevel(saved[1])


async def test_an_unexpected_error_is_one_json_line_with_the_students_reference(runner, monkeypatch, json_lines):
    from core.services import wallet

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    await runner.send(MONA, "/start")
    monkeypatch.setattr(wallet, "entries_of", broken)  # what /balance reads its entries with
    calls = await runner.send(MONA, "/balance")
    ref = calls[-1].text.rsplit(" ", 1)[-1]  # "... Error reference: ABCD1234" as the student sees it
    [line] = [x for x in json_lines() if x.get("error_ref")]
    assert line["error_ref"] == ref and line["level"] == "ERROR" and line["logger"] == "bot.errors"
    assert "database on fire" in line["exc"] and ref in line["message"]
    assert {"ts", "update_id"} <= line.keys()


def test_log_format_is_validated_and_named():
    assert load_settings(log_format="json", _env_file=None).log_format == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings(log_format="yaml", _env_file=None)


def test_the_cli_writes_json_warnings(sqlite_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": sqlite_url, "DATA_DIR": str(tmp_path / "data"), "LOG_FORMAT": "json"}
    env.pop("FIELD_ENCRYPTION_KEY", None)  # the first run generates a key and warns about it
    result = run_core_cli(["stats"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in result.stderr.splitlines() if x.strip()]
    assert any(x["level"] == "WARNING" and "field encryption key" in x["message"] for x in lines)


@pytest.mark.parametrize("level, shown", [("INFO", False), ("DEBUG", True)])
async def test_the_schedulers_runs_are_not_logged_at_the_default_level(level, shown):
    """APScheduler logged "Running job" and "executed successfully" for each run: with the outbox every 2 s,
    two lines every 2 s at the default level. They show at DEBUG; a failing job's error shows at any level."""
    import asyncio

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    root, executors = logging.getLogger(), logging.getLogger("apscheduler.executors")
    saved = (list(root.handlers), root.level, executors.level)
    stream = io.StringIO()
    configure_logging(level, "text", stream=stream)
    ran = asyncio.Event()

    async def tick():
        ran.set()

    async def broken():
        raise RuntimeError("the job failed")

    scheduler = AsyncIOScheduler()
    scheduler.add_job(tick, "interval", seconds=0.05, id="tick")
    scheduler.add_job(broken, "interval", seconds=0.05, id="broken")
    scheduler.start()
    try:
        await asyncio.wait_for(ran.wait(), 5)
        await asyncio.sleep(0.2)
    finally:
        scheduler.shutdown(wait=False)
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
        executors.setLevel(saved[2])
    text = stream.getvalue()
    assert ("Running job" in text) is shown and ("executed successfully" in text) is shown
    assert "the job failed" in text
