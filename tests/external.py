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


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch_chromium(playwright):
    """Debian's chromium, headless, through Playwright (its own browser download cannot work here)."""
    return playwright.chromium.launch(executable_path=str(require_chromium()), headless=True, args=CHROMIUM_ARGS)


def keep_offline(context, base: str) -> list[str]:
    """Abort every request of `context` that leaves `base` (no CDN, no outside call); the returned list
    collects the URLs a page tried, for the test to assert it stays empty."""
    outside: list[str] = []

    def guard(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return outside


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
