"""The panel at size: dashboard, analytics page, top-up queue, transactions list (first and last page), the
analytics the JSON endpoints call, and the CSV export. Each measure runs in a child process with a cut-off, so a query
that never finishes is reported as such instead of stopping the run."""

from __future__ import annotations

import multiprocessing
import re
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.datagen import BENCH_FIELD_KEY

PASSWORD = "correct-horse-battery-1616"


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _app(url: str, data_dir: Path):
    from admin_panel import create_app
    from core.config import Settings

    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        field_encryption_key=_key(data_dir),
        secret_key="bench-secret-key",
        vodafone_cash_number="01099998888",
        _env_file=None,
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def _key(data_dir: Path) -> str:
    return BENCH_FIELD_KEY


def ensure_admin(url: str, data_dir: Path) -> None:
    from core.errors import DomainError
    from core.services.admins import create_admin

    app = _app(url, data_dir)
    with app.extensions["codehub"].db.sessions() as s:
        try:
            create_admin(s, "bench", PASSWORD, "owner")
        except DomainError as err:
            if "exist" not in str(err) and "taken" not in str(err):
                raise
    app.extensions["codehub"].db.dispose()


def _client(app):
    c = app.test_client()
    page = c.get("/admin/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    r = c.post("/admin/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, r.status_code
    return c


def _timed_get(client, path: str) -> float:
    start = time.perf_counter()
    r = client.get(path)
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return elapsed


def last_page_path(client) -> str:
    """The list's own link to its last (oldest) page."""
    html = client.get("/admin/transactions/").text
    m = re.search(r'href="([^"]*)"[^>]*>\s*(?:Oldest|&raquo;|»)\s*</a>', html)
    if m:
        return m.group(1).replace("&amp;", "&")
    pages = [int(p) for p in re.findall(r"[?&]page=(\d+)", html)]
    if pages and max(pages) > 1:
        return f"/admin/transactions/?page={max(pages)}"  # a numbered pager: its last page (OFFSET)
    return "/admin/transactions/?sort=1"  # the previous/next pager: the oldest rows are the list sorted oldest first


def _measure(kind: str, url: str, data_dir: Path, repeat: int, out) -> None:
    try:
        out.send(("ok", _measure_inner(kind, url, data_dir, repeat)))
    except BaseException as err:  # reported, not raised: the run goes on
        out.send(("error", f"{type(err).__name__}: {err}"[:300]))


def _measure_inner(kind: str, url: str, data_dir: Path, repeat: int) -> dict:
    app = _app(url, data_dir)
    db = app.extensions["codehub"].db
    now = datetime.now(timezone.utc)
    if kind.startswith("analytics."):
        from core.services import analytics

        name = kind.split(".", 1)[1]
        call = {
            "financial": lambda s: analytics.financial(s, now=now),
            "engagement": lambda s: analytics.engagement(s, now=now),
            "platform_performance": lambda s: analytics.platform_performance(s, now=now),
            "monthly_report": lambda s: analytics.monthly_report(s, now.year, now.month),
            "success_metrics": lambda s: analytics.success_metrics(s, _last_12_months(now)),
        }[name]
        times = []
        for _ in range(repeat):
            with db.sessions() as s:
                start = time.perf_counter()
                call(s)
                times.append(time.perf_counter() - start)
        return {"times": times}
    client = _client(app)
    if kind == "export":
        return _export(client, repeat)
    path = {
        "floor": "/admin/account/password",
        "dashboard": "/admin/",
        "analytics": "/admin/analytics/?from={}&to={}".format(
            *(m.strftime("%Y-%m") for m in (_last_12_months(now).first, _last_12_months(now).last))
        ),
        "topups": "/admin/topups/",
        "transactions.first": "/admin/transactions/",
        "transactions.student": "/admin/transactions/?flt0_student_id_equals=7",
        "transactions.search": "/admin/transactions/?search=Student+77+Name",
    }.get(kind)
    if kind == "transactions.last":
        path = last_page_path(client)
    client.get(path)  # warm: templates compiled, statements cached
    return {"times": [_timed_get(client, path) for _ in range(repeat)], "path": path}


def _last_12_months(now: datetime):
    """The Analytics page's longest preset: the 12 Cairo months up to this one (the generated year)."""
    from core.services import analytics

    return analytics.month_period(None, None, now=now, default_months=12)


def _export(client, repeat: int) -> dict:
    before = rss_mb()
    firsts, totals, rows, after = [], [], 0, []
    for _ in range(repeat):
        start = time.perf_counter()
        r = client.get("/admin/transactions/export/csv/", buffered=False)
        first = None
        lines, tail = 0, b""
        for chunk in r.response:
            if first is None:
                first = time.perf_counter() - start
            chunk = chunk.encode() if isinstance(chunk, str) else chunk
            lines += chunk.count(b"\n")
            tail = (tail + chunk)[-400:]
        r.close()
        totals.append(time.perf_counter() - start)
        firsts.append(first or 0.0)
        rows = lines - 1  # the header
        after.append(rss_mb())
    notice = b"limit" in tail.lower() or b"truncated" in tail.lower()
    return {
        "first_byte": firsts,
        "total": totals,
        "rows": rows,
        "rss_before": before,
        "rss_peak": rss_mb("VmHWM"),
        "rss_after": after,
        "notice": notice,
    }


def measure(kind: str, url: str, data_dir: Path, *, repeat: int = 3, cutoff: float = 60.0) -> dict:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_measure, args=(kind, url, data_dir, repeat, child))
    proc.start()
    if parent.poll(cutoff):
        status, value = parent.recv()
        proc.join()
        return value if status == "ok" else {"error": value}
    proc.kill()
    proc.join()
    return {"cutoff": cutoff}


def median_ms(result: dict, key: str = "times") -> float | None:
    values = result.get(key)
    return statistics.median(values) * 1000 if values else None
