"""The field encryption key: numbers unreadable at rest, a wrong key stops start-up, and rotation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from core.crypto import FieldCipher
from core.db import Database, ServiceContext
from core.models import Transaction, TransactionStatus, Transfer
from core.services import reconciliation as rec
from core.services import topups, wallet
from tests.core.helpers import NOW, student
from tests.core.test_reconciliation import auto_on, sms, topup
from tests.helpers import FIELD_KEY, context, run_core_cli

NUMBER = "01012345678"


def codehub(*args, url: str, tmp_path: Path, key: str | None = FIELD_KEY, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "FIELD_ENCRYPTION_KEY"}
    environ.update(DATABASE_URL=url, DATA_DIR=str(tmp_path / "data"), **env)
    if key is not None:
        environ["FIELD_ENCRYPTION_KEY"] = key
    return run_core_cli(args, environ, cwd=tmp_path)


def stored_numbers(db: Database) -> tuple[list[str], list[str]]:
    with db.session() as s:
        return (
            s.scalars(select(Transaction.wallet_number).where(Transaction.wallet_number.is_not(None))).all(),
            s.scalars(select(Transfer.sender_number).where(Transfer.sender_number.is_not(None))).all(),
        )


def a_request_and_its_transfer(db: Database) -> tuple[int, int]:
    """A pending top-up from NUMBER and the transfer paying for it, stored while auto-approval is off."""
    with db.session() as s:
        uid = student(s, name="Student")
        req = topup(s, uid, number=NUMBER)
        got = rec.receive_sms(s, sms(sender=NUMBER), now=NOW + timedelta(minutes=3))
        assert got.stored and got.settled_request is None
        return uid, req.transaction_id


def test_sender_numbers_are_not_in_the_database_file(sqlite_url):
    db = Database(sqlite_url, context())
    a_request_and_its_transfer(db)
    db.dispose()
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # the file, and any -wal
    assert b"Student" in raw  # the file is readable as bytes: the absence below means something
    assert NUMBER.encode() not in raw and NUMBER.encode("utf-16-le") not in raw


@pytest.mark.slow
def test_rotate_key_re_encrypts_everything_and_matching_still_pairs(db_url, tmp_path):
    db = Database(db_url, context())
    uid, request_id = a_request_and_its_transfer(db)
    db.dispose()
    new_key = Fernet.generate_key().decode()

    done = codehub("rotate-key", "--new-key", new_key, url=db_url, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 encrypted values and 2 lookup digests" in done.stdout  # number, sender, SMS; two hashes
    assert new_key in done.stdout and "FIELD_ENCRYPTION_KEY" in done.stdout

    old, new = FieldCipher(FIELD_KEY), FieldCipher(new_key)
    db = Database(db_url, ServiceContext(cipher=new, defaults=context().defaults))
    try:
        numbers, senders = stored_numbers(db)
        assert numbers and senders
        assert all(old.decrypt(t) is None for t in numbers + senders)
        assert all(new.decrypt(t) == NUMBER for t in numbers + senders)
        with db.session() as s:
            assert topups.reveal_wallet(s, request_id) == NUMBER
            raw = s.scalar(select(Transfer.raw_text))
            assert old.decrypt(raw) is None and NUMBER in new.decrypt(raw)
            assert s.scalar(select(Transaction.wallet_hash).where(Transaction.id == request_id)) == new.digest(NUMBER)
            # The pair made before the rotation is still recognised, and settles through the wallet.
            [suggestion] = rec.suggestions(s)[request_id]
            assert suggestion.certain and not suggestion.warnings
            auto_on(s)
            assert rec.settle_pending(s, now=NOW + timedelta(minutes=5)) == [request_id]
            assert (
                s.scalar(select(Transaction.status).where(Transaction.id == request_id)) == TransactionStatus.APPROVED
            )
            assert wallet.check_ledger(s) == []
    finally:
        db.dispose()

    # The old key now stops start-up with one line; the new one starts.
    stale = codehub("stats", url=db_url, tmp_path=tmp_path)
    assert stale.returncode == 2
    assert stale.stderr.strip().count("\n") == 0 and "FIELD_ENCRYPTION_KEY" in stale.stderr
    fresh = codehub("stats", url=db_url, tmp_path=tmp_path, key=new_key)
    assert fresh.returncode == 0, fresh.stderr


def test_wrong_malformed_or_missing_key_stops_start_up_with_one_line(sqlite_url, tmp_path):
    db = Database(sqlite_url, context())
    a_request_and_its_transfer(db)
    db.dispose()
    cases = {"wrong": Fernet.generate_key().decode(), "malformed": "not-a-key", "missing": None}
    for case, key in cases.items():
        (tmp_path / case).mkdir()
        result = codehub("check-ledger", url=sqlite_url, tmp_path=tmp_path / case, key=key)
        assert result.returncode == 2, (case, result.stdout, result.stderr)
        line = result.stderr.strip()
        assert line.count("\n") == 0 and "FIELD_ENCRYPTION_KEY" in line, (case, line)
    ok = codehub("check-ledger", url=sqlite_url, tmp_path=tmp_path)
    assert ok.returncode == 0 and "ledger OK" in ok.stdout


def test_rotation_with_a_value_the_key_cannot_read_changes_nothing(db_url, tmp_path):
    from core.services.keys import KeyMismatch, rotate

    sqlite_url = db_url
    db = Database(sqlite_url, context())
    a_request_and_its_transfer(db)
    with db.session() as s:  # one number written under another key (a mixed database)
        uid = student(s, name="Other")
    other = Database(sqlite_url, ServiceContext(cipher=FieldCipher(Fernet.generate_key()), defaults=context().defaults))
    with other.session() as s:
        topup(s, uid, number="01198765432", at=NOW)
    other.dispose()
    before = stored_numbers(db)
    with pytest.raises(KeyMismatch):
        rotate(db.engine, FieldCipher(FIELD_KEY), FieldCipher(Fernet.generate_key()))
    assert stored_numbers(db) == before
    db.dispose()


def test_rotate_key_without_the_variable_replaces_the_key_file(sqlite_url, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "field_encryption.key").write_text(FIELD_KEY + "\n")
    db = Database(sqlite_url, context())
    a_request_and_its_transfer(db)
    db.dispose()
    done = codehub("rotate-key", url=sqlite_url, tmp_path=tmp_path, key=None)
    assert done.returncode == 0, done.stderr
    new_key = (data / "field_encryption.key").read_text().strip()
    assert new_key != FIELD_KEY and new_key in done.stdout
    numbers, senders = stored_numbers(db)
    db.dispose()
    assert all(FieldCipher(new_key).decrypt(t) == NUMBER for t in numbers + senders)
    assert codehub("check-ledger", url=sqlite_url, tmp_path=tmp_path, key=None).returncode == 0
    assert codehub("check-ledger", url=sqlite_url, tmp_path=tmp_path, key=FIELD_KEY).returncode == 2


@pytest.mark.parametrize("entry", ["run_bot.py", "run_admin.py"])
def test_the_bot_and_the_panel_refuse_to_start_with_a_wrong_key(entry, sqlite_url, tmp_path):
    db = Database(sqlite_url, context())
    a_request_and_its_transfer(db)
    db.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_url,
        "DATA_DIR": str(tmp_path / "data"),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ADMIN_PORT": "1",
        "BOT_TOKEN": "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "TELEGRAM_API_URL": "http://127.0.0.1:9",
    }
    result = subprocess.run(
        [sys.executable, str(Path(__file__).parents[2] / entry)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()  # INFO lines of the migration come first
    assert "FIELD_ENCRYPTION_KEY" in lines[-1] and "Traceback" not in result.stderr
    assert sum("FIELD_ENCRYPTION_KEY" in x for x in lines) == 1


PG_NUMBERS = {
    "01012345678": "01012345678",
    "01198765432": "+201198765432",
    "01234567890": "00201234567890",
    "01555123456": "201555123456",
}  # stored number: the form the student typed


def number_forms(number: str) -> set[bytes]:
    """Every way the digits of 01xxxxxxxxx can be written: 01..., 201..., +201..., 00201..., and the ten
    digits after the leading 0 (which all of them contain)."""
    national = number[1:]
    return {f.encode() for f in (number, "20" + national, "+20" + national, "0020" + national, national)}


def test_sender_numbers_are_not_in_postgresql_storage(pg_url):
    from sqlalchemy import create_engine, text

    db = Database(pg_url, context())
    with db.session() as s:
        for i, (number, typed) in enumerate(PG_NUMBERS.items()):
            uid = student(s, name=f"Keyholder {i}")
            assert topups.reveal_wallet(s, topup(s, uid, number=typed).transaction_id) == number
            rec.receive_sms(s, sms(sender=number, amount="99.00"), now=NOW + timedelta(minutes=i + 1))
    db.dispose()
    forms = set().union(*(number_forms(n) for n in PG_NUMBERS))

    # What a backup holds: pg_dump of the data, or COPY of every table where pg_dump is not installed.
    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    if shutil.which("pg_dump"):
        libpq = pg_url.replace("postgresql+psycopg://", "postgresql://")
        done = subprocess.run(["pg_dump", "--data-only", "--no-owner", libpq], capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
        dumped = done.stdout
    else:
        from core.models import Base

        raw = engine.raw_connection()
        try:
            chunks = []
            with raw.cursor() as cur:
                for table in Base.metadata.sorted_tables:
                    with cur.copy(f'COPY (SELECT * FROM "{table.name}") TO STDOUT') as copy:
                        chunks += [bytes(c) for c in copy]
            dumped = b"".join(chunks)
        finally:
            raw.close()
    assert b"Keyholder 0" in dumped and b"Keyholder 3" in dumped  # the dump is readable: the absence means something
    assert not [f for f in forms if f in dumped]

    # The raw pages: every table, index and TOAST relation of the schema, flushed to disk first.
    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
        data_dir = Path(conn.scalar(text("SHOW data_directory")))
        paths = conn.scalars(
            text(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') "
                "UNION SELECT pg_relation_filepath(t.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_class t ON t.oid = c.reltoastrelid WHERE n.nspname = 'public'"
            )
        ).all()
        pages = []
        for rel in filter(None, paths):
            files = sorted((data_dir / rel).parent.glob(Path(rel).name + "*")) if os.access(data_dir, os.R_OK) else []
            files = [f for f in files if not f.name.endswith(("_fsm", "_vm", "_init"))]
            if files:
                pages += [f.read_bytes() for f in files]
            else:  # the server's files are not ours to read: the server reads them (superuser)
                pages.append(conn.scalar(text("SELECT pg_read_binary_file(:p)"), {"p": rel}))
    engine.dispose()
    heap = b"".join(pages)
    assert b"Keyholder 0" in heap  # the pages are readable as bytes
    assert not [f for f in forms if f in heap]
