"""The Mini App's browser tests: the panel's app with the tests' school, served on 127.0.0.1 for Chromium."""

from __future__ import annotations

import shutil

import pytest

from tests.external import require_chromium
from tests.looks import serve
from tests.student_api.conftest import build_api


@pytest.fixture(scope="module")
def live(sqlite_template, tmp_path_factory):
    """(api, base URL): one server and one school for a test module; no rate limits (many pages, one student)."""
    require_chromium()
    folder = tmp_path_factory.mktemp("miniapp-live")
    shutil.copy(sqlite_template, folder / "codehub.db")
    api = build_api(f"sqlite:///{folder / 'codehub.db'}", folder)
    api.app.extensions["student_limiter"].enabled = False
    with serve(api.app) as base:
        yield api, base
    api.db.dispose()
