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


@pytest.mark.slow
def test_ctrl_c_stops_codehub_run_cleanly(tmp_path):
    """Ctrl-C on `codehub run` (what `python3 dev.py run` starts) stops the panel with one line, exit 0, and no
    KeyboardInterrupt traceback."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.helpers import FIELD_KEY

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ADMIN_", "DATABASE_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
        DATA_DIR=str(tmp_path / "data"),
        FIELD_ENCRYPTION_KEY=FIELD_KEY,
        ADMIN_HOST="127.0.0.1",
        ADMIN_PORT=str(port),
        SECRET_KEY="ctrl-c-test-secret-key",
        PYTHONPATH=str(root),
    )
    proc = subprocess.Popen(
        [sys.executable, str(root / "codehub_cli.py"), "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "CodeHub admin panel stopped" in out


@pytest.mark.slow
def test_ctrl_c_on_dev_py_run_ends_without_a_traceback(tmp_path):
    """`python3 dev.py run` waits for `codehub run` to stop on Ctrl-C (both get the signal) instead of dying
    with a KeyboardInterrupt traceback of its own."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    fake = tmp_path / "codehub"  # stands for the venv's codehub: stops on SIGINT after a moment, as the panel does
    fake.write_text(
        "#!" + sys.executable + "\nimport signal, sys, time\n"
        "signal.signal(signal.SIGINT, lambda *a: (time.sleep(0.5), print('panel stopped', flush=True), sys.exit(0)))\n"
        "print('running', flush=True)\ntime.sleep(60)\n"
    )
    fake.chmod(0o755)
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import dev; "
        "dev.ensure_venv = lambda extras: None; dev.BIN = Path(sys.argv[2]); sys.exit(dev.run([]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(root), str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout.readline().strip() == "running"
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "panel stopped" in out
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
