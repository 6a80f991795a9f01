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
        inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.slow
def test_downgrade_on_postgresql(pg_database):
    from sqlalchemy import text
    import uuid
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
