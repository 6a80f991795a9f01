"""The analytics page (issue 22 #14): the owner's success metrics over a chosen period, each a number and a chart,
with labels a person reads; a bad period is told on the page."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import seed_metrics_school

AUTUMN = "/admin/analytics/?from=2024-09&to=2024-11"


@pytest.fixture
def school_2024(panel):
    """The metrics school in 2024, beside the panel's school (whose history is in the last ten days)."""
    with panel.session() as s:
        seed_metrics_school(s, 2024)
    return panel


def _visible(html: str) -> str:
    """The page's text as read: without scripts, tags and runs of white space."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _rows(html: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table[^>]*id="{table}".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _card(html: str, id_: str) -> str:
    return re.search(rf'id="{id_}">([^<]*)<', html).group(1).strip()


def test_the_page_shows_each_metric_with_its_number(school_2024, finance):
    r = finance.get(AUTUMN)
    assert r.status_code == 200
    html = r.text
    assert _rows(html, "table-mrr") == [
        ["2024-09", "250.00 EGP", "0.0%"],
        ["2024-10", "200.00 EGP", "-20.0%"],
        ["2024-11", "350.00 EGP", "+75.0%"],
    ]
    assert _card(html, "kpi-mrr") == "350.00 EGP"
    rates = {row[0]: row[1:] for row in _rows(html, "table-completion")}
    assert rates["Flask 2024"] == ["4", "2", "1", "50.0%"]
    assert rates["DSA 2024"] == ["2", "3", "1", "33.3%"]
    assert rates["No tasks yet 2024"] == ["0", "0", "0", "—"]
    assert _card(html, "kpi-completion") == "50.0%"
    assert _rows(html, "table-bookings") == [
        ["2024-09", "0", "0", "1", "0", "1"],
        ["2024-10", "0", "0", "0", "1", "1"],
        ["2024-11", "1", "0", "1", "0", "2"],
    ]
    assert '<th class="text-right">Pending</th>' in html and '<th class="text-right">Cancelled</th>' in html
    mentors = {row[0]: row[1:] for row in _rows(html, "table-mentors")}
    assert mentors["Mona 2024"] == ["1.5 h", "2", "4.5", "2"]
    assert mentors["Sami 2024"] == ["0.0 h", "0", "—", "0"]
    assert _rows(html, "table-adoption") == [
        ["2024-09", "3", "2", "66.7%"],
        ["2024-10", "4", "2", "50.0%"],
        ["2024-11", "5", "5", "100.0%"],
    ]
    assert _card(html, "kpi-adoption") == "100.0%"
    assert _rows(html, "table-clv") == [
        ["2024-09", "2", "500.00 EGP", "250.00 EGP"],
        ["2024-10", "1", "350.00 EGP", "350.00 EGP"],
        ["2024-11", "1", "0.00 EGP", "0.00 EGP"],
    ]
    text = _visible(html)
    assert "Utilisation here is booked hours: the length of the sessions" in text and "The welcome credit" in text
    for raw in ("None", "PENDING", "COMPLETED", "CANCELLED", "CONFIRMED", "TOP_UP", "PLATFORM_PURCHASE", "undefined"):
        assert raw not in text, raw
    charts = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)[1])
    mrr = next(c for c in charts if c["canvas"] == "chart-mrr")
    assert mrr["labels"] == ["2024-09", "2024-10", "2024-11"]
    assert mrr["datasets"][0]["data"] == ["250.00", "200.00", "350.00"]  # money as strings, not floats
    assert {d["label"] for d in next(c for c in charts if c["canvas"] == "chart-bookings")["datasets"]} == {
        "Pending",
        "Confirmed",
        "Completed",
        "Cancelled",
    }
    assert all(f'id="{c["canvas"]}"' in html for c in charts)


def test_an_empty_period_shows_dashes_not_errors(school_2024, owner):
    html = owner.get("/admin/analytics/?from=2023-01&to=2023-03").text
    assert [row[2] for row in _rows(html, "table-mrr")] == ["—", "—", "—"]
    assert [row[3] for row in _rows(html, "table-adoption")] == ["—", "—", "—"]
    assert [row[3] for row in _rows(html, "table-clv")] == ["—", "—", "—"]
    assert _card(html, "kpi-completion") == "—" and _card(html, "kpi-adoption") == "—"
    assert "None" not in _visible(html)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("from=2024-11&to=2024-09", "The period starts (2024-11) after it ends (2024-09)"),
        ("from=2024-13&to=2024-11", "Choose the 'from' month as YYYY-MM"),
        ("from=Sept&to=", "Choose the 'from' month as YYYY-MM"),
        ("from=2024-01&to=2099-01", "The period cannot end after this month"),
    ],
)
def test_a_bad_period_is_told_on_the_page(school_2024, owner, query, words):
    r = owner.get(f"/admin/analytics/?{query}")
    assert r.status_code == 200
    error = re.search(r'id="period-error">(.*?)</div>', r.text, re.S)
    assert error and words in error.group(1).replace("&#39;", "'"), r.text[:500]
    assert "Showing the last 6 months instead." in error.group(1)
    assert len(_rows(r.text, "table-mrr")) == 6


def test_the_menu_and_the_seed_page_name_lead_here(school_2024, owner, mentor):
    home = owner.get("/admin/").text
    assert re.search(r'href="/admin/analytics/"[^>]*>\s*Analytics', home)
    r = owner.get("/admin/analytics?from=2024-09&to=2024-11")  # the seed's page name keeps the period
    assert r.status_code == 302 and r.headers["Location"].endswith(AUTUMN)
    page = owner.get(r.headers["Location"]).text
    presets = re.findall(r'href="/admin/analytics/\?from=(\d{4}-\d{2})&amp;to=(\d{4}-\d{2})">([^<]+)</a>', page)
    assert [label for *_, label in presets] == ["Last 3 months", "Last 6 months", "Last 12 months", "This year"]
    assert len({end for _, end, _ in presets}) == 1  # each ends with this month
    assert mentor.get(AUTUMN).status_code == 403


@pytest.mark.slow
def test_the_page_on_postgresql(pg_url, tmp_path):
    from tests.panel.helpers import build_panel, login

    panel = build_panel(pg_url, tmp_path)
    try:
        with panel.session() as s:
            seed_metrics_school(s, 2024)
        c = panel.app.test_client()
        assert login(c, "owner").status_code == 302
        html = c.get(AUTUMN).text
        assert [row[1:] for row in _rows(html, "table-mrr")] == [
            ["250.00 EGP", "0.0%"],
            ["200.00 EGP", "-20.0%"],
            ["350.00 EGP", "+75.0%"],
        ]
        assert [row[3] for row in _rows(html, "table-adoption")] == ["66.7%", "50.0%", "100.0%"]
        assert [row[3] for row in _rows(html, "table-clv")] == ["250.00 EGP", "350.00 EGP", "0.00 EGP"]
        assert _card(html, "kpi-completion") == "50.0%"
    finally:
        panel.db.dispose()
