"""The `codehub` command, run as a user would run it."""

import os
import subprocess

import pytest
from sqlalchemy import text

from core.db import Database
from tests.helpers import FIELD_KEY, context, run_core_cli


def codehub(*args, url: str, tmp_path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp_path / "data"), "FIELD_ENCRYPTION_KEY": FIELD_KEY}
    return run_core_cli(args, env, cwd=tmp_path, stdin=stdin)


@pytest.mark.slow
def test_seed_demo_then_check_ledger_is_clean_and_stats_print(db_url, tmp_path):
    seeded = codehub("seed-demo", url=db_url, tmp_path=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "4 platforms" in seeded.stdout
    again = codehub("seed-demo", url=db_url, tmp_path=tmp_path)
    assert "already present" in again.stdout
    check = codehub("check-ledger", url=db_url, tmp_path=tmp_path)
    assert check.returncode == 0 and "ledger OK" in check.stdout
    stats = codehub("stats", url=db_url, tmp_path=tmp_path)
    assert stats.returncode == 0 and '"pending_topups": 2' in stats.stdout


def test_check_ledger_fails_and_names_the_user(sqlite_url, tmp_path):
    codehub("seed-demo", url=sqlite_url, tmp_path=tmp_path)
    db = Database(sqlite_url, context())
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE users SET balance = balance + 100 WHERE full_name = 'Omar Hassan'"))
    db.dispose()
    check = codehub("check-ledger", url=sqlite_url, tmp_path=tmp_path)
    assert check.returncode == 1 and "Omar Hassan" in check.stdout


def test_create_admin_reads_password_from_stdin(sqlite_url, tmp_path):
    made = codehub(
        "create-admin", "boss", "--role", "finance", url=sqlite_url, tmp_path=tmp_path, stdin="correct horse battery\n"
    )
    assert made.returncode == 0 and "boss (finance) created" in made.stdout
    dup = codehub("create-admin", "boss", url=sqlite_url, tmp_path=tmp_path, stdin="correct horse battery\n")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    short = codehub("create-admin", "tiny", url=sqlite_url, tmp_path=tmp_path, stdin="short\n")
    assert short.returncode == 1 and "12 characters" in short.stderr


def test_bad_config_is_one_line_and_exit_2(tmp_path):
    env = {**os.environ, "ADMIN_PORT": "nope"}
    result = run_core_cli(["stats"], env, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "ADMIN_PORT" in result.stderr


def test_migrate_on_a_fresh_file_creates_it(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh/new.db"
    result = codehub("migrate", url=url, tmp_path=tmp_path)
    assert result.returncode == 0 and (tmp_path / "fresh" / "new.db").exists()


def test_jobs_tick_runs_every_job(sqlite_url, tmp_path):
    codehub("seed-demo", url=sqlite_url, tmp_path=tmp_path)
    result = codehub("jobs", url=sqlite_url, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"errors": []' in result.stdout and "reminders" in result.stdout.lower()


def test_create_admin_refuses_weak_passwords(sqlite_url, tmp_path):
    for weak in ("aaaaaaaa", "12345678", "tinyboss-2024", "        ", "password1234", "x" * 100_000):
        made = codehub("create-admin", "tinyboss", url=sqlite_url, tmp_path=tmp_path, stdin=weak + "\n")
        assert made.returncode == 1 and "password" in made.stderr, (weak[:20], made.stderr)


def test_setting_command_uses_the_settings_validator(sqlite_url, tmp_path):
    bad = codehub("setting", "signup_bonus", "90000000000000000", url=sqlite_url, tmp_path=tmp_path)
    assert bad.returncode == 1 and "between 0.00 and 10000.00" in bad.stderr
    good = codehub("setting", "vodafone_cash_number", "+20 101 234 5678", url=sqlite_url, tmp_path=tmp_path)
    assert good.returncode == 0 and "vodafone_cash_number = 01012345678" in good.stdout
