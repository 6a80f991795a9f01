"""What a request of the admins' interfaces (the panel and the admins' API) works with: the app's Panel (settings,
database), a session for core services, and the admin acting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from flask_login import current_user
from sqlalchemy.orm import Session

from core.services.common import Actor


def panel():
    """The app's Panel (admin_panel.web.app): settings, db, the scoped session of Flask-Admin's views."""
    return current_app.extensions["codehub"]


@contextmanager
def service_session() -> Iterator[Session]:
    """A plain session for core services (they own their transaction)."""
    with panel().db.sessions() as s:
        yield s


def actor() -> Actor:
    """The logged-in admin (or API token's account) as services record it."""
    return current_user.actor
