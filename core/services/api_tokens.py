"""API tokens for /api/admin/*: created by the owner, shown once, stored hashed, revocable, audited."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.errors import InvalidInput, NotFound
from core.models import Admin, AdminRole, ApiToken
from core.services import audit
from core.services.common import Actor
from core.text import has_control
from core.timeutil import as_utc

PREFIX = "chk_"
TOUCH_EVERY = timedelta(minutes=1)  # last-used time is written at most once a minute per token


@dataclass(frozen=True)
class TokenInfo:
    id: int
    admin_id: int
    admin_username: str
    name: str
    role: AdminRole
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class TokenOwner:
    """Who a presented token acts as."""

    token_id: int
    admin_id: int
    username: str
    role: AdminRole
    mentor_user_id: int | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def _info(t: ApiToken) -> TokenInfo:
    return TokenInfo(
        t.id,
        t.admin_id,
        t.admin.username,
        t.name,
        t.role,
        t.prefix,
        t.created_by,
        t.created_at,
        t.last_used_at,
        t.revoked_at,
    )


def create_token(
    session: Session, admin_id: int, name: str, *, actor: Actor, now: datetime | None = None
) -> tuple[str, TokenInfo]:
    """A new token acting as `admin_id` with that admin's current role. The secret is returned once."""
    name = (name or "").strip()
    if not name or len(name) > 64 or has_control(name, multiline=False):
        raise InvalidInput("give the token a name (at most 64 characters), e.g. 'accounting export'", field="name")
    now = as_utc(now)
    secret = PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(session):
        admin = session.get(Admin, admin_id)
        if admin is None or not admin.is_active:
            raise NotFound("admin not found or inactive", entity="admin", id=admin_id)
        token = ApiToken(
            admin_id=admin_id,
            name=name,
            role=admin.role,
            token_hash=_hash(secret),
            prefix=secret[:12],
            created_by=actor.name,
            created_at=now,
        )
        session.add(token)
        session.flush()
        audit.record(
            session,
            actor,
            "api_token.create",
            "api_token",
            token.id,
            now=now,
            after={"admin": admin.username, "role": admin.role, "name": name, "prefix": token.prefix},
        )
        return secret, _info(token)


def revoke_token(session: Session, token_id: int, *, actor: Actor, now: datetime | None = None) -> TokenInfo:
    now = as_utc(now)
    with unit_of_work(session):
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound("token not found", entity="api_token", id=token_id)
        if token.revoked_at is None:
            token.revoked_at = now
            audit.record(
                session,
                actor,
                "api_token.revoke",
                "api_token",
                token_id,
                now=now,
                before={"revoked": False},
                after={"revoked": True, "name": token.name, "prefix": token.prefix},
            )
        return _info(token)


def revoke_all_of(session: Session, admin_id: int, why: str, *, actor: Actor, now: datetime) -> int:
    """Inside the caller's transaction: every live token of this admin dies for good (a role change or a
    deactivation; reverting either does not bring a token back). Each revocation is audited with `why`."""
    tokens = session.scalars(select(ApiToken).where(ApiToken.admin_id == admin_id, ApiToken.revoked_at.is_(None))).all()
    for token in tokens:
        token.revoked_at = now
        audit.record(
            session,
            actor,
            "api_token.revoke",
            "api_token",
            token.id,
            now=now,
            before={"revoked": False},
            after={"revoked": True, "name": token.name, "prefix": token.prefix, "why": why},
        )
    return len(tokens)


def list_tokens(session: Session) -> list[TokenInfo]:
    return [_info(t) for t in session.scalars(select(ApiToken).order_by(ApiToken.id.desc()))]


def authenticate_token(session: Session, secret: str, *, now: datetime | None = None) -> TokenOwner | None:
    """The admin a token acts as, or None: unknown, revoked, admin inactive, or the admin's role changed."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    now = as_utc(now)
    row = session.execute(
        select(ApiToken, Admin).join(Admin, Admin.id == ApiToken.admin_id).where(ApiToken.token_hash == _hash(secret))
    ).first()
    if row is None:
        return None
    token, admin = row
    if token.revoked_at is not None or not admin.is_active or admin.role != token.role:
        return None
    owner = TokenOwner(token.id, admin.id, admin.username, admin.role, admin.mentor_user_id)
    if token.last_used_at is None or as_utc(token.last_used_at) < now - TOUCH_EVERY:
        token_id = token.id
        with unit_of_work(session):
            session.execute(
                update(ApiToken)
                .where(ApiToken.id == token_id)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    return owner
