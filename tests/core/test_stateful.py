"""Random sequences of every money operation: the ledger invariant holds after each step, and a
refused operation leaves the database exactly as it was."""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select, text

from core.db import Database
from core.errors import DomainError
from core.models import User
from core.services import enrollment, mentorship, students, topups, wallet
from core.services.settings import update_settings
from tests.core.helpers import ADMIN, NOW, mentor, platform
from tests.helpers import context, truncate_all

pytestmark = pytest.mark.slow
SNAPSHOT_TABLES = ["users", "transactions", "enrollments", "mentorship_bookings", "task_completions"]
amounts = st.decimals(min_value=Decimal("-600"), max_value=Decimal("900"), places=2)


def snapshot(session) -> dict:
    session.rollback()
    return {t: session.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in SNAPSHOT_TABLES}


class LedgerMachine(RuleBasedStateMachine):
    url_factory = None  # set per database below

    @initialize()
    def setup(self):
        self.db = Database(self.url_factory(), context())
        self.session = self.db.sessions()
        self.now = NOW
        update_settings(self.session, {"max_pending_topups": "5", "max_topups_per_day": "50"}, actor=ADMIN)
        self.platforms = [
            platform(self.session, "Cheap", "50.00", days=10),
            platform(self.session, "Dear", "450.00"),
            platform(self.session, "Free", None),
        ]
        self.mentor = mentor(self.session, rate="300.00")
        self.users: list[int] = []
        self.topups: list[int] = []
        self.bookings: list[int] = []
        self.keys: list[tuple[str, object]] = []
        self.n = 0

    def teardown(self):
        if hasattr(self, "db"):
            self.session.close()
            self.db.dispose()

    def attempt(self, fn):
        """Run one operation; if it is refused, nothing may have changed."""
        before = snapshot(self.session)
        try:
            return fn()
        except DomainError:
            assert snapshot(self.session) == before
            return None
        finally:
            self.now += timedelta(minutes=7)

    def key(self) -> str:
        self.n += 1
        return f"key-{self.n}"

    @rule(tg=st.integers(1, 6))
    def register(self, tg):
        result = students.register(self.session, tg, full_name=f"S{tg}", now=self.now)
        if result.created:
            self.users.append(result.user.id)

    @rule(
        data=st.data(),
        amount=st.sampled_from(["100", "250.50", "0", "abc", "99999999"]),
        number=st.sampled_from(["01012345678", "12345"]),
    )
    def request_topup(self, data, amount, number):
        if not self.users:
            return
        uid = data.draw(st.sampled_from(self.users))
        r = self.attempt(
            lambda: topups.request_topup(self.session, uid, amount, number, idempotency_key=self.key(), now=self.now)
        )
        if r:
            self.topups.append(r.transaction_id)

    @rule(data=st.data(), approve=st.booleans())
    def decide_topup(self, data, approve):
        if not self.topups:
            return
        tid = data.draw(st.sampled_from(self.topups))
        if approve:
            self.attempt(
                lambda: topups.approve(
                    self.session, tid, actor=ADMIN, now=self.now, confirmed=True, reason="checked the statement"
                )
            )
        else:
            self.attempt(
                lambda: topups.reject(
                    self.session, tid, data.draw(st.sampled_from(["", "no"])), actor=ADMIN, now=self.now
                )
            )

    @rule(data=st.data())
    def enroll(self, data):
        if not self.users:
            return
        uid, pid = data.draw(st.sampled_from(self.users)), data.draw(st.sampled_from(self.platforms))
        key = self.key()
        self.keys.append(
            (key, lambda k=key: enrollment.enroll(self.session, uid, pid, idempotency_key=k, now=self.now))
        )
        self.attempt(self.keys[-1][1])

    @rule(data=st.data(), duration=st.sampled_from([30, 60, 90, 45]))
    def book(self, data, duration):
        if not self.users:
            return
        uid = data.draw(st.sampled_from(self.users))
        key = self.key()
        call = lambda k=key: mentorship.book(
            self.session, uid, self.mentor, duration, "notes", idempotency_key=k, now=self.now
        )
        self.keys.append((key, call))
        r = self.attempt(call)
        if r:
            self.bookings.append(r.booking.id)

    @rule(data=st.data())
    def repeat_a_command(self, data):
        """Replaying a used key must have no second effect."""
        if not self.keys:
            return
        _, call = data.draw(st.sampled_from(self.keys))
        before = snapshot(self.session)
        try:
            result = call()
        except DomainError:
            result = None
        after = snapshot(self.session)
        if result is not None and getattr(result, "replayed", False):
            assert after == before

    @rule(data=st.data(), hours=st.sampled_from([-1, 2, 30]))
    def confirm(self, data, hours):
        if self.bookings:
            bid = data.draw(st.sampled_from(self.bookings))
            self.attempt(
                lambda: mentorship.confirm(
                    self.session, bid, self.now + timedelta(hours=hours), actor=ADMIN, now=self.now
                )
            )

    @rule(data=st.data(), by_student=st.booleans())
    def cancel(self, data, by_student):
        if not self.bookings:
            return
        bid = data.draw(st.sampled_from(self.bookings))
        if by_student:
            uid = data.draw(st.sampled_from(self.users))
            self.attempt(lambda: mentorship.cancel(self.session, bid, student_id=uid, now=self.now))
        else:
            self.attempt(lambda: mentorship.cancel(self.session, bid, "admin", actor=ADMIN, now=self.now))

    @rule(data=st.data())
    def complete(self, data):
        if self.bookings:
            bid = data.draw(st.sampled_from(self.bookings))
            self.now += timedelta(days=2)
            self.attempt(lambda: mentorship.complete(self.session, bid, actor=ADMIN, now=self.now))

    @rule(data=st.data(), rating=st.integers(0, 6))
    def feedback(self, data, rating):
        if self.bookings:
            bid, uid = data.draw(st.sampled_from(self.bookings)), data.draw(st.sampled_from(self.users))
            self.attempt(lambda: mentorship.leave_feedback(self.session, bid, uid, rating, "ok", now=self.now))

    @rule(data=st.data(), amount=amounts, reason=st.sampled_from(["", "correction"]))
    def adjust(self, data, amount, reason):
        if self.users:
            uid = data.draw(st.sampled_from(self.users))
            self.attempt(
                lambda: wallet.adjust_balance(
                    self.session, uid, amount, reason, actor=ADMIN, idempotency_key=self.key(), now=self.now
                )
            )

    @rule()
    def expire(self):
        self.now += timedelta(days=4)
        enrollment.expire_due(self.session, now=self.now)

    @invariant()
    def ledger_balances(self):
        if hasattr(self, "session"):
            assert wallet.check_ledger(self.session) == []
            assert all(b >= 0 for b in self.session.scalars(select(User.balance)))
            self.session.rollback()


def _sqlite_factory(template, tmp_path):
    def make():
        path = tmp_path / f"{uuid.uuid4().hex}.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"

    return make


def _pg_factory(pg_url):
    return lambda: truncate_all(pg_url)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_ledger_invariant_under_random_operations(backend, request, tmp_path):
    if backend == "sqlite":
        factory = _sqlite_factory(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        factory = _pg_factory(request.getfixturevalue("pg_url"))
    machine = type(f"LedgerMachine_{backend}", (LedgerMachine,), {"url_factory": staticmethod(factory)})
    runner = machine.TestCase
    runner.settings = settings(
        max_examples=25, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
    )
    runner("runTest").runTest()
