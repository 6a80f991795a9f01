"""Fuzz the panel as the owner: every list view's search, filters, sort and page, every export, every form
route and every JSON endpoint, with a hostile corpus. No answer may be a 5xx, and the money tables
(balances and the ledger) must not change. Bounded: each parameter gets a rotating slice of the corpus,
so every value meets every kind of input somewhere while the run stays well under a minute.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import func, select

from core.models import Transaction, User
from core.services.wallet import check_ledger
from tests.panel.helpers import csrf_from

HOSTILE = [
    "",
    " ",
    "a" * 5000,
    "\x00",
    "a\x00b",
    "\x1b[31mred",
    "\r\n=1+1",
    "\t",
    "\x7f\x85\u2028",
    "-1",
    "0",
    "-0",
    "99999999999999999999999",
    "-99999999999999999999999",
    "9" * 400,
    "1e309",
    "1e-7",
    "-1e5",
    "NaN",
    "sNaN",
    "Infinity",
    "0x1F",
    "1_000",
    "١٢٣",
    "۱۲۳٫۵",
    "٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩",
    "0001-01-01",
    "9999-12-31",
    "2026-13-45T25:61",
    "0000-00-00",
    "' OR 1=1--",
    "%",
    "_",
    "%_%_" * 50,
    "\\",
    '"; DROP TABLE users; --',
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script>",
    "{{7*7}}",
    "${7*7}",
    "../../etc/passwd",
    "//evil.example",
    "javascript:alert(1)",
    '=HYPERLINK("http://evil.example")',
    "+1+cmd|' /C calc'!A0",
    "@SUM(1)",
    "\u202egnp.exe",
    "😀" * 300,
    "null",
    "[]",
    "{}",
    "true",
]
LONG = "z" * 100_000  # sent to search and text inputs only (the cost is in the server, not the idea)
PER_PARAM = 9  # corpus values tried per parameter (rotating offset)
JSON_BODIES = [
    None,
    [],
    "text",
    5,
    {"status": None},
    {"status": "APPROVED", "adminNotes": "\ud800"},
    {"sessionDate": "0001-01-01T00:00+14:00"},
    {"sessionDate": "9999-12-31T23:59-14:00"},
    {"hourlyRate": 1e308},
    {"hourlyRate": "NaN"},
    {"hourlyRate": "-5"},
    {"hourlyRate": True},
    {"hourlyRate": "1" * 5000},
    {"isAvailable": "yes"},
    {"durations": [30] * 10000},
]
RAW_BODIES = [
    ("[" * 5000 + "]" * 5000, "application/json"),
    ('{"a":' * 3000 + "1" + "}" * 3000, "application/json"),
    ("{not json", "application/json"),
    ("1" * 5000, "application/json"),
    ("\xff\xfe", "application/json"),
    ("status=APPROVED", "application/x-www-form-urlencoded"),
    ("<x/>", "text/xml"),
    ("", "text/plain"),
]
FORM_FIELDS = [
    "amount",
    "reason",
    "notes",
    "nonce",
    "session_date",
    "reschedule",
    "blocked",
    "user_id",
    "rate",
    "bio",
    "available",
    "text",
    "audience",
    "platform_id",
    "username",
    "password",
    "role",
    "mentor_user_id",
    "active",
    "current",
    "name",
    "description",
    "price",
    "is_active",
    "access_days",
    "platform",
    "position",
    "title",
    "body",
    "days",
    "action",
    "rowid",
    "url",
    "id",
    "admin_id",
    "vodafone_cash_number",
    "signup_bonus",
    "durations",
    "min_topup",
    "max_topup",
    "max_pending_topups",
    "max_topups_per_day",
    "mentor_default_rate",
    "mentorship_available",
    "max_pending_bookings",
    "stale_topup_hours",
    "next",
]


def _slice(offset: int) -> list[str]:
    return [HOSTILE[(offset + i * 7) % len(HOSTILE)] for i in range(PER_PARAM)]


def _money_state(panel):
    with panel.session() as s:
        balances = s.execute(select(func.count(User.id), func.sum(User.balance))).one()
        ledger = s.execute(
            select(Transaction.id, Transaction.status, Transaction.amount, Transaction.user_id).order_by(Transaction.id)
        ).all()
        return balances, [tuple(r) for r in ledger], check_ledger(s)


class Fuzzer:
    def __init__(self, client, csrf):
        self.client, self.csrf = client, csrf
        self.requests, self.values = 0, set()
        self.failures: list[tuple] = []

    def send(self, method, url, value=None, **kwargs):
        self.requests += 1
        if value is not None:
            self.values.add(json.dumps(value)[:200])
        r = self.client.open(url, method=method, **kwargs)
        if r.status_code >= 500:
            self.failures.append((method, url[:120], repr(value)[:60], r.status_code))
        return r


def _model_views(app):
    admin = app.extensions["admin"][0]
    return [v for v in admin._views if isinstance(v, ModelView)]


@pytest.mark.slow
def test_fuzz_every_input_of_the_panel(panel, owner):
    before = _money_state(panel)
    fz = Fuzzer(owner, owner.csrf)
    offset = itertools.count()

    # 1. list views: search, every filter, sort, page, page size; and every export with hostile filters
    for view in _model_views(panel.app):
        base = f"/{view.endpoint}/" if view.url is None else view.url.rstrip("/") + "/"
        params = ["search", "sort", "desc", "page", "page_size"] + [f"flt0_{key}" for key in (view._filter_args or {})]
        for param in params:
            for value in _slice(next(offset)):
                fz.send("GET", base, value, query_string={param: value})
        fz.send("GET", base, LONG, query_string={"search": LONG})
        for key in list(view._filter_args or {})[:3]:
            fz.send("GET", base, LONG, query_string={f"flt0_{key}": LONG})
        if view.can_export:
            for export_type in view.export_types:
                for key in view._filter_args or {}:
                    for value in _slice(next(offset))[:3]:
                        fz.send(
                            "GET",
                            f"{base}export/{export_type}/",
                            value,
                            query_string={f"flt0_{key}": value, "search": value},
                        )

    # 2. every GET page (ids hostile and real) with hostile query parameters
    rules = [
        r for r in panel.app.url_map.iter_rules() if not r.endpoint.endswith("static") and r.endpoint != "auth.logout"
    ]
    for rule in rules:
        if "GET" not in rule.methods:
            continue
        for value in _slice(next(offset))[:4]:
            ident = value if re.fullmatch(r"[^/?#%]+", value or "-") and value else "1"
            url = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", lambda _m: ident, rule.rule)
            fz.send(
                "GET",
                url,
                value,
                query_string={
                    "month": value,
                    "text": value,
                    "audience": value,
                    "platform_id": value,
                    "preview": "1",
                    "id": value,
                    "next": value,
                    "status": value,
                    "limit": value,
                },
            )

    # 3. every form route: every field the panel knows, hostile (ids that exist nowhere: nothing to change)
    for rule in rules:
        for method in sorted(rule.methods & {"POST"}):
            url = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "999999", rule.rule)
            if rule.rule.startswith("/api/"):
                continue
            for value in _slice(next(offset)):
                data = {field: value for field in FORM_FIELDS}
                data["rowid"] = [value, "999999"]
                data["csrf_token"] = fz.csrf
                fz.send(method, url, value, data=data)
            fz.send(
                method,
                url,
                LONG,
                data={
                    **{f: LONG for f in ("text", "reason", "notes", "bio", "name", "description", "body")},
                    "csrf_token": fz.csrf,
                },
            )
    fz.csrf = csrf_from(owner.get("/admin/settings/").text)  # the logout-free walk keeps the session valid

    # 4. JSON endpoints: hostile bodies, raw bodies, wrong content types, hostile ids
    pending = panel.pending_topups()[0].id
    headers = {"X-CSRFToken": owner.csrf}
    for path in (
        f"/api/admin/topup-requests/{pending}",
        "/api/admin/mentorship/2/confirm",
        "/api/admin/mentorship/settings",
    ):
        for body in JSON_BODIES:
            fz.send("PUT", path, body, json=body, headers=headers)
        for value in HOSTILE:
            body = {
                "status": value,
                "adminNotes": value,
                "sessionDate": value,
                "hourlyRate": value,
                "isAvailable": value,
            }
            fz.send("PUT", path, value, json=body, headers=headers)
        for raw, ctype in RAW_BODIES:
            fz.send("PUT", path, raw, data=raw.encode("utf-8", "surrogatepass"), content_type=ctype, headers=headers)
    for value in ("99999999999999999999999", "-1", "0", "1e3", "١٢٣"):
        fz.send("PUT", f"/api/admin/topup-requests/{value}", value, json={"status": "REJECTED"}, headers=headers)
        fz.send("PUT", f"/api/admin/mentorship/{value}/confirm", value, json={"sessionDate": "x"}, headers=headers)
    fz.send(
        "PUT",
        "/api/admin/mentorship/settings",
        "2 MiB",
        data="x" * (2 * 1024 * 1024),
        content_type="application/json",
        headers=headers,
    )
    for value in HOSTILE:
        fz.send("GET", "/api/admin/topup-requests", value, query_string={"status": value, "limit": value})

    print(f"\nfuzz: {fz.requests} requests, {len(fz.values)} distinct hostile values, {len(HOSTILE)} corpus strings")
    assert fz.failures == [], fz.failures[:20]
    assert fz.requests > 1500
    balances, ledger, problems = _money_state(panel)
    assert (balances, ledger) == before[:2] and problems == []
    assert owner.get("/admin/").status_code == 200  # still logged in, still working
