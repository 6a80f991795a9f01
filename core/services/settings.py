"""Business settings kept in the database (key/value), typed and validated here."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.business_settings import (
    LABELS,
    PARSERS,
    AppSettings,
    setting_refused,
    to_text,
    validate_setting,
)
from core.db import context_of, unit_of_work
from core.errors import InvalidSetting
from core.models import Setting
from core.services import audit
from core.services.common import Actor
from core.timeutil import as_utc


def get_settings(session: Session) -> AppSettings:
    """Defaults, then config-provided defaults, then what admins saved."""
    values: dict[str, object] = {}
    ctx = session.info.get("codehub")
    if ctx is not None:
        for key, raw in ctx.defaults.items():
            values[key] = PARSERS[key](raw)
    for row in session.execute(select(Setting.key, Setting.value)):
        parser = PARSERS.get(row.key)
        if parser is None:
            continue
        try:
            values[row.key] = parser(row.value)
        except ValueError:
            continue  # a bad stored value falls back to the default rather than breaking every flow
    return AppSettings(**values)


def get_setting(session: Session, key: str):
    """One setting, as get_settings would give it, in one indexed read (the bot's registration reads only the
    welcome credit)."""
    stored = session.scalar(_ONE.params(key=key))
    if stored is not None:
        try:
            return PARSERS[key](stored)
        except ValueError:
            pass  # a bad stored value falls back to the default, as in get_settings
    ctx = session.info.get("codehub")
    if ctx is not None and key in ctx.defaults:
        return PARSERS[key](ctx.defaults[key])
    return getattr(AppSettings(), key)


_ONE = select(Setting.value).where(Setting.key == bindparam("key"))


def update_settings(
    session: Session, changes: dict[str, str], *, actor: Actor, now: datetime | None = None
) -> AppSettings:
    """Validate every change first (all or nothing), save, and audit before/after."""
    with unit_of_work(session):
        before = get_settings(session)
        parsed = _parsed(before, changes)
        changed = {k: v for k, v in parsed.items() if getattr(before, k) != v}
        for key, value in changed.items():
            row = session.get(Setting, key)
            if row is None:
                session.add(Setting(key=key, value=to_text(value), updated_at=as_utc(now)))
            else:
                row.value = to_text(value)
                row.updated_at = as_utc(now)
        if changed:
            audit.record(
                session,
                actor,
                "settings.update",
                "settings",
                None,
                before={k: to_text(getattr(before, k)) for k in changed},
                after={k: to_text(v) for k, v in changed.items()},
                now=now,
            )
        session.flush()
        result = get_settings(session)
    return result


def _parsed(current: AppSettings, changes: dict[str, str]) -> dict[str, object]:
    """The typed changes, or InvalidSetting for the first one refused (the rules across settings included)."""
    parsed = {key: validate_setting(key, raw) for key, raw in changes.items()}
    merged = {**asdict(current), **parsed}
    if merged["min_topup"] > merged["max_topup"]:
        raise setting_refused("min_topup", "must not exceed the maximum top-up")
    return parsed


def setting_problems(current: AppSettings, changes: dict[str, str]) -> dict[str, str]:
    """Every problem of a form's changes, by setting (empty when they can be saved), for the form to show each on
    its field at once instead of one per attempt."""
    problems: dict[str, str] = {}
    for key, raw in changes.items():
        try:
            validate_setting(key, raw)
        except InvalidSetting as err:
            problems[key] = err.details["problem"] if "problem" in err.details else str(err.args[0])
    if not problems:
        try:
            _parsed(current, changes)
        except InvalidSetting as err:
            problems[err.details["key"]] = err.details["problem"]
    return problems


def setting_items(settings: AppSettings) -> list[tuple[str, str, str]]:
    """(key, label, text value) for forms."""
    return [(f.name, LABELS[f.name], to_text(getattr(settings, f.name))) for f in fields(settings)]


__all__ = [
    "AppSettings",
    "LABELS",
    "get_settings",
    "setting_items",
    "setting_problems",
    "update_settings",
    "validate_setting",
    "context_of",
]
