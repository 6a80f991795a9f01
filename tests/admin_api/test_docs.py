"""The admins' interactive API docs at /api-docs: vendored Swagger UI over /api/openapi.json, behind the panel
login, no inline script, no CDN; "Try it out" works with the admin's session (the CSRF header is added)."""

from __future__ import annotations

import re
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from core.services.admins import create_admin
from core.services.settings import get_settings
from tests.external import keep_offline, launch_chromium, require_chromium
from tests.panel.helpers import PASSWORD, login
from tests.student_api.conftest import build_api

VENDOR = "/assets/vendor/swagger-ui/"


@pytest.fixture
def docs_api(sqlite_url, tmp_path):
    api = build_api(sqlite_url, tmp_path)
    with api.session() as s:
        create_admin(s, "docs_mentor", PASSWORD, "mentor")
    yield api
    api.db.dispose()


def test_anonymous_visitors_are_sent_to_the_login(docs_api):
    client = docs_api.app.test_client()
    for path in ("/api-docs", "/api-docs/reference"):
        r = client.get(path)
        assert r.status_code == 302 and "/admin/login" in r.location, path
    assert client.get("/api/openapi.json").status_code == 401


def test_the_page_loads_for_an_admin_with_a_strict_policy(docs_api):
    client = docs_api.app.test_client()
    login(client, "docs_mentor")  # any role may read the docs
    r = client.get("/api-docs")
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    for tag in re.findall(r"<script\b[^>]*>", r.text):  # no inline script: every script is a file of ours
        assert re.search(r'src="/assets/', tag), tag
    assert "http://" not in r.text.replace('xmlns="http://', "") and "https://" not in r.text  # no CDN
    assert f'src="{VENDOR}swagger-ui-bundle.js"' in r.text and 'src="/assets/js/api_docs.js"' in r.text
    assert 'data-spec-url="/api/openapi.json"' in r.text and re.search(r'data-csrf="[^"]{20,}"', r.text)
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"):
        assert client.get(VENDOR + asset).status_code == 200, asset
    assert b"Apache License" in client.get(VENDOR + "LICENSE").data
    initializer = client.get("/assets/js/api_docs.js").get_data(as_text=True)
    assert "validatorUrl: null" in initializer  # Swagger UI would otherwise call validator.swagger.io


@pytest.mark.slow
@pytest.mark.browser
def test_try_it_out_in_chromium(sqlite_template, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    shutil.copy(sqlite_template, tmp_path / "codehub.db")
    api = build_api(f"sqlite:///{tmp_path / 'codehub.db'}", tmp_path)
    with api.session() as s:
        create_admin(s, "docs_owner", PASSWORD, "owner")
    server = make_server("127.0.0.1", 0, api.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    outside, errors = [], []
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
            outside = keep_offline(context, base)
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto("/api-docs")
            page.fill("input[name=username]", "docs_owner")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/api-docs")
            expect(page.locator(".opblock").first).to_be_visible()
            assert page.locator(".opblock").count() >= 25
            # a PUT with this session: Swagger UI's request carries the X-CSRFToken the page gave it
            block = page.locator(".opblock-put", has=page.locator('[data-path="/api/admin/mentorship/settings"]'))
            block.locator(".opblock-summary").click()
            block.locator(".try-out__btn").click()
            block.locator("textarea.body-param__text").fill('{"isAvailable": false}')
            block.locator(".execute").click()
            expect(block.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
            page.screenshot(path=str(tmp_path / "api-docs.png"))
            browser.close()
        with api.session() as s:
            assert get_settings(s).mentorship_available is False
    finally:
        server.shutdown()
        api.db.dispose()
    assert not outside, f"the page tried to reach the network: {outside}"
    assert not errors, f"JavaScript errors or CSP violations: {errors}"
