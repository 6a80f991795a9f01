"""Helpers shared by every test layer: test settings, a service context, and database utilities."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core.config import Settings
from core.crypto import FieldCipher
from core.db import ServiceContext
from core.models import Base

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("CODEHUB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FIELD_KEY = Fernet.generate_key().decode()
ADMIN_CHAT_IDS = [111000111, 111000222]


def make_settings(url: str, tmp_path: Path, **overrides) -> Settings:
    values = dict(
        database_url=url,
        data_dir=tmp_path / "data",
        field_encryption_key=FIELD_KEY,
        admin_telegram_ids=ADMIN_CHAT_IDS,
        secret_key="test-secret-key",
        vodafone_cash_number="01099998888",
        _env_file=None,
    )
    values.update(overrides)
    return Settings(**values)


def context(**kw) -> ServiceContext:
    return ServiceContext(
        cipher=FieldCipher(FIELD_KEY),
        admin_chat_ids=tuple(ADMIN_CHAT_IDS),
        defaults={"vodafone_cash_number": "01099998888", "signup_bonus": "500.00"},
        **kw,
    )


def idle_in_transaction(url: str, *, settle: float = 2.0) -> list[str]:
    """The last statement of each connection to this database left idle inside a transaction (waiting up to
    `settle` seconds for ones that are only about to commit or close)."""
    engine = create_engine(url, poolclass=NullPool)
    deadline = time.monotonic() + settle
    try:
        while True:
            with engine.connect() as conn:
                found = [
                    row[0][:200]
                    for row in conn.execute(
                        text(
                            "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
                        )
                    )
                ]
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)
    finally:
        engine.dispose()


def truncate_all(url: str) -> str:
    """Empty every table of a migrated PostgreSQL database (the schema stays)."""
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        # A connection an earlier test left idle inside a transaction holds locks that TRUNCATE would wait
        # for forever (seen once in CI): it belongs to no running test, so end it.
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                "current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        )
        conn.execute(text("SET LOCAL lock_timeout = '60s'"))  # a hang becomes a failure that names itself
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


def run_core_cli(args, env: dict, *, cwd, stdin: str | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """`python -m core ARGS` from the tree under test (not whatever copy of the project is installed)."""
    env = {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)}
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )
