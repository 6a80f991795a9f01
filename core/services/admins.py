"""Panel accounts: creation, password rules and hashing, roles, sessions, login throttling; all audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from core.db import unit_of_work
from core.errors import AuthFailed, InvalidInput, NotAMentor, NotFound, WeakPassword
from core.models import Admin, AdminRole, LoginAttempt, User
from core.services import api_tokens, audit
from core.services.common import Actor
from core.text import has_control
from core.timeutil import as_utc
from core.words import DEFAULT_LANGUAGE, LANGUAGES

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 12
MAX_PASSWORD = 128  # longer is no safer and makes hashing (and zxcvbn) a denial-of-service lever
MIN_STRENGTH = 3  # zxcvbn score 0-4: 3 = "safely unguessable" (~10^8 guesses or more)


@dataclass(frozen=True)
class AdminInfo:
    id: int
    username: str
    role: AdminRole
    mentor_user_id: int | None
    is_active: bool
    session_version: int = 0
    language: str = DEFAULT_LANGUAGE


def _info(a: Admin) -> AdminInfo:
    return AdminInfo(
        a.id, a.username, a.role, a.mentor_user_id, a.is_active, a.session_version or 0, a.language or DEFAULT_LANGUAGE
    )


def check_password(password: str | None, username: str = "") -> str:
    """Raise WeakPassword (with a reason an admin can act on) unless the password is strong enough."""
    password = password or ""
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"the password is too long (at most {MAX_PASSWORD} characters)", reason="TOO_LONG")
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"the password must have at least {MIN_PASSWORD} characters", reason="TOO_SHORT")
    if has_control(password) or not password.strip():
        raise WeakPassword("the password must not be blank or contain control characters", reason="INVALID")
    name = (username or "").strip().lower()
    if name and name in password.lower():
        raise WeakPassword("the password must not contain the username", reason="CONTAINS_USERNAME")
    result = zxcvbn(password, user_inputs=[name, "codehub", "admin", "panel"] if name else ["codehub"])
    if result["score"] < MIN_STRENGTH:
        hint = (result.get("feedback") or {}).get("warning") or "it is too easy to guess"
        raise WeakPassword(
            f"the password is too weak: {hint.rstrip('.')}. Use a longer phrase of unrelated words", reason="TOO_WEAK"
        )
    return password


def _check_username(username: str) -> str:
    username = (username or "").strip()
    if (
        not username
        or len(username) > 64
        or not username.isascii()
        or not username.replace("_", "").replace(".", "").isalnum()
    ):
        raise InvalidInput("username: letters, digits, dots and underscores, at most 64")
    return username


def _role(role: str | AdminRole) -> AdminRole:
    try:
        return AdminRole(role)
    except ValueError:
        raise InvalidInput("role must be owner, finance or mentor") from None


def _check_mentor(session: Session, mentor_user_id: int | None) -> None:
    """A mentor account's profile must be a mentor (NotAMentor otherwise)."""
    if mentor_user_id is None:
        return
    mentor = session.get(User, mentor_user_id)
    if mentor is None or not mentor.is_mentor:
        raise NotAMentor(f"user #{mentor_user_id} is not a mentor", user_id=mentor_user_id)


def create_admin(
    session: Session,
    username: str,
    password: str,
    role: AdminRole | str = AdminRole.OWNER,
    *,
    mentor_user_id: int | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> AdminInfo:
    """A new panel account, audited as admin.create (the CLI passes its own actor); a mentor account's
    mentor_user_id must be a mentor (NotAMentor otherwise)."""
    username = _check_username(username)
    check_password(password, username)
    role_value = _role(role)
    actor = actor or Actor.system()
    with unit_of_work(session):
        if session.scalar(select(Admin).where(Admin.username == username)):
            raise InvalidInput(f"admin {username} already exists")
        _check_mentor(session, mentor_user_id)
        admin = Admin(
            username=username,
            password_hash=generate_password_hash(password),
            role=role_value,
            mentor_user_id=mentor_user_id,
            created_at=as_utc(now),
        )
        session.add(admin)
        session.flush()
        audit.record(
            session,
            actor,
            "admin.create",
            "admin",
            admin.id,
            now=now,
            after={"username": username, "role": role_value, "mentor_user_id": mentor_user_id},
        )
        return _info(admin)


def _load(session: Session, admin_id: int) -> Admin:
    admin = session.get(Admin, admin_id)
    if admin is None:
        raise NotFound("admin not found", entity="admin", id=admin_id)
    return admin


def reset_password(
    session: Session, admin_id: int, password: str, *, actor: Actor, now: datetime | None = None
) -> AdminInfo:
    """Set another admin's password (the owner); ends that admin's sessions."""
    with unit_of_work(session):
        admin = _load(session, admin_id)
        check_password(password, admin.username)
        admin.password_hash = generate_password_hash(password)
        admin.session_version = (admin.session_version or 0) + 1
        audit.record(
            session,
            actor,
            "admin.password",
            "admin",
            admin_id,
            now=now,
            after={"username": admin.username, "sessions_ended": True},
        )
        return _info(admin)


def change_own_password(
    session: Session, admin_id: int, current: str, password: str, *, now: datetime | None = None
) -> AdminInfo:
    """An admin changes their own password after giving the current one; every other session ends."""
    with unit_of_work(session):
        admin = _load(session, admin_id)
        if not check_password_hash(admin.password_hash, (current or "")[: MAX_PASSWORD + 1]):
            raise AuthFailed("the current password is wrong")
        check_password(password, admin.username)
        admin.password_hash = generate_password_hash(password)
        admin.session_version = (admin.session_version or 0) + 1
        audit.record(
            session,
            Actor(admin.username, admin_id=admin.id),
            "admin.password",
            "admin",
            admin_id,
            now=now,
            after={"username": admin.username, "sessions_ended": True},
        )
        return _info(admin)


def set_password(
    session: Session, username: str, password: str, *, actor: Actor | None = None, now: datetime | None = None
) -> AdminInfo:
    """By username (the CLI); same rules as reset_password."""
    admin_id = session.scalar(select(Admin.id).where(Admin.username == (username or "").strip()))
    session.rollback()
    if admin_id is None:
        raise InvalidInput(f"no admin {username}")
    return reset_password(session, admin_id, password, actor=actor or Actor.system(), now=now)


def _other_active_owners(session: Session, admin_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Admin)
            .where(Admin.role == AdminRole.OWNER, Admin.is_active.is_(True), Admin.id != admin_id)
        )
        or 0
    )


def set_role(
    session: Session,
    admin_id: int,
    role: str | AdminRole,
    *,
    actor: Actor,
    mentor_user_id: int | None = None,
    now: datetime | None = None,
) -> AdminInfo:
    """Change an admin's role; their sessions end and their API tokens are revoked for good."""
    role_value = _role(role)
    with unit_of_work(session):
        admin = _load(session, admin_id)
        before = {"role": admin.role, "mentor_user_id": admin.mentor_user_id}
        if (
            admin.role == AdminRole.OWNER
            and role_value != AdminRole.OWNER
            and not _other_active_owners(session, admin_id)
        ):
            raise InvalidInput("keep at least one active owner")
        changed = admin.role != role_value
        admin.role = role_value
        admin.mentor_user_id = mentor_user_id if role_value == AdminRole.MENTOR else None
        _check_mentor(session, admin.mentor_user_id)
        admin.session_version = (admin.session_version or 0) + 1
        if changed:
            api_tokens.revoke_all_of(
                session, admin_id, f"role changed to {role_value.value}", actor=actor, now=as_utc(now)
            )
        audit.record(
            session,
            actor,
            "admin.role",
            "admin",
            admin_id,
            before=before,
            now=now,
            after={"role": role_value, "mentor_user_id": admin.mentor_user_id},
        )
        return _info(admin)


def set_active(
    session: Session, admin_id: int, active: bool, *, actor: Actor, now: datetime | None = None
) -> AdminInfo:
    """Deactivate (sessions end, login refused, API tokens revoked for good) or reactivate an account."""
    with unit_of_work(session):
        admin = _load(session, admin_id)
        if not active and admin.role == AdminRole.OWNER and not _other_active_owners(session, admin_id):
            raise InvalidInput("keep at least one active owner")
        before = admin.is_active
        admin.is_active = active
        admin.session_version = (admin.session_version or 0) + 1
        if not active:
            api_tokens.revoke_all_of(session, admin_id, "account deactivated", actor=actor, now=as_utc(now))
        audit.record(
            session,
            actor,
            "admin.activate" if active else "admin.deactivate",
            "admin",
            admin_id,
            before={"is_active": before},
            after={"is_active": active},
            now=now,
        )
        return _info(admin)


def end_sessions(session: Session, admin_id: int) -> None:
    """Logout: every session of this admin issued so far stops working (one conditional UPDATE)."""
    with unit_of_work(session):
        session.execute(
            update(Admin)
            .where(Admin.id == admin_id)
            .values(session_version=Admin.session_version + 1)
            .execution_options(synchronize_session=False)
        )


def set_language(session: Session, admin_id: int, language: str | None, *, now: datetime | None = None) -> AdminInfo:
    """The panel's language for this admin only (English or Arabic); any other value changes nothing."""
    language = (language or "").strip().lower()
    if language not in LANGUAGES:
        raise InvalidInput("the panel's language is English (en) or Arabic (ar)", field="language")
    with unit_of_work(session):
        admin = _load(session, admin_id)
        before = admin.language
        admin.language = language
        if before != language:
            audit.record(
                session,
                Actor(admin.username, admin_id=admin.id),
                "admin.language",
                "admin",
                admin_id,
                now=now,
                before={"language": before},
                after={"language": language},
            )
        return _info(admin)


def admin_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Admin)) or 0


def get_admin(session: Session, admin_id: int) -> AdminInfo | None:
    admin = session.get(Admin, admin_id)
    return _info(admin) if admin and admin.is_active else None


def list_admins(session: Session) -> list[AdminInfo]:
    return [_info(a) for a in session.scalars(select(Admin).order_by(Admin.username))]


def is_throttled(session: Session, username: str, address: str, *, now: datetime | None = None) -> bool:
    since = as_utc(now) - WINDOW
    failures = (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.username == username.lower(),
                LoginAttempt.address == address,
                LoginAttempt.created_at > since,
            )
        )
        or 0
    )
    return failures >= MAX_FAILURES


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked for unknown usernames, so a wrong name costs as much time as a wrong password."""
    return generate_password_hash("no such admin: the hash only spends the same time")


def authenticate(
    session: Session, username: str, password: str, address: str, *, now: datetime | None = None
) -> AdminInfo:
    """Check a password; 5 failures per username and address in 15 minutes lock further tries."""
    now = as_utc(now)
    username = (username or "").strip()[:64]
    address = (address or "unknown")[:64]
    if is_throttled(session, username, address, now=now):
        raise AuthFailed("too many failed attempts; try again in 15 minutes", throttled=True)
    admin = session.scalar(select(Admin).where(Admin.username == username))
    password = (password or "")[: MAX_PASSWORD + 1]
    matches = check_password_hash(admin.password_hash if admin else _dummy_hash(), password)
    ok = admin is not None and admin.is_active and matches
    with unit_of_work(session):
        if ok:
            session.execute(
                delete(LoginAttempt).where(LoginAttempt.username == username.lower(), LoginAttempt.address == address)
            )
        else:
            session.add(LoginAttempt(username=username.lower(), address=address, created_at=now))
    if not ok:
        raise AuthFailed("wrong username or password")
    return _info(admin)
