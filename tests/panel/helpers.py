"""Panel test helpers: the Panel handle, building one on a database, logging in, CSRF tokens, flashes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from admin_panel import create_app
from core.models import (
    AuditLog,
    BookingStatus,
    MentorshipBooking,
    Notification,
    Transaction,
    TransactionStatus,
    TransactionType,
    User,
)
from core.services.admins import create_admin
from tests.factories import seed_school
from tests.helpers import make_settings

PASSWORD = "correct-horse-1"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass
class Panel:
    app: object
    db: object
    founder_id: int  # the school's first mentor (user id)
    other_mentor_id: int

    def session(self):
        return self.db.sessions()

    def pending_topups(self) -> list[Transaction]:
        with self.session() as s:
            return s.scalars(
                select(Transaction)
                .where(Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.PENDING)
                .order_by(Transaction.created_at)
            ).all()

    def user(self, user_id: int) -> User:
        with self.session() as s:
            return s.get(User, user_id)

    def tx(self, tx_id: int) -> Transaction:
        with self.session() as s:
            return s.get(Transaction, tx_id)

    def booking(self, booking_id: int) -> MentorshipBooking:
        with self.session() as s:
            return s.get(MentorshipBooking, booking_id)

    def bookings(self, status: BookingStatus) -> list[MentorshipBooking]:
        with self.session() as s:
            return s.scalars(
                select(MentorshipBooking).where(MentorshipBooking.status == status).order_by(MentorshipBooking.id)
            ).all()

    def count(self, model, *where) -> int:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def audits(self, action: str) -> list[AuditLog]:
        with self.session() as s:
            return s.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()

    def notifications(self, kind: str) -> list[Notification]:
        with self.session() as s:
            return s.scalars(select(Notification).where(Notification.kind == kind)).all()


def build_panel(url: str, tmp_path) -> Panel:
    settings = make_settings(url, tmp_path)
    app = create_app(settings)
    app.config["TESTING"] = True
    db = app.extensions["codehub"].db
    with db.sessions() as s:
        school = seed_school(s)
        founder, other = school.founder, school.other_mentor
        create_admin(s, "owner", PASSWORD, "owner")
        create_admin(s, "finance", PASSWORD, "finance")
        create_admin(s, "mentor", PASSWORD, "mentor", mentor_user_id=founder)
        create_admin(s, "mentor2", PASSWORD, "mentor", mentor_user_id=other)
    return Panel(app, db, founder, other)


def csrf_from(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1) or m.group(2)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/admin/login")
    return client.post(
        "/admin/login", data={"username": username, "password": password, "csrf_token": csrf_from(page.text)}
    )


def token(client) -> str:
    """A CSRF token valid for this client's session."""
    return client.get("/api/admin/csrf-token").get_json()["csrfToken"]


def flashes(html: str) -> str:
    """The text of the alerts on a page, for asserting what the admin is told."""
    found = re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>|&times;|\s+", " ", f).strip() for f in found)
