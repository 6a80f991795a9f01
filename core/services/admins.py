"""Panel accounts: creation with hashed passwords, verification, login throttling."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.db import unit_of_work
from core.errors import AuthFailed, InvalidInput, NotAMentor
from core.models import Admin, AdminRole, LoginAttempt, User
from core.timeutil import as_utc

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class AdminInfo:
    id: int
    username: str
    role: AdminRole
    mentor_user_id: int | None
    is_active: bool


def _info(a: Admin) -> AdminInfo:
    return AdminInfo(a.id, a.username, a.role, a.mentor_user_id, a.is_active)


def create_admin(session: Session, username: str, password: str, role: AdminRole | str = AdminRole.OWNER, *,
                 mentor_user_id: int | None = None, now: datetime | None = None) -> AdminInfo:
    """A panel account; a mentor account's mentor_user_id must be a mentor (NotAMentor otherwise)."""
    username = (username or "").strip()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("username: letters, digits, dots and underscores, at most 64")
    if len(password or "") < 8:
        raise InvalidInput("password must be at least 8 characters")
    try:
        role_value = AdminRole(role)
    except ValueError:
        raise InvalidInput("role must be owner, finance or mentor") from None
    with unit_of_work(session):
        if session.scalar(select(Admin).where(Admin.username == username)):
            raise InvalidInput(f"admin {username} already exists")
        if mentor_user_id is not None:
            mentor = session.get(User, mentor_user_id)
            if mentor is None or not mentor.is_mentor:
                raise NotAMentor(f"user #{mentor_user_id} is not a mentor", user_id=mentor_user_id)
        admin = Admin(username=username, password_hash=generate_password_hash(password), role=role_value,
                      mentor_user_id=mentor_user_id, created_at=as_utc(now))
        session.add(admin)
        session.flush()
        return _info(admin)


def set_password(session: Session, username: str, password: str) -> None:
    if len(password or "") < 8:
        raise InvalidInput("password must be at least 8 characters")
    with unit_of_work(session):
        admin = session.scalar(select(Admin).where(Admin.username == username))
        if admin is None:
            raise InvalidInput(f"no admin {username}")
        admin.password_hash = generate_password_hash(password)


def admin_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Admin)) or 0


def get_admin(session: Session, admin_id: int) -> AdminInfo | None:
    admin = session.get(Admin, admin_id)
    return _info(admin) if admin and admin.is_active else None


def is_throttled(session: Session, username: str, address: str, *, now: datetime | None = None) -> bool:
    since = as_utc(now) - WINDOW
    failures = session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username.lower(), LoginAttempt.address == address,
        LoginAttempt.created_at > since)) or 0
    return failures >= MAX_FAILURES


def authenticate(session: Session, username: str, password: str, address: str, *,
                 now: datetime | None = None) -> AdminInfo:
    """Check a password; 5 failures per username and address in 15 minutes lock further tries."""
    now = as_utc(now)
    username = (username or "").strip()
    if is_throttled(session, username, address, now=now):
        raise AuthFailed("too many failed attempts; try again in 15 minutes", throttled=True)
    admin = session.scalar(select(Admin).where(Admin.username == username))
    ok = admin is not None and admin.is_active and check_password_hash(admin.password_hash, password or "")
    with unit_of_work(session):
        if ok:
            session.execute(delete(LoginAttempt).where(LoginAttempt.username == username.lower(),
                                                       LoginAttempt.address == address))
        else:
            session.add(LoginAttempt(username=username.lower(), address=address, created_at=now))
    if not ok:
        raise AuthFailed("wrong username or password")
    return _info(admin)
