"""Per-admin API tokens for /api/admin/*: created by the owner, shown once, hashed, scoped, revocable, audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.models import Admin, ApiToken, TransactionStatus


def _admin_id(panel, username: str) -> int:
    with panel.session() as s:
        return s.scalar(select(Admin.id).where(Admin.username == username))


def _create(panel, owner, username: str, name: str = "script") -> str:
    r = owner.post(
        "/admin/api-tokens/new", data={"admin_id": _admin_id(panel, username), "name": name, "csrf_token": owner.csrf}
    )
    assert r.status_code == 200, r.text
    return re.search(r'id="token-secret">([^<]+)<', r.text).group(1)


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_a_token_is_shown_once_stored_hashed_and_works_without_a_session_or_csrf(panel, owner):
    secret = _create(panel, owner, "finance", "accounting export")
    assert secret.startswith("chk_") and secret not in owner.get("/admin/api-tokens/").text  # shown once
    with panel.session() as s:
        stored = s.scalars(select(ApiToken)).one()
        assert secret not in stored.token_hash and stored.last_used_at is None
    script = panel.app.test_client()  # no cookie at all
    r = script.get("/api/admin/topup-requests?status=PENDING", headers=_bearer(secret))
    assert r.status_code == 200 and len(r.get_json()["items"]) == 2
    assert "Set-Cookie" not in r.headers
    tx = panel.pending_topups()[0]
    r = script.put(
        f"/api/admin/topup-requests/{tx.id}",
        headers=_bearer(secret),  # no transfer: confirmed
        json={"status": "APPROVED", "confirm": True, "reason": "statement checked"},
    )
    assert r.status_code == 200 and r.get_json()["processedBy"] == "finance"
    assert panel.tx(tx.id).status == TransactionStatus.APPROVED
    page = owner.get("/admin/api-tokens/").text
    assert "accounting export" in page and "never" not in page.split("accounting export")[1][:400]
    assert [a.action for a in panel.audits("api_token.create")] == ["api_token.create"]


def test_a_token_keeps_its_admins_role(panel, owner):
    secret = _create(panel, owner, "mentor")
    script = panel.app.test_client()
    r = script.get("/api/admin/topup-requests", headers=_bearer(secret))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "FORBIDDEN"
    assert script.get("/admin/topups/", headers=_bearer(secret)).status_code == 302  # only the API honours tokens


def test_revoked_unknown_and_demoted_tokens_are_refused(panel, owner):
    secret = _create(panel, owner, "finance")
    script = panel.app.test_client()
    assert script.get("/api/admin/topup-requests", headers=_bearer("chk_nope")).status_code == 401
    assert script.get("/api/admin/topup-requests", headers=_bearer(secret)).status_code == 200
    with panel.session() as s:
        token_id = s.scalar(select(ApiToken.id))
    r = owner.post(f"/admin/api-tokens/{token_id}/revoke", data={"csrf_token": owner.csrf}, follow_redirects=True)
    assert "revoked" in r.text
    r = script.get("/api/admin/topup-requests", headers=_bearer(secret))
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "UNAUTHENTICATED"
    assert [a.action for a in panel.audits("api_token.revoke")] == ["api_token.revoke"]

    secret = _create(panel, owner, "finance", "second")
    owner.post(f"/admin/accounts/{_admin_id(panel, 'finance')}/role", data={"role": "mentor", "csrf_token": owner.csrf})
    assert script.get("/api/admin/topup-requests", headers=_bearer(secret)).status_code == 401


def test_session_requests_still_need_csrf_and_only_the_owner_makes_tokens(panel, owner, finance):
    tx = panel.pending_topups()[0]
    r = finance.put(f"/api/admin/topup-requests/{tx.id}", json={"status": "APPROVED"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "CSRF_FAILED"
    r = finance.post("/admin/api-tokens/new", data={"admin_id": "1", "name": "x", "csrf_token": finance.csrf})
    assert r.status_code == 403
    assert panel.count(ApiToken) == 0
