"""This suite runs on SQLite and PostgreSQL: `db_url`, `db` and `session` come from tests/conftest.py."""
