"""`codehub backup` while the services write, and `codehub restore`: the ledger holds in the copy."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from core.backup import BackupError, backup, restore
from core.db import Database
from core.errors import DomainError
from core.models import Enrollment
from core.services import enrollment, students, wallet
from tests.core.helpers import NOW, platform, student
from tests.helpers import FIELD_KEY, context, run_core_cli


def codehub(*args, url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp_path / "data"), "FIELD_ENCRYPTION_KEY": FIELD_KEY}
    return run_core_cli(args, env, cwd=tmp_path)


def purchases(url: str) -> set[tuple[int, int]]:
    db = Database(url, context())
    try:
        with db.session() as s:
            return {tuple(r) for r in s.execute(select(Enrollment.user_id, Enrollment.platform_id))}
    finally:
        db.dispose()


@pytest.mark.slow
def test_backup_under_load_restores_to_a_consistent_ledger(sqlite_url, tmp_path):
    db = Database(sqlite_url, context(), pool_size=8, max_overflow=4)
    with db.session() as s:
        users = [student(s, name=f"Writer {i}") for i in range(4)]
        platforms = [platform(s, f"P{i}", "10.00", tasks=1) for i in range(40)]
    committed: set[tuple[int, int]] = set()
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(uid: int) -> None:
        try:
            with db.session() as s:
                for pid in platforms:
                    if stop.is_set():
                        return
                    enrollment.enroll(s, uid, pid, idempotency_key=f"buy-{uid}-{pid}", now=NOW)
                    with lock:
                        committed.add((uid, pid))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(uid,)) for uid in users]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(committed) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    with lock:
        before = set(committed)
    copy = tmp_path / "backup.db"
    made = backup(sqlite_url, copy)
    with lock:
        after = set(committed)
    for t in threads:
        t.join(timeout=60)
    stop.set()
    db.dispose()
    assert not errors, errors
    assert len(after) > len(before) or len(after) == 4 * 40  # the writers were running around the backup

    fresh = tmp_path / "restored" / "codehub.db"
    restore(f"sqlite:///{fresh}", copy)
    restored = purchases(f"sqlite:///{fresh}")
    assert before <= restored <= after  # all committed before the backup started, nothing never committed
    rdb = Database(f"sqlite:///{fresh}", context())
    with rdb.session() as s:
        assert wallet.check_ledger(s) == []
        for uid in users:  # 500.00 signup bonus, 10.00 per course bought
            bought = sum(1 for u, _ in restored if u == uid)
            assert wallet.balance(s, uid) == 500 - 10 * bought
    rdb.dispose()
    assert made.revision is not None


def test_restore_keeps_the_replaced_file_and_refuses_foreign_files(sqlite_url, tmp_path):
    db = Database(sqlite_url, context())
    with db.session() as s:
        first = student(s, name="Before Backup")
    db.dispose()
    copy = tmp_path / "b.db"
    assert codehub("backup", str(copy), url=sqlite_url, tmp_path=tmp_path).returncode == 0
    again = codehub("backup", str(copy), url=sqlite_url, tmp_path=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    db = Database(sqlite_url, context())
    with db.session() as s:
        late = student(s, name="After Backup")
    db.dispose()

    done = codehub("restore", str(copy), url=sqlite_url, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert ".before-restore" in done.stdout and "ledger OK" in done.stdout
    db = Database(sqlite_url, context())
    with db.session() as s:
        assert students.get_user(s, first).full_name == "Before Backup"
        with pytest.raises(DomainError):
            students.get_user(s, late)
    db.dispose()
    kept = Path(sqlite_url.removeprefix("sqlite:///") + ".before-restore")
    old = Database(f"sqlite:///{kept}", context())
    with old.session() as s:
        assert students.get_user(s, late).full_name == "After Backup"
    old.dispose()

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(BackupError, match="not a SQLite database"):
        restore(sqlite_url, junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(BackupError, match="not a CodeHub database"):
        restore(sqlite_url, other)
    old_rev = tmp_path / "old.db"
    backup(sqlite_url, old_rev)
    with sqlite3.connect(old_rev) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'older0001'")
    with pytest.raises(BackupError, match="at migration older0001"):
        restore(sqlite_url, old_rev)


def test_backup_on_postgresql_prints_pg_dump_and_fails(pg_url, tmp_path):
    result = codehub("backup", str(tmp_path / "x.dump"), url=pg_url, tmp_path=tmp_path)
    assert result.returncode == 1
    assert "pg_dump -Fc" in result.stderr and "PostgreSQL" in result.stderr
    assert not (tmp_path / "x.dump").exists()


def test_restore_refuses_a_database_another_process_holds_open(sqlite_url, tmp_path):
    copy = tmp_path / "b.db"
    backup(sqlite_url, copy)
    path = sqlite_url.removeprefix("sqlite:///")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
            "c.execute('SELECT 1 FROM users').fetchall(); print('open', flush=True); "
            "time.sleep(60)",
            path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        refused = codehub("restore", str(copy), url=sqlite_url, tmp_path=tmp_path)
        assert refused.returncode == 1 and str(holder.pid) in refused.stderr and "stop the bot" in refused.stderr
        assert not Path(path + ".before-restore").exists()
        forced = codehub("restore", "--force", str(copy), url=sqlite_url, tmp_path=tmp_path)
        assert forced.returncode == 0, forced.stderr
    finally:
        holder.kill()
        holder.wait(timeout=10)
