"""Panel fixtures: an app on a fresh migrated SQLite file with the tests' school (tests/factories.py) and one
account per role."""

from __future__ import annotations

import shutil

import pytest

from admin_panel import create_app
from tests.helpers import make_settings
from tests.panel.helpers import Panel, build_panel, login, token


@pytest.fixture(scope="session")
def panel_template(sqlite_template, tmp_path_factory):
    """The migrated schema with the tests' school and four accounts, built once (password hashing is slow)."""
    folder = tmp_path_factory.mktemp("panel-template")
    path = folder / "panel.db"
    shutil.copy(sqlite_template, path)
    p = build_panel(f"sqlite:///{path}", folder)
    ids = (p.founder_id, p.other_mentor_id)
    p.db.dispose()
    return path, ids


@pytest.fixture
def panel(panel_template, tmp_path):
    template, (founder, other) = panel_template
    path = tmp_path / "codehub.db"
    shutil.copy(template, path)
    app = create_app(make_settings(f"sqlite:///{path}", tmp_path))
    app.config["TESTING"] = True
    p = Panel(app, app.extensions["codehub"].db, founder, other)
    yield p
    p.db.dispose()


@pytest.fixture
def client(panel):
    return panel.app.test_client()


def _as(panel, username):
    c = panel.app.test_client()
    r = login(c, username)
    assert r.status_code == 302, r.text
    c.csrf = token(c)
    return c


@pytest.fixture
def owner(panel):
    return _as(panel, "owner")


@pytest.fixture
def finance(panel):
    return _as(panel, "finance")


@pytest.fixture
def mentor(panel):
    return _as(panel, "mentor")
