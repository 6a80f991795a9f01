"""Schema upgrades (Alembic) and the planner's statistics."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.pool import NullPool

from core.db.engines import ANALYZE_FROM_ROWS, create_sync_engine, sync_url


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database schema (Alembic), then refresh the planner's statistics, as the entry points
    do on start."""
    from alembic import command  # here, not at the top: the bot process never loads alembic (~10 MB)

    command.upgrade(alembic_config(url), revision)
    if sync_url(url).startswith("sqlite"):
        optimize_database(url)


def migrate_in_child(url: str) -> None:
    """migrate() in a short-lived child process, for a long-running process (the bot): it then never holds
    alembic, mako and the migration scripts in memory (~10 MB of its resident size). Raises RuntimeError
    when the migration fails (its traceback is on stderr)."""
    import os
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parents[2])
    env = dict(
        os.environ,
        CODEHUB_MIGRATE_URL=url,  # not on the command line: it may hold a password
        PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p),
    )
    code = "import os; from core.db import migrate; migrate(os.environ['CODEHUB_MIGRATE_URL'])"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=root)
    if result.returncode != 0:
        raise RuntimeError(f"the database migration failed (exit status {result.returncode})")


def optimize_database(url: str) -> None:
    """Give the query planner table statistics.

    SQLite never gathers them by itself: without `sqlite_stat1` it guesses, and at a million ledger rows it
    guessed wrong (the dashboard's revenue join walked the status index: ~45 min). `analysis_limit` bounds
    ANALYZE to a sample per index, so this takes milliseconds even on a large file. PostgreSQL's autovacuum
    analyses on its own; an explicit ANALYZE helps right after a bulk load."""
    engine = create_sync_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                # Statistics of a small ledger mislead the planner once it grows (a 100-student burst on a
                # fresh file then waited on full scans): analyse only a ledger large enough to be worth it;
                # the bot's scheduler calls this again every night (bot/scheduler.py).
                size = conn.exec_driver_sql("SELECT max(id) FROM transactions").scalar() or 0
                if size < ANALYZE_FROM_ROWS:
                    conn.rollback()
                    return
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                conn.exec_driver_sql("ANALYZE")
                conn.exec_driver_sql("PRAGMA optimize")
            else:  # VACUUM also fills the visibility map, which index-only scans need
                conn.commit()
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE)")
            conn.commit()
    finally:
        engine.dispose()


def alembic_config(url: str):
    """Alembic's Config for `url` (alembic imported here: the bot never needs it at run time)."""
    from alembic.config import Config

    import migrations

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg
