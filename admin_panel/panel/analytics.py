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


def _chart(canvas: str, kind: str, labels: list[str], *datasets: dict, **options) -> dict:
    """One chart for js/charts.js (CodeHubCharts.draw): options are unit, stacked, horizontal, whole."""
    return {"canvas": canvas, "type": kind, "labels": labels, "datasets": list(datasets), **options}


def _series(label: str, values, color: str | None = None) -> dict:
    """A dataset: money and rates as strings (Decimal, never float), a missing rate as null (a gap)."""
    data = [v if isinstance(v, int) else _opt(v) for v in values]
    return {"label": label, "data": data, **({"color": color} if color else {})}


def _charts(m) -> list[dict]:
    """The page's charts, one per metric."""
    return [
        _chart("chart-mrr", "bar", m.months, _series("Enrollment revenue", [r.revenue for r in m.revenue]), unit="EGP"),
        _chart(
            "chart-completion",
            "bar",
            [p.name for p in m.completion],
            _series("Completion rate", [p.rate_pct for p in m.completion], "#6f42c1"),
            unit="%",
            horizontal=True,
        ),
        _chart(
            "chart-bookings",
            "bar",
            m.months,
            *(
                _series(readable(s.value), [b.by_status[s.value] for b in m.bookings], OUTCOME_COLORS[s.value])
                for s in BookingStatus
            ),
            stacked=True,
            whole=True,
        ),
        _chart(
            "chart-mentors",
            "bar",
            [x.name for x in m.mentors],
            _series("Booked hours", [x.booked_hours for x in m.mentors], "#17a2b8"),
            unit="hours",
            horizontal=True,
        ),
        _chart(
            "chart-adoption", "line", m.months, _series("Wallet adoption", [a.share_pct for a in m.adoption]), unit="%"
        ),
        _chart(
            "chart-clv",
            "bar",
            [c.month for c in m.cohorts],
            _series("Net paid per student", [c.value for c in m.cohorts], "#20c997"),
            unit="EGP",
        ),
    ]


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
