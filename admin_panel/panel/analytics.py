"""The analytics page: the owner's success metrics over a chosen period of Cairo months, each a number and a chart
(js/charts.js, shared with the dashboard). The figures come from core.services.analytics.success_metrics."""

from __future__ import annotations

from decimal import Decimal

from flask import request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin_panel.panel.base import SecureView, fmt_money, fmt_number, readable
from admin_panel.web import i18n
from admin_panel.web.context import service_session
from admin_panel.web.errors import admin_message
from core.errors import InvalidInput
from core.models import AdminRole, BookingStatus
from core.services import analytics
from core.timeutil import CAIRO, utcnow
from core.words import digits

PRESETS = ((3, _l("Last 3 months")), (6, _l("Last 6 months")), (12, _l("Last 12 months")))
# month_period's refusals, said from the error's details (its English sentence is for logs and the API)
PERIOD_ERRORS = {  # (reason, field)
    ("month_format", "from"): _l("Choose the 'from' month as YYYY-MM, e.g. %(example)s."),
    ("month_format", "to"): _l("Choose the 'to' month as YYYY-MM, e.g. %(example)s."),
    ("period_order", "from"): _l(
        "The period starts (%(first)s) after it ends (%(last)s): choose a 'from' month on or before the 'to' month."
    ),
    ("period_future", "to"): _l("The period cannot end after this month (%(this_month)s)."),
    ("period_too_long", "from"): _l("A period is at most %(most)s months."),
}
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
            error = period_error(err)
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
            fmt_number=fmt_number,
            month=month,
            hours=hours,
            pct=pct,
            growth=growth,
        )


def period_error(err: InvalidInput) -> str:
    """The sentence for a refused period, in the admin's language, from the error's reason and months."""
    d = err.details
    sentence = PERIOD_ERRORS.get((d.get("reason"), d.get("field")))
    if sentence is None:
        return admin_message(err)
    months = {k: month(v) for k, v in d.items() if k in ("example", "first", "last", "this_month")}
    return str(sentence) % {"most": fmt_number(d.get("most")), **months}


def month(value) -> str:
    """A Cairo month, `2026-12`, in the reader's digits (as the dashboard writes its days and weeks)."""
    return digits(str(value), i18n.language())


def hours(value: Decimal | None) -> str:
    return "—" if value is None else _("%(n)s h", n=fmt_number(value))


def pct(value: Decimal | None) -> str:
    return "—" if value is None else digits("%s%%" % value, i18n.language())


def growth(value: Decimal | None) -> str:
    return "—" if value is None else digits("%s%s%%" % ("+" if value > 0 else "", value), i18n.language())


def _presets(now) -> list[tuple[str, str, str]]:
    """(label, from, to) of the preset periods, each ending with this Cairo month."""
    out = []
    for months, label in PRESETS:
        p = analytics.month_period(None, None, now=now, default_months=months)
        out.append((str(label), p.months[0].strftime("%Y-%m"), p.last.strftime("%Y-%m")))
    this_year = now.astimezone(CAIRO)
    out.append((_("This year"), f"{this_year.year:04d}-01", this_year.strftime("%Y-%m")))
    return out


def _chart(canvas: str, kind: str, labels: list[str], *datasets: dict, **options) -> dict:
    """One chart for js/charts.js (CodeHubCharts.draw): options are unit, stacked, horizontal, whole."""
    return {"canvas": canvas, "type": kind, "labels": labels, "datasets": list(datasets), **options}


def _series(label: str, values, color: str | None = None) -> dict:
    """A dataset: money and rates as strings (Decimal, never float), a missing rate as null (a gap)."""
    data = [v if isinstance(v, int) else _opt(v) for v in values]
    return {"label": label, "data": data, **({"color": color} if color else {})}


def _charts(m) -> list[dict]:
    """The page's charts, one per metric, their words in the admin's language (the numbers on the axes: Chart.js
    with the page's lang, js/charts.js)."""
    months = [month(x) for x in m.months]
    currency = fmt_money(0).split(" ", 1)[-1]  # as the dashboard's charts: EGP, ج.م
    return [
        _chart(
            "chart-mrr",
            "bar",
            months,
            _series(_("Enrollment revenue"), [r.revenue for r in m.revenue]),
            unit=currency,
        ),
        _chart(
            "chart-completion",
            "bar",
            [p.name for p in m.completion],
            _series(_("Completion rate"), [p.rate_pct for p in m.completion], "#6f42c1"),
            unit="%",
            horizontal=True,
        ),
        _chart(
            "chart-bookings",
            "bar",
            months,
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
            _series(_("Booked hours"), [x.booked_hours for x in m.mentors], "#17a2b8"),
            unit=_("hours"),
            horizontal=True,
        ),
        _chart(
            "chart-adoption", "line", months, _series(_("Wallet adoption"), [a.share_pct for a in m.adoption]), unit="%"
        ),
        _chart(
            "chart-clv",
            "bar",
            [month(c.month) for c in m.cohorts],
            _series(_("Net paid per student"), [c.value for c in m.cohorts], "#20c997"),
            unit=currency,
        ),
    ]


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
