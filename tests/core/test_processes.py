"""The bot's state as the panel reads it (core.services.processes)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.services import processes
from tests.core.helpers import NOW


def test_a_state_keeps_its_since_until_it_changes_and_goes_stale_without_heartbeats(session):
    assert processes.status(session, "bot", now=NOW) is None  # never ran here
    processes.report(session, "bot", processes.STARTING, now=NOW)
    processes.report(session, "bot", processes.UNREACHABLE, "api.telegram.org: timeout", now=NOW + timedelta(seconds=1))
    processes.report(session, "bot", processes.UNREACHABLE, "api.telegram.org: refused", now=NOW + timedelta(seconds=3))
    down = processes.status(session, "bot", now=NOW + timedelta(seconds=4))
    assert (down.state, down.detail, down.since) == (
        "unreachable",
        "api.telegram.org: refused",
        NOW + timedelta(seconds=1),
    )
    assert down.seen_at == NOW + timedelta(seconds=3) and not down.stale  # unreachable is said, not guessed
    processes.report(session, "bot", processes.RUNNING, "@codehub_bot", now=NOW + timedelta(minutes=1))
    up = processes.status(session, "bot", now=NOW + timedelta(minutes=2))
    assert (up.state, up.since, up.stale) == ("running", NOW + timedelta(minutes=1), False)
    quiet = processes.status(
        session, "bot", now=NOW + timedelta(minutes=1) + processes.STALE_AFTER + timedelta(seconds=1)
    )
    assert quiet.stale  # no heartbeat for three minutes: it may be down
    processes.report(session, "bot", processes.STOPPED, now=NOW + timedelta(minutes=9))
    assert not processes.status(session, "bot", now=NOW + timedelta(days=1)).stale


def test_a_report_is_one_clean_line_of_a_known_state(session):
    with pytest.raises(ValueError):
        processes.report(session, "bot", "dancing", now=NOW)
    processes.report(session, "bot", processes.UNREACHABLE, "line one\nline two\x07" + "x" * 600, now=NOW)
    detail = processes.status(session, "bot", now=NOW).detail
    assert "\n" not in detail and "\x07" not in detail and detail.startswith("line oneline two") and len(detail) == 500
