"""This suite runs on SQLite and PostgreSQL (`db_url`, `db`, `session` from tests/conftest.py), and reuses
the bot suite's fake Bot API server and dispatcher runner for delivery tests."""

from tests.bot.conftest import bot_settings, fake_api, runner  # noqa: F401  (fixtures)
