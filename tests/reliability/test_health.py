"""The panel's /healthz, /readyz and /metrics: public, no data, and telling the truth about the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from admin_panel.web.app import create_app
from core.db import Database
from core.services import health
from tests.core.helpers import NOW, student
from tests.core.test_reconciliation import topup
from tests.helpers import context, make_settings


def samples(body: str) -> dict[str, float]:
    return {s.name: s.value for f in text_string_to_metric_families(body) for s in f.samples}


@pytest.fixture
def app_on(tmp_path):
    made = []

    def build(url, db=None):
        app = create_app(make_settings(url, tmp_path), db=db)
        app.config["TESTING"] = True
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["codehub"].db.dispose()


def test_liveness_and_readiness_need_no_login(sqlite_url, app_on):
    client = app_on(sqlite_url).test_client()
    live = client.get("/healthz")
    assert live.status_code == 200 and live.json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json == {"status": "ready"}


def test_readiness_is_503_with_a_reason_when_the_database_is_down(tmp_path, app_on):
    down = Database("postgresql+psycopg://postgres@127.0.0.1:1/codehub", context())
    client = app_on("postgresql+psycopg://postgres@127.0.0.1:1/codehub", db=down).test_client()
    assert client.get("/healthz").status_code == 200  # alive: the process answers without the database
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["status"] == "unavailable" and "database unreachable" in ready.json["reason"]
    metrics = samples(client.get("/metrics").text)
    assert metrics["codehub_database_up"] == 0


def test_metrics_show_pending_topups_and_the_outbox(db_url, app_on):
    app = app_on(db_url)
    client = app.test_client()
    empty = samples(client.get("/metrics").text)
    assert empty["codehub_database_up"] == 1
    assert empty["codehub_pending_topups"] == 0 and empty["codehub_outbox_backlog"] == 0
    assert empty["codehub_outbox_oldest_age_seconds"] == 0
    db = app.extensions["codehub"].db
    with db.session() as s:
        for i in range(2):
            topup(s, student(s), number=f"0101234567{i}")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    after = samples(r.text)
    assert after["codehub_pending_topups"] == 2
    assert after["codehub_outbox_backlog"] >= 2  # the admins are told about each request
    with db.session() as s:
        g = health.gauges(s, now=NOW + timedelta(minutes=10))
    assert g.pending_topups == 2 and g.outbox_backlog == after["codehub_outbox_backlog"]
    assert g.outbox_oldest_age_seconds == pytest.approx(600, abs=60)
