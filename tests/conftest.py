"""Shared fixtures: fresh, migrated databases on SQLite and PostgreSQL, settings that point at them, and the browser."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.db import Database, migrate
from tests.external import launch_chromium, unavailable
from tests.helpers import PG_ADMIN_URL, context, idle_in_transaction, truncate_all


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file; each test copies it (fast, and it is the migrated schema)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "codehub.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def pg_database():
    """A PostgreSQL database of this test run only, migrated once and dropped at the end."""
    name = f"codehub_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - only when PostgreSQL is down
        admin.dispose()
        unavailable(f"PostgreSQL at {PG_ADMIN_URL}", exc)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_database) -> str:
    """The run's PostgreSQL database, emptied before the test; the test fails if it leaves a connection idle
    inside a transaction (its locks would block the next test's TRUNCATE)."""
    yield truncate_all(pg_database)
    leaked = idle_in_transaction(pg_database)
    assert leaked == [], f"this test left a PostgreSQL connection idle in a transaction: {leaked}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """Suites that must hold on both databases (core, scheduler) take this: each test runs twice."""
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


@pytest.fixture
def sqlite_db(sqlite_url):
    db = Database(sqlite_url, context())
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright (tests/external.py), one for a test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()
