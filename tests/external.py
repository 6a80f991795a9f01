"""The servers and the browser some tests need: skipped on a laptop without them, a failure in CI.

Under CI=true a missing PostgreSQL, Redis or Chromium must not quietly turn "SQLite and PostgreSQL"
into "SQLite only": the test that needs it fails, naming what is missing.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REDIS_URL = os.environ.get("CODEHUB_TEST_REDIS", "redis://127.0.0.1:6379/0")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(what: str, reason: object) -> NoReturn:
    message = f"{what} is not available: {reason}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: tests that need it fail instead of skipping)", pytrace=False)
    pytest.skip(message)


def require_chromium() -> Path:
    if not CHROMIUM.exists():
        unavailable("Debian's chromium", f"{CHROMIUM} is missing (apt-get install -y chromium)")
    return CHROMIUM


async def require_redis(url: str = REDIS_URL):
    """A connected redis.asyncio client (the caller closes it)."""
    try:
        from redis.asyncio import Redis
    except ImportError as exc:
        unavailable("the redis package", exc)
    client = Redis.from_url(url)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "not available"
        await client.aclose()
        unavailable(f"Redis at {url}", exc)
    return client
