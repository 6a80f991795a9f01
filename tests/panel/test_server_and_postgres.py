"""Entry points (run_admin.py, serve) and the panel on PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import inspect

import run_admin
from admin_panel.web import server
from core.models import TransactionStatus
from tests.helpers import make_settings
from tests.panel.helpers import build_panel, flashes, login, token


def test_run_admin_reports_a_config_error_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("ADMIN_PORT", "999999")
    monkeypatch.chdir("/tmp")
    assert run_admin.main([]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "ADMIN_PORT" in err


def test_serve_migrates_then_runs_waitress_on_the_configured_address(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    settings = make_settings(url, tmp_path, admin_host="127.0.0.1", admin_port=8765)
    seen = {}

    def fake_serve(app, host, port, **kw):
        seen.update(app=app, host=host, port=port)
        app.extensions["codehub"].db.dispose()

    monkeypatch.setattr("waitress.serve", fake_serve)
    server.serve(settings)
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8765)
    from sqlalchemy import create_engine

    engine = create_engine(url)
    assert "transactions" in inspect(engine).get_table_names()  # migrated before serving
    engine.dispose()
    r = seen["app"].test_client().get("/admin/login")
    assert r.status_code == 200 and "codehub create-admin" in r.text


def test_secret_key_is_generated_once_and_kept(tmp_path):
    from admin_panel.web.app import load_secret_key

    settings = make_settings("sqlite://", tmp_path, secret_key=None)
    first = load_secret_key(settings)
    assert len(first) > 40 and load_secret_key(settings) == first
    assert (tmp_path / "data" / "panel_secret.key").stat().st_mode & 0o077 == 0


@pytest.mark.slow
def test_the_panel_on_postgresql(pg_url, tmp_path):
    panel = build_panel(pg_url, tmp_path)
    try:
        c = panel.app.test_client()
        assert login(c, "owner").status_code == 302
        csrf = token(c)
        for path in (
            "/admin/",
            "/admin/topups/",
            "/admin/transactions/?flt0_date_on_or_after=2000-01-01&search=credit",
            "/admin/students/",
            "/admin/bookings/",
            "/admin/platforms/",
            "/admin/enrollments/",
            "/admin/audit/",
            "/admin/reports/",
            "/admin/broadcasts/?text=hi&audience=all&preview=1",
            "/api/admin/analytics/engagement",
            "/admin/transactions/export/xlsx/",
            "/admin/transfers/",
            "/admin/transfers/signals",
        ):
            assert c.get(path).status_code == 200, path
        tx = panel.pending_topups()[0]
        balance = panel.user(tx.user_id).balance
        r = c.post(
            f"/admin/topups/request/{tx.id}/approve",
            data={"csrf_token": csrf, "confirmed": "1", "notes": "statement checked"},
            follow_redirects=True,
        )
        assert "credited" in flashes(r.text)
        assert panel.user(tx.user_id).balance == balance + tx.amount
        r = c.post(f"/admin/topups/request/{tx.id}/approve", data={"csrf_token": csrf}, follow_redirects=True)
        assert "Already processed by owner" in flashes(r.text)
        assert panel.tx(tx.id).status == TransactionStatus.APPROVED
        html = c.get("/admin/transactions/?flt0_status_equals=PENDING").text
        assert f"net {Decimal('150.50'):,.2f} EGP" in html
    finally:
        panel.db.dispose()
