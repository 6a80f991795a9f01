"""Migrations build exactly the models' schema, and go all the way down again."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from core.db import alembic_config, sync_url
from core.models import Base


def test_upgrade_head_matches_models(db_url):
    engine = create_engine(sync_url(db_url))
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_back(sqlite_url):
    cfg = alembic_config(sqlite_url)
    command.downgrade(cfg, "base")
    engine = create_engine(sqlite_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert {"users", "transactions", "enrollments", "mentorship_bookings", "notifications"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


@pytest.mark.slow
def test_downgrade_on_postgresql(pg_database):
    import uuid

    from sqlalchemy import text

    name = f"codehub_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_database.rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_database.rsplit("/", 1)[0] + f"/{name}"
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "base")
        engine = create_engine(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_0008_scopes_the_stored_ledger_keys_and_a_retry_still_replays(db_url, session):
    """Keys written before 0008 (unscoped) get their operation's prefix: the first effect is still found."""
    from sqlalchemy import select as _select

    from core.models import Transaction, TransactionType
    from core.services import enrollment, mentorship, topups, wallet
    from tests.core.helpers import ADMIN, mentor, platform, student

    uid = student(session)
    topups.request_topup(session, uid, "100", "01012345678", idempotency_key="key-1")
    enrollment.enroll(session, uid, platform(session, price="50.00"), idempotency_key="key-2")
    booked = mentorship.book(session, uid, mentor(session), 30, idempotency_key="key-3")
    wallet.adjust_balance(session, uid, "5", "goodwill", actor=ADMIN, idempotency_key="key-4")
    session.close()
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0007")
    keys = dict(
        session.execute(_select(Transaction.type, Transaction.idempotency_key).where(Transaction.user_id == uid)).all()
    )
    assert (keys[TransactionType.TOP_UP], keys[TransactionType.MENTORSHIP_PAYMENT]) == ("key-1", "key-3")  # as before
    session.close()
    command.upgrade(cfg, "head")
    keys = dict(
        session.execute(_select(Transaction.type, Transaction.idempotency_key).where(Transaction.user_id == uid)).all()
    )
    assert keys == {
        TransactionType.SIGNUP_BONUS: "signup-bonus",
        TransactionType.TOP_UP: "topup:key-1",
        TransactionType.PLATFORM_PURCHASE: "enroll:key-2",
        TransactionType.MENTORSHIP_PAYMENT: "book:key-3",
        TransactionType.ADJUSTMENT: "adjust:key-4",
    }
    again = mentorship.book(session, uid, booked.booking.mentor_id, 30, idempotency_key="key-3")
    assert again.replayed and again.booking.id == booked.booking.id
    assert wallet.check_ledger(session) == []
