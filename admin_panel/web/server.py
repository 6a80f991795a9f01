"""Serve the panel with waitress after migrating the database."""

from __future__ import annotations

import logging

import waitress

from admin_panel.web.app import PANEL, create_app
from core.config import Settings
from core.db import migrate
from core.logs import configure_logging

log = logging.getLogger(__name__)


def serve(settings: Settings, *, debug: bool = False) -> None:
    configure_logging(settings.log_level, settings.log_format)
    migrate(settings.effective_database_url)
    app = create_app(settings)
    url = f"http://{settings.admin_host}:{settings.admin_port}{PANEL}/"
    print(f"CodeHub admin panel on {url}", flush=True)
    if debug:
        app.run(host=settings.admin_host, port=settings.admin_port, debug=True, use_reloader=False)
        return
    waitress.serve(app, **server_options(settings))  # returns on Ctrl-C (waitress takes the KeyboardInterrupt)
    print("CodeHub admin panel stopped", flush=True)


def server_options(settings: Settings) -> dict:
    """waitress, so that idle sockets never lock real clients out: its default connection limit (100) was taken
    by 100 connections that send nothing, and a new one to /healthz got no answer for minutes. Idle connections
    are closed after ADMIN_CHANNEL_TIMEOUT seconds (checked every 2 s), up to ADMIN_CONNECTION_LIMIT are held,
    and poll() replaces select() so more than 1,024 sockets work."""
    return dict(
        host=settings.admin_host,
        port=settings.admin_port,
        threads=8,
        ident="codehub",
        channel_timeout=settings.admin_channel_timeout,
        cleanup_interval=2,
        connection_limit=settings.admin_connection_limit,
        asyncore_use_poll=True,
        backlog=2048,
    )
