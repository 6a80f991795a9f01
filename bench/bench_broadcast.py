"""Creating a 1,000-recipient broadcast: one INSERT ... SELECT vs one ORM add+flush per recipient.

    .venv/bin/python bench/bench_broadcast.py [--recipients 1000] [--rounds 3]
        [--pg postgresql://postgres@127.0.0.1/test]

Both ways run in the same process on the same database, best of `rounds`; prints times and the ratio.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from core.crypto import FieldCipher
from core.db import Database, ServiceContext, migrate, sync_url, unit_of_work
from core.models import Broadcast, Notification, NotificationStatus, User
from core.services import broadcasts
from core.services.common import Actor

ACTOR = Actor(name="bench")


def seed(db: Database, n: int) -> None:
    now = datetime.now(timezone.utc)
    with db.session() as s, unit_of_work(s):
        s.execute(
            insert(User),
            [dict(telegram_id=900_000 + i, full_name=f"Student {i}", language="ar", created_at=now) for i in range(n)],
        )


def bulk(db: Database, round_no: int) -> int:
    with db.session() as s:
        return broadcasts.create_broadcast(s, f"Bulk announcement {round_no}", "all", actor=ACTOR).recipients


def per_row(db: Database, round_no: int) -> int:
    """The baseline: what a straightforward ORM loop would do."""
    now = datetime.now(timezone.utc)
    body = f"Row-by-row announcement {round_no}"
    with db.session() as s, unit_of_work(s):
        b = Broadcast(text=body, audience="all", created_by=ACTOR.name, recipients=0, created_at=now)
        s.add(b)
        s.flush()
        users = s.execute(
            select(User.id, User.telegram_id).where(
                User.telegram_id.is_not(None), User.is_blocked.is_(False), User.bot_blocked_at.is_(None)
            )
        ).all()
        for uid, chat in users:
            s.add(
                Notification(
                    user_id=uid,
                    chat_id=chat,
                    audience="user",
                    kind="broadcast",
                    payload=json.dumps({"text": body}),
                    subject=f"broadcast:{b.id}",
                    dedupe_key=f"broadcast:{b.id}:{uid}",
                    broadcast_id=b.id,
                    status=NotificationStatus.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            s.flush()
        b.recipients = len(users)
        return len(users)


def best_of(fn, db: Database, rounds: int, expected: int) -> float:
    times = []
    for r in range(rounds):
        start = time.perf_counter()
        n = fn(db, r)
        times.append(time.perf_counter() - start)
        assert n == expected, f"{fn.__name__} reached {n} recipients, expected {expected}"
    return min(times)


@contextmanager
def scratch_database(pg_url: str | None, tmp: Path) -> Iterator[str]:
    if not pg_url:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    server = make_url(sync_url(pg_url))
    name = f"codehub_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pg",
        metavar="URL",
        help="a PostgreSQL server URL (e.g. postgresql://postgres@127.0.0.1/test): the bench "
        "creates and drops its own database there; default: a fresh SQLite file",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.pg, Path(tmp)) as url:
        migrate(url)
        db = Database(url, ServiceContext(cipher=FieldCipher(Fernet.generate_key())))
        try:
            seed(db, args.recipients)
            baseline = best_of(per_row, db, args.rounds, args.recipients)
            fast = best_of(bulk, db, args.rounds, args.recipients)
        finally:
            db.dispose()
    print(f"database: {db.engine.dialect.name}, {args.recipients} recipients, best of {args.rounds}")
    print(f"  ORM add+flush per row : {baseline * 1000:8.1f} ms")
    print(f"  create_broadcast bulk : {fast * 1000:8.1f} ms")
    print(f"  ratio                 : {baseline / fast:8.1f}x faster")


if __name__ == "__main__":
    main()
