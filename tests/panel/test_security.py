"""Security: every endpoint needs a login, every write needs CSRF, roles are enforced server side."""

from __future__ import annotations

import re

import pytest

from core.models import LoginAttempt
from tests.panel.helpers import PASSWORD, csrf_from, login

PUBLIC = {"auth.login", "static", "admin.static"}
# Health and metrics for load balancers and Prometheus: no data, no login (tests/reliability/test_health.py).
PUBLIC |= {"ops.healthz", "ops.readyz", "ops.metrics"}
# The Mini App's pages are public shells (no data); their API authenticates every request by Telegram
# init data, not by the panel's cookie, so CSRF does not apply to it (tests/student_api covers its refusals).
MINI_APP = {
    "miniapp.launch",
    "miniapp.wallet",
    "miniapp.enrollments",
    "miniapp.mentorship",
    "miniapp.book",
    "miniapp.unknown",
}
PUBLIC |= MINI_APP
# `/` and the seed's page names only redirect into the panel, which then asks for a login.
PUBLIC |= {"front_door", "seed_financial", "seed_mentorship", "seed_analytics"}
# The site's icon, which every browser asks for (tests/miniapp/test_pages.py).
PUBLIC |= {"favicon"}
# Called by machines with their own secret instead of a session, so no CSRF token (tests/panel/test_transfers.py).
SECRET_AUTHENTICATED = {"sms_webhook.receive"}
# a session's calendar file: its signed token is the credential, a forged one is 404
# (tests/student_api/test_booking_slots.py)
PUBLIC |= {"calendar_files.calendar_file"}


def _concrete(rule) -> str:
    """A URL for a rule, with every variable filled with 1."""
    return re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "1", rule.rule)


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC and not r.endpoint.endswith(".static")]


def test_every_endpoint_refuses_anonymous_requests(panel, client):
    rules = _rules(panel.app)
    assert len(rules) > 40
    checked = 0
    for rule in rules:
        url = _concrete(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(url, method=method)
            checked += 1
            if url.startswith("/api/"):
                assert r.status_code in (400, 401, 403), (method, url, r.status_code)
                assert r.is_json and "error" in r.get_json()
            elif method == "GET":
                assert r.status_code == 302 and "/admin/login" in r.location, (method, url, r.status_code)
            else:  # a write without a token is refused before anything else
                assert r.status_code in (302, 400), (method, url, r.status_code)
                assert r.status_code == 400 or "/admin/login" in r.location
    assert checked > 50


def test_every_state_changing_request_without_csrf_is_refused(panel, owner):
    before = panel.count(LoginAttempt)
    writes = [
        (r, m)
        for r in _rules(panel.app)
        for m in r.methods
        if m in ("POST", "PUT", "DELETE", "PATCH")
        and not r.endpoint.startswith("student_api.")
        and r.endpoint not in SECRET_AUTHENTICATED
    ]
    assert len(writes) > 20
    for rule, method in writes:
        r = owner.open(_concrete(rule), method=method, data={"reason": "x", "amount": "5"})
        assert r.status_code == 400, (method, rule.rule, r.status_code)
        if rule.rule.startswith("/api/"):
            assert r.get_json()["error"]["code"] == "CSRF_FAILED"
        else:
            assert "security token" in r.text
    assert panel.count(LoginAttempt) == before


def test_login_page_explains_how_to_create_the_first_admin(sqlite_url, tmp_path):
    from admin_panel import create_app
    from tests.helpers import make_settings

    app = create_app(make_settings(sqlite_url, tmp_path))
    page = app.test_client().get("/admin/login")
    assert page.status_code == 200
    assert "codehub create-admin &lt;username&gt;" in page.text
    app.extensions["codehub"].db.dispose()


def test_the_create_admin_command_shown_is_one_that_works_here(tmp_path, monkeypatch):
    """The login page said `codehub create-admin` while the command lives in the project's .venv/bin (dev.py
    installs it there, not on the PATH): it names the command as this server can run it."""
    from admin_panel.web.auth import codehub_command

    project = tmp_path / "project"
    bin_dir = project / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "codehub").write_text("#!/bin/sh\n")
    (bin_dir / "codehub").chmod(0o755)
    python = str(bin_dir / "python")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert codehub_command(python, cwd=str(project)) == ".venv/bin/codehub"
    assert codehub_command(python, cwd=str(tmp_path / "elsewhere")) == str(bin_dir / "codehub")
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin")
    assert codehub_command(python, cwd=str(project)) == "codehub"  # an activated venv
    assert codehub_command(str(tmp_path / "python"), cwd=str(project)) == "codehub"  # installed elsewhere


def test_login_wrong_password_then_right(panel, client):
    r = login(client, "owner", "wrong-password")
    assert r.status_code == 401 and "Wrong username or password" in r.text
    assert "codehub create-admin" not in r.text
    r = login(client, "owner")
    assert r.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_login_is_throttled_after_five_failures(panel, client):
    for _ in range(5):
        assert login(client, "finance", "nope-nope").status_code == 401
    r = login(client, "finance")  # the right password no longer helps for 15 minutes
    assert r.status_code == 401 and "Too many failed attempts" in r.text
    other = panel.app.test_client()
    assert login(other, "owner").status_code == 302  # other usernames are unaffected


def test_login_form_needs_csrf(panel, client):
    r = client.post("/admin/login", data={"username": "owner", "password": PASSWORD})
    assert r.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(panel, client):
    r = login(client, "owner")
    cookie = [h for h in r.headers.getlist("Set-Cookie") if h.startswith("codehub_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout_needs_post_with_csrf(panel, owner):
    assert owner.get("/admin/logout").status_code == 405
    assert owner.post("/admin/logout").status_code == 400
    r = owner.post("/admin/logout", data={"csrf_token": owner.csrf})
    assert r.status_code == 302 and "/admin/login" in r.location
    assert owner.get("/admin/topups/").status_code == 302


def test_open_redirect_after_login_is_ignored(panel, client):
    page = client.get("/admin/login?next=//evil.example/x")
    r = client.post(
        "/admin/login?next=//evil.example/x",
        data={"username": "owner", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 302 and "evil" not in r.location


@pytest.mark.parametrize(
    "path,owner_ok,finance_ok,mentor_ok",
    [
        ("/admin/", 200, 200, 302),
        ("/admin/topups/", 200, 200, 403),
        ("/admin/transactions/", 200, 200, 403),
        ("/admin/students/", 200, 200, 403),
        ("/admin/bookings/", 200, 403, 200),
        ("/admin/mentors/", 200, 403, 403),
        ("/admin/my-profile/", 403, 403, 200),
        ("/admin/platforms/", 200, 403, 403),
        ("/admin/tasks/", 200, 403, 403),
        ("/admin/enrollments/", 200, 403, 403),
        ("/admin/settings/", 200, 403, 403),
        ("/admin/audit/", 200, 403, 403),
        ("/admin/reports/", 200, 200, 403),
        ("/admin/broadcasts/", 200, 403, 403),
        ("/admin/accounts/", 200, 403, 403),
        ("/api/admin/topup-requests", 200, 200, 403),
        ("/api/admin/analytics/financial", 200, 200, 403),
    ],
)
def test_roles_limit_pages(panel, path, owner_ok, finance_ok, mentor_ok):
    for username, expected in (("owner", owner_ok), ("finance", finance_ok), ("mentor", mentor_ok)):
        c = panel.app.test_client()
        login(c, username)
        r = c.get(path)
        assert r.status_code == expected, (username, path, r.status_code)
        if expected == 403 and not path.startswith("/api/"):
            assert "Your role does not allow" in r.text


def test_menu_shows_only_what_the_role_may_open(panel, finance):
    html = finance.get("/admin/").text
    assert "Top-ups" in html and "Transactions" in html
    assert "Settings" not in html and "Platforms" not in html and "Broadcasts" not in html


def test_finance_cannot_post_owner_actions(panel, finance):
    r = finance.post("/admin/settings/", data={"csrf_token": finance.csrf, "signup_bonus": "9999"})
    assert r.status_code == 403
    r = finance.put("/api/admin/mentorship/settings", json={"hourlyRate": "1"}, headers={"X-CSRFToken": finance.csrf})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "FORBIDDEN"


def test_unknown_pages_are_tidy_404s(panel, owner):
    r = owner.get("/no-such-page")
    assert r.status_code == 404 and "There is nothing at this address" in r.text
    r = owner.get("/api/admin/nothing")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "NOT_FOUND"


GARBAGE = {
    "amount": "NaN",
    "reason": "r" * 20000,
    "notes": "\x00",
    "session_date": "9999-99-99T99:99",
    "user_id": "-1",
    "days": "1e9",
    "text": "",
    "audience": "nobody",
    "platform_id": "abc",
    "rowid": ["abc", "-5"],
    "action": "approve",
    "id": "abc",
    "name": "",
    "price": "NaN",
    "nonce": "n" * 500,
    "blocked": "maybe",
    "rate": "1e999",
    "bio": "b" * 50000,
    "username": "",
    "password": "",
    "role": "god",
    "status": "APPROVED",
    "month": "0-0",
    "position": "x",
    "platform": "999999",
    "url": "//evil.example",
}


def test_garbage_input_never_causes_a_server_error(panel, owner):
    """Every route, every method, as the owner with a valid CSRF token and nonsense in every field."""
    checked = 0
    for rule in _rules(panel.app):
        if rule.endpoint == "auth.logout":
            continue
        url = _concrete(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            checked += 1
            data = dict(GARBAGE, csrf_token=owner.csrf)
            if url.startswith("/api/"):
                r = owner.open(
                    url,
                    method=method,
                    data="{not json",
                    content_type="application/json",
                    headers={"X-CSRFToken": owner.csrf},
                )
                assert r.status_code < 500 and r.is_json, (method, url, r.status_code)
                r = owner.open(
                    url + "?status=x&limit=-1",
                    method=method,
                    json={"status": None, "sessionDate": 5},
                    headers={"X-CSRFToken": owner.csrf},
                )
            elif method == "GET":
                r = owner.get(url + "?page=-3&sort=99&desc=x&search=%00&flt0_zzz=1&month=abc&id=abc&preview=1")
            else:
                r = owner.open(url, method=method, data=data)
            assert r.status_code < 500, (method, url, r.status_code)
            assert r.status_code != 302 or "/admin/login" not in r.location, (method, url)  # still logged in
    assert checked > 50


@pytest.mark.parametrize(
    "username,method,path,data",
    [
        ("finance", "POST", "/admin/bookings/booking/2/confirm", {"session_date": "2099-01-01T10:00"}),
        ("finance", "POST", "/admin/bookings/booking/2/cancel", {"reason": "x"}),
        ("finance", "POST", "/admin/platforms/new/", {"name": "Hack", "price": "1"}),
        ("finance", "POST", "/admin/platforms/delete/", {"id": "4"}),
        ("finance", "POST", "/admin/enrollments/action/", {"action": "deactivate", "rowid": "1"}),
        ("finance", "POST", "/admin/mentors/make", {"user_id": "3"}),
        ("finance", "POST", "/admin/broadcasts/send", {"text": "hi", "audience": "all"}),
        ("finance", "POST", "/admin/accounts/new", {"username": "evil", "password": "longenough1", "role": "owner"}),
        ("mentor", "POST", "/admin/topups/request/10/approve", {}),
        ("mentor", "POST", "/admin/topups/action/", {"action": "approve", "rowid": "10"}),
        ("mentor", "POST", "/admin/students/student/3/adjust", {"amount": "1000", "reason": "x", "nonce": "n"}),
        ("mentor", "POST", "/admin/settings/", {"signup_bonus": "1"}),
        ("mentor", "PUT", "/api/admin/topup-requests/10", {"status": "APPROVED"}),
        ("mentor", "PUT", "/api/admin/mentorship/settings", {"hourlyRate": "1"}),
        ("finance", "PUT", "/api/admin/mentorship/2/confirm", {"sessionDate": "2099-01-01T10:00"}),
    ],
)
def test_roles_refuse_writes_and_change_nothing(panel, username, method, path, data):
    from core.models import AuditLog, Notification

    c = panel.app.test_client()
    login(c, username)
    csrf = c.get("/api/admin/csrf-token").get_json()["csrfToken"]
    audits, outbox = panel.count(AuditLog), panel.count(Notification)
    if method == "PUT":
        r = c.put(path, json=data, headers={"X-CSRFToken": csrf})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "FORBIDDEN"
    else:
        r = c.post(path, data={**data, "csrf_token": csrf})
        assert r.status_code == 403, (username, path, r.status_code)
    assert (panel.count(AuditLog), panel.count(Notification)) == (audits, outbox)


def test_security_headers(panel, client):
    r = client.get("/admin/login")
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"


def test_the_panel_lives_under_admin_and_the_front_door_leads_there(panel, client, owner):
    assert client.get("/").headers["Location"].endswith("/admin/")
    assert client.get("/admin/").headers["Location"].startswith("/admin/login")
    seed_pages = {"financial": "/admin/topups/", "mentorship": "/admin/bookings/", "analytics": "/admin/analytics/"}
    for name, where in seed_pages.items():
        assert owner.get(f"/admin/{name}").headers["Location"].endswith(where)
    assert "Dashboard" in owner.get("/admin/").text
    assert owner.get("/topups/").status_code == 404  # nothing of the panel is left at the root
