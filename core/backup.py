"""Backups of a SQLite database while it is in use (SQLite's online backup API), and restoring one.

PostgreSQL is backed up with its own tools (pg_dump -Fc / pg_restore); `pg_dump_command` says how.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from core.db import alembic_config


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, on one line."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for another database."""
    u = make_url(url.replace("postgres://", "postgresql://", 1))
    if not u.drivername.startswith("sqlite"):
        return None
    if not u.database or u.database == ":memory:":
        raise BackupError("the database is in memory: there is no file to back up")
    return Path(u.database)


def pg_dump_command(url: str, path: str) -> str:
    """The pg_dump command for this database (password left out: use PGPASSWORD or ~/.pgpass)."""
    u = make_url(url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql", password=None)
    return f"pg_dump -Fc --no-owner -d {shlex.quote(u.render_as_string(hide_password=False))} -f {shlex.quote(path)}"


def head_revision(url: str) -> str:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def _revision_of(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    revision: str | None


def backup(url: str, dest: str | os.PathLike) -> BackupInfo:
    """A consistent copy of the live SQLite database at `url` into the new file `dest`.

    One backup step copies every page under one read snapshot: writers (the bot, the panel) go on
    committing meanwhile, and the copy holds exactly what was committed when it started.
    """
    src_path = sqlite_path(url)
    if src_path is None:
        raise BackupError("not a SQLite database: back up PostgreSQL with pg_dump (see README, Deployment)")
    if not src_path.exists():
        raise BackupError(f"no database file at {src_path}")
    dest = Path(dest)
    if dest.exists():
        raise BackupError(f"{dest} already exists; choose a new file name")
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=30)
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)  # pages=-1: all in one step, one snapshot
            out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            if out.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError("the copy failed its integrity check")
            revision = _revision_of(out)
        finally:
            out.close()
    finally:
        src.close()
    os.replace(tmp, dest)
    return BackupInfo(dest, dest.stat().st_size, revision)


def processes_holding(path: Path) -> list[int]:
    """Other processes with the database file (or its -wal) open, from /proc (Linux); [] elsewhere."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    targets = {str(path.resolve()), str(path.resolve()) + "-wal"}
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if any(os.readlink(fd) in targets for fd in (entry / "fd").iterdir()):
                pids.append(int(entry.name))
        except OSError:  # gone, or not ours to look at
            continue
    return sorted(pids)


def restore(url: str, source: str | os.PathLike, *, force: bool = False) -> Path:
    """Bring back a backup into the SQLite database at `url`; the replaced file is kept beside it.

    The backup must be a CodeHub database at the current migration. Returns the `.before-restore` copy
    (None-like path when there was no database before). Stop the bot and the panel first.
    """
    dest_path = sqlite_path(url)
    if dest_path is None:
        raise BackupError("not a SQLite database: restore PostgreSQL with pg_restore (see README, Deployment)")
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            ok = src.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError:
            raise BackupError(f"{source} is not a SQLite database") from None
        if not ok:
            raise BackupError(f"{source} fails SQLite's integrity check")
        revision, head = _revision_of(src), head_revision(url)
        if revision is None:
            raise BackupError(f"{source} is not a CodeHub database (no migration version in it)")
        if revision != head:
            raise BackupError(
                f"{source} is at migration {revision}, this version expects {head}: "
                "restore it with the version of CodeHub that made it, then upgrade"
            )
        holders = [] if force or not dest_path.exists() else processes_holding(dest_path)
        if holders:
            raise BackupError(
                f"the database is open in process(es) {', '.join(map(str, holders))}: stop the bot "
                "and the panel first (or --force)"
            )
        dest_path.parent.mkdir(parents=True, exist_ok=True)
        kept = dest_path.with_name(dest_path.name + ".before-restore")
        dest = sqlite3.connect(dest_path, timeout=30)
        try:
            if dest_path.stat().st_size:
                kept.unlink(missing_ok=True)
                keep = sqlite3.connect(kept)
                try:
                    dest.backup(keep)
                finally:
                    keep.close()
            src.backup(dest)  # through SQLite's locks: a reader sees the old or the new database, never half
        finally:
            dest.close()
    finally:
        src.close()
    return kept
