"""The core commands of `codehub`: migrate, create-admin, seed-demo, check-ledger, stats, jobs,
rotate-key, backup, restore.

`codehub run` (the panel and the bot) is added by the composition module codehub_cli, outside core:
core imports neither the bot nor the panel.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from core.config import ConfigError, Settings, load_settings
from core.db import migrate
from core.demo import seed_demo
from core.errors import DomainError
from core.models import AdminRole
from core.services import reconciliation
from core.services.admins import create_admin
from core.services.analytics import kpis
from core.services.jobs import roll_up_analytics, run_all, run_daily
from core.services.wallet import check_ledger
from core.sms import parse_sms, split_messages
from core.startup import open_database

Command = Callable[[Settings, argparse.Namespace], int]


@contextmanager
def _session(settings: Settings):
    """A session on the migrated database, disposed afterwards."""
    migrate(settings.effective_database_url)
    db = open_database(settings)
    try:
        with db.session() as session:
            yield session
    finally:
        db.dispose()


def cmd_migrate(settings: Settings, args) -> int:
    migrate(settings.effective_database_url, args.revision)
    print(f"database at {args.revision}: {settings.effective_database_url}")
    return 0


def cmd_create_admin(settings: Settings, args) -> int:
    password = args.password
    if password is None:
        if sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Repeat password: "):
                print("passwords differ", file=sys.stderr)
                return 1
        else:
            password = sys.stdin.readline().rstrip("\n")
    from core.services.common import Actor

    with _session(settings) as session:
        admin = create_admin(session, args.username, password, args.role, actor=Actor(name="cli"))
    print(f"admin {admin.username} ({admin.role.value}) created")
    return 0


def cmd_setting(settings: Settings, args) -> int:
    """Show the business settings, or change one through the same validator as the panel and the API."""
    from core.services.common import Actor
    from core.services.settings import get_settings, setting_items, update_settings

    with _session(settings) as session:
        current = (
            update_settings(session, {args.key: args.value}, actor=Actor(name="cli"))
            if args.key
            else get_settings(session)
        )
        for key, label, value in setting_items(current):
            print(f"{key} = {value}    # {label}")
    return 0


def cmd_seed_demo(settings: Settings, args) -> int:
    with _session(settings) as session:
        summary = seed_demo(session)
    print(summary)
    return 0


def cmd_check_ledger(settings: Settings, args) -> int:
    with _session(settings) as session:
        problems = check_ledger(session)
    if not problems:
        print("ledger OK: every balance equals the sum of its approved transactions")
        return 0
    for p in problems:
        print(f"user {p.user_id} {p.name!r}: balance {p.balance} but ledger says {p.ledger}")
    return 1


def cmd_stats(settings: Settings, args) -> int:
    with _session(settings) as session:
        numbers = kpis(session)
    print(json.dumps(numbers, default=str, indent=2))
    return 0


def cmd_jobs(settings: Settings, args) -> int:
    """One tick of the scheduled jobs (the bot runs them itself; this is for cron or a quick check); --daily: the
    daily housekeeping instead (the bot runs it at night), for a deployment without the bot's scheduler."""
    with _session(settings) as session:
        if getattr(args, "daily", False):
            result = run_daily(session)
        else:
            result = run_all(session)
            result["analytics_rollups"] = roll_up_analytics(session)
    print(json.dumps(result, default=str, indent=2))
    return 1 if result.get("errors") else 0


def cmd_sms_parse(settings: Settings, args) -> int:
    """One SMS text on standard input -> one JSON object (no database needed)."""
    print(json.dumps(parse_sms(sys.stdin.read()).to_json(), ensure_ascii=False))
    return 0


def cmd_sms_import(settings: Settings, args) -> int:
    """A statement (.csv/.xlsx, columns guessed) or a text file of SMS texts: store the transfers received."""
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    with _session(settings) as session:
        if path.suffix.lower() in (".csv", ".xlsx"):
            statement = reconciliation.read_statement(data, path.name)
            results = reconciliation.import_statement(
                session, statement, reconciliation.guess_mapping(statement.headers)
            )
        else:
            texts = split_messages(data.decode("utf-8-sig", errors="replace"))
            results = [reconciliation.receive_sms(session, t, source="cli") for t in texts]
    summary = {
        "read": len(results),
        "stored": sum(r.stored for r in results),
        "duplicates": sum(r.duplicate for r in results),
        "other": sum(r.kind == "other" for r in results),
        "settled": [r.settled_request for r in results if r.settled_request],
    }
    problems = [r.problem for r in results if r.problem]
    if problems:  # money received but not stored (e.g. AMOUNT_TOO_LARGE): said, never a traceback
        summary["not_stored"] = {p: problems.count(p) for p in sorted(set(problems))}
    print(json.dumps(summary))
    return 0


def cmd_sms_match(settings: Settings, args) -> int:
    """Try every unmatched transfer again (e.g. after switching auto-approval on)."""
    with _session(settings) as session:
        settled = reconciliation.settle_pending(session)
    print(json.dumps({"settled": settled}))
    return 0


def cmd_rotate_key(settings: Settings, args) -> int:
    """Re-encrypt every stored number under a new field key, in one transaction."""
    import os

    from cryptography.fernet import Fernet

    from core.crypto import FieldCipher
    from core.services.keys import KeyMismatch, rotate

    new_key = args.new_key or os.environ.get("NEW_FIELD_ENCRYPTION_KEY") or Fernet.generate_key().decode()
    try:
        new_cipher = FieldCipher(new_key)
    except ValueError:
        print(
            "error: the new key is malformed; expected a Fernet key (44 characters of url-safe base64)", file=sys.stderr
        )
        return 2
    migrate(settings.effective_database_url)
    db = open_database(settings)  # stops here when the current key cannot read the numbers
    try:
        done = rotate(db.engine, db.context.cipher, new_cipher)
    except KeyMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"rotated: {done}, in one transaction.")
    key_file = settings.data_dir / "field_encryption.key"
    if settings.field_encryption_key is None and key_file.exists():
        tmp = key_file.with_name(key_file.name + ".new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key + "\n")
        os.replace(tmp, key_file)
        print(f"The new key is in {key_file} (FIELD_ENCRYPTION_KEY is not set). Back it up.")
    print(f"New key: {new_key}")
    print(
        "Set FIELD_ENCRYPTION_KEY to the new key in every process's environment (bot replicas, panel, "
        "CLI) and restart them; the old key no longer reads the stored numbers."
    )
    return 0


def cmd_backup(settings: Settings, args) -> int:
    """A consistent copy of the live SQLite database (online backup API); PostgreSQL: use pg_dump."""
    from core.backup import BackupError, backup, pg_dump_command, sqlite_path

    url = settings.effective_database_url
    try:
        if sqlite_path(url) is None:
            print(
                "error: the database is PostgreSQL; codehub backup copies SQLite only. Back it up with:\n"
                f"  {pg_dump_command(url, args.path)}",
                file=sys.stderr,
            )
            return 1
        made = backup(url, args.path)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"backup written: {made.path} ({made.size} bytes, migration {made.revision})")
    return 0


def cmd_restore(settings: Settings, args) -> int:
    """Bring back a backup made by `codehub backup` (stop the bot and the panel first)."""
    from core.backup import BackupError, restore

    url = settings.effective_database_url
    try:
        kept = restore(url, args.path, force=args.force)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if kept.exists():
        print(f"the replaced database is kept as {kept}")
    print(f"restored {args.path}")
    return cmd_check_ledger(settings, args)


def build_parser(extra: dict[str, tuple[str, Command]] | None = None) -> argparse.ArgumentParser:
    """The core commands, plus `extra` ({name: (help, function)}) from a composition module."""
    parser = argparse.ArgumentParser(prog="codehub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("migrate", help="upgrade the database schema")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("create-admin", help="create a panel account (password prompted, or read from stdin)")
    p.add_argument("username")
    p.add_argument("--role", default=AdminRole.OWNER.value, choices=[r.value for r in AdminRole])
    p.add_argument("--password", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_create_admin)
    p = sub.add_parser("setting", help="show the business settings, or set one: codehub setting KEY VALUE")
    p.add_argument("key", nargs="?")
    p.add_argument("value", nargs="?", default="")
    p.set_defaults(func=cmd_setting)
    sub.add_parser("seed-demo", help="demo platforms, tasks, a mentor and students").set_defaults(func=cmd_seed_demo)
    sub.add_parser("check-ledger", help="exit 1 if any balance differs from its ledger").set_defaults(
        func=cmd_check_ledger
    )
    sub.add_parser("stats", help="key numbers as JSON").set_defaults(func=cmd_stats)
    jobs = sub.add_parser("jobs", help="run the scheduled jobs once (reminders, expiries, alerts)")
    jobs.add_argument(
        "--daily",
        action="store_true",
        help="run the daily housekeeping instead (purge stored API responses older than 30 days)",
    )
    jobs.set_defaults(func=cmd_jobs)
    sms = sub.add_parser("sms", help="Vodafone Cash transfers: parse an SMS, import SMS texts or a statement")
    sms_sub = sms.add_subparsers(dest="sms_command", required=True)
    sms_sub.add_parser("parse", help="read one SMS on standard input, print it as JSON").set_defaults(
        func=cmd_sms_parse
    )
    p = sms_sub.add_parser("import", help="store the transfers in a .csv/.xlsx statement or a text file of SMS")
    p.add_argument("file")
    p.set_defaults(func=cmd_sms_import)
    sms_sub.add_parser("match", help="settle unmatched transfers that now pair up for certain").set_defaults(
        func=cmd_sms_match
    )
    p = sub.add_parser(
        "rotate-key",
        help="re-encrypt the stored wallet numbers under a new FIELD_ENCRYPTION_KEY (stop the bot and the panel first)",
    )
    p.add_argument("--new-key", help="the new Fernet key (default: NEW_FIELD_ENCRYPTION_KEY, else a generated one)")
    p.set_defaults(func=cmd_rotate_key)
    p = sub.add_parser("backup", help="copy the live SQLite database to PATH (PostgreSQL: prints the pg_dump command)")
    p.add_argument("path")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser(
        "restore",
        help="bring back a SQLite backup (stop the bot and the panel first); the "
        "replaced file is kept as .before-restore",
    )
    p.add_argument("path")
    p.add_argument("--force", action="store_true", help="restore even if another process has the database open")
    p.set_defaults(func=cmd_restore)
    for name, (help_text, func) in (extra or {}).items():
        sub.add_parser(name, help=help_text).set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None, *, parser: argparse.ArgumentParser | None = None) -> int:
    args = (parser or build_parser()).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        if settings.log_format == "json":
            from core.logs import configure_logging

            configure_logging("WARNING", "json")
        return args.func(settings, args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
