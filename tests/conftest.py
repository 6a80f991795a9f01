"""Shared fixtures: fresh, migrated databases on SQLite and PostgreSQL, and settings that point at them."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from core.config import Settings
from core.db import Database, ServiceContext, build_context, migrate
from core.models import Base
from tests.external import unavailable

PG_ADMIN_URL = os.environ.get("CODEHUB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FIELD_KEY = Fernet.generate_key().decode()
ADMIN_CHAT_IDS = [111000111, 111000222]


def make_settings(url: str, tmp_path: Path, **overrides) -> Settings:
    values = dict(database_url=url, data_dir=tmp_path / "data", field_encryption_key=FIELD_KEY,
                  admin_telegram_ids=ADMIN_CHAT_IDS, secret_key="test-secret-key",
                  vodafone_cash_number="01099998888", _env_file=None)
    values.update(overrides)
    return Settings(**values)


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


def truncate_all(url: str) -> str:
    """Empty every table of a migrated PostgreSQL database (the schema stays)."""
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def pg_url(pg_database) -> str:
    """The run's PostgreSQL database, emptied before the test."""
    return truncate_all(pg_database)


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


def context(**kw) -> ServiceContext:
    from core.crypto import FieldCipher
    return ServiceContext(cipher=FieldCipher(FIELD_KEY), admin_chat_ids=tuple(ADMIN_CHAT_IDS),
                          defaults={"vodafone_cash_number": "01099998888", "signup_bonus": "500.00"}, **kw)


@pytest.fixture
def sqlite_db(sqlite_url):
    db = Database(sqlite_url, context())
    yield db
    db.dispose()


__all__ = ["make_settings", "context", "build_context", "ADMIN_CHAT_IDS", "FIELD_KEY"]
