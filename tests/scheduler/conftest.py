"""The scheduler suite runs on both SQLite and PostgreSQL: every test gets `db` once per database."""
from __future__ import annotations

import pytest

from core.db import Database
from tests.conftest import context


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def db(db_url):
    database = Database(db_url, context())
    yield database
    database.dispose()


@pytest.fixture
def session(db):
    with db.session() as s:
        yield s
