"""An API token dies for good when its account's role changes or the account is deactivated (issue 20, #4).

The probe: a finance token stopped while its account was mentor and worked again once the role went back to
finance; a deactivated account's token worked again after reactivation. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from core.models import AdminRole, AuditLog
from core.services import admins, api_tokens
from tests.core.helpers import ADMIN, later, mentor

PASSWORD = "correct horse battery staple 42"


def account(session, username: str, role=AdminRole.FINANCE, mentor_user_id=None) -> int:
    return admins.create_admin(session, username, PASSWORD, role, mentor_user_id=mentor_user_id).id


def works(session, secret: str) -> bool:
    return api_tokens.authenticate_token(session, secret, now=later(minutes=5)) is not None


def test_a_role_changed_and_changed_back_keeps_the_token_dead(session):
    finance = account(session, "fatma")
    secret, info = api_tokens.create_token(session, finance, "accounting export", actor=ADMIN)
    assert works(session, secret)
    admins.set_role(session, finance, AdminRole.MENTOR, actor=ADMIN, mentor_user_id=mentor(session))
    assert not works(session, secret)
    admins.set_role(session, finance, AdminRole.FINANCE, actor=ADMIN)
    assert not works(session, secret)  # it revived before
    [token] = api_tokens.list_tokens(session)
    assert token.id == info.id and not token.active
    why = [
        json.loads(a.after)["why"]
        for a in session.scalars(select(AuditLog).where(AuditLog.action == "api_token.revoke"))
    ]
    assert why == ["role changed to mentor"]
    fresh, _ = api_tokens.create_token(session, finance, "new export", actor=ADMIN)
    assert works(session, fresh)  # a new token for the new role works


def test_deactivated_and_reactivated_keeps_the_token_dead(session):
    finance = account(session, "karim")
    secret, _ = api_tokens.create_token(session, finance, "script", actor=ADMIN)
    admins.set_active(session, finance, False, actor=ADMIN)
    assert not works(session, secret)
    admins.set_active(session, finance, True, actor=ADMIN)
    assert not works(session, secret)
    assert [t.active for t in api_tokens.list_tokens(session)] == [False]


def test_a_role_set_to_the_same_role_changes_nothing(session):
    finance = account(session, "hoda")
    secret, _ = api_tokens.create_token(session, finance, "script", actor=ADMIN)
    admins.set_role(session, finance, AdminRole.FINANCE, actor=ADMIN)
    assert works(session, secret)
