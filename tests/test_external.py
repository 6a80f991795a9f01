"""A missing PostgreSQL, Redis or Chromium skips a test on a laptop and fails it in CI."""

import pytest

from tests.external import require_redis, unavailable


def test_missing_server_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL at x is not available: down.*CI=true"):
        unavailable("PostgreSQL at x", "down")


def test_missing_server_skips_on_a_laptop(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Redis at y is not available"):
        unavailable("Redis at y", "connection refused")


async def test_unreachable_redis_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Redis at redis://127.0.0.1:1/0"):
        await require_redis("redis://127.0.0.1:1/0")
