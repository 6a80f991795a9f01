"""The analytics page: the owner's success metrics over a chosen period of Cairo months, each a number and a chart
(js/charts.js, shared with the dashboard). The figures come from core.services.analytics.success_metrics."""

from __future__ import annotations

from decimal import Decimal

from flask import request
from flask_admin import expose

from admin_panel.panel.base import SecureView, fmt_money, readable
from admin_panel.web.context import service_session
from admin_panel.web.errors import admin_message
from core.errors import InvalidInput
from core.models import AdminRole, BookingStatus
from core.services import analytics
from core.timeutil import CAIRO, utcnow

PRESETS = ((3, "Last 3 months"), (6, "Last 6 months"), (12, "Last 12 months"))
OUTCOME_COLORS = {"PENDING": "#f0ad4e", "CONFIRMED": "#0d6efd", "COMPLETED": "#28a745", "CANCELLED": "#dc3545"}


class AnalyticsView(SecureView):
    roles = frozenset({AdminRole.OWNER, AdminRole.FINANCE})

    @expose("/")
    def index(self):
        now = utcnow()
        asked = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
        error = None
        try:
            period = analytics.month_period(asked["from"], asked["to"], now=now)
        except InvalidInput as err:
            error = admin_message(err)
            period = analytics.month_period(None, None, now=now)
        with service_session() as s:
            metrics = analytics.success_metrics(s, period)
        return self.render(
            "admin_panel/analytics.html",
            m=metrics,
            error=error,
            asked=asked if error else {"from": metrics.months[0], "to": metrics.months[-1]},
            presets=_presets(now),
            charts=_charts(metrics),
            this_month=now.astimezone(CAIRO).strftime("%Y-%m"),
            status_names=[(s.value, readable(s.value)) for s in BookingStatus],
            fmt_money=fmt_money,
            pct=pct,
            growth=growth,
        )


def pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def growth(value: Decimal | None) -> str:
    return "—" if value is None else f"{'+' if value > 0 else ''}{value}%"


def _presets(now) -> list[tuple[str, str, str]]:
    """(label, from, to) of the preset periods, each ending with this Cairo month."""
    out = []
    for months, label in PRESETS:
        p = analytics.month_period(None, None, now=now, default_months=months)
        out.append((label, p.months[0].strftime("%Y-%m"), p.last.strftime("%Y-%m")))
    this_year = now.astimezone(CAIRO)
    out.append(("This year", f"{this_year.year:04d}-01", this_year.strftime("%Y-%m")))
    return out


def _charts(m) -> list[dict]:
    """The page's charts for js/charts.js: money and percentages as strings, a missing rate as null."""
    months = m.months
    return [
        {
            "canvas": "chart-mrr",
            "type": "bar",
            "labels": months,
            "unit": "EGP",
            "datasets": [{"label": "Enrollment revenue", "data": [str(r.revenue) for r in m.revenue]}],
        },
        {
            "canvas": "chart-completion",
            "type": "bar",
            "horizontal": True,
            "labels": [p.name for p in m.completion],
            "unit": "%",
            "datasets": [
                {"label": "Completion rate", "data": [_opt(p.rate_pct) for p in m.completion], "color": "#6f42c1"}
            ],
        },
        {
            "canvas": "chart-bookings",
            "type": "bar",
            "stacked": True,
            "whole": True,
            "labels": months,
            "datasets": [
                {
                    "label": readable(s.value),
                    "data": [b.by_status[s.value] for b in m.bookings],
                    "color": OUTCOME_COLORS[s.value],
                }
                for s in BookingStatus
            ],
        },
        {
            "canvas": "chart-mentors",
            "type": "bar",
            "horizontal": True,
            "labels": [x.name for x in m.mentors],
            "unit": "hours",
            "datasets": [
                {"label": "Booked hours", "data": [str(x.booked_hours) for x in m.mentors], "color": "#17a2b8"}
            ],
        },
        {
            "canvas": "chart-adoption",
            "type": "line",
            "labels": months,
            "unit": "%",
            "datasets": [{"label": "Wallet adoption", "data": [_opt(a.share_pct) for a in m.adoption]}],
        },
        {
            "canvas": "chart-clv",
            "type": "bar",
            "labels": [c.month for c in m.cohorts],
            "unit": "EGP",
            "datasets": [
                {"label": "Net paid per student", "data": [_opt(c.value) for c in m.cohorts], "color": "#20c997"}
            ],
        },
    ]


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
