"""Idle TCP connections never lock real clients out of the web app (issue 20, #10).

The real waitress server with the product's options, on 127.0.0.1 only, bounded in count and time: 150 connections
that send nothing (more than waitress's default limit of 100, which locked /healthz out for minutes), then a real
client must be answered at once, and the idle ones are closed by the server after the channel timeout.
"""

from __future__ import annotations

import socket
import threading
import time

import waitress

from admin_panel import create_app
from admin_panel.web.server import server_options
from tests.helpers import make_settings

IDLE = 150


def get(port: int, path: str, timeout: float = 3.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_idle_connections_are_dropped_and_a_real_client_is_served(sqlite_url, tmp_path):
    settings = make_settings(sqlite_url, tmp_path, admin_channel_timeout=2)
    options = {**server_options(settings), "port": 0}  # a free port
    assert options["connection_limit"] == 1000 and options["channel_timeout"] == 2
    server = waitress.create_server(create_app(settings), **options)
    port = server.effective_port
    assert port != 0
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    idle = []
    try:
        for _ in range(IDLE):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=3))
        started = time.monotonic()
        answer = get(port, "/healthz")
        assert answer.startswith(b"HTTP/1.1 200") and b'"ok"' in answer
        assert time.monotonic() - started < 3  # answered while 150 idle connections are open
        deadline = time.monotonic() + 10
        closed = 0
        for sock in idle:  # the server closes them: a read returns b"" (EOF)
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                closed += sock.recv(1) == b""
            except (TimeoutError, OSError):
                pass
        assert closed == IDLE
    finally:
        for sock in idle:
            sock.close()
        server.close()
        thread.join(5)
