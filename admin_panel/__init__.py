"""The admin panel: a Flask app factory with Flask-Admin views over the core services."""
from __future__ import annotations

from admin_panel.app import create_app

__all__ = ["create_app"]
