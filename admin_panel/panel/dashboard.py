"""The home page: KPI cards, charts (Chart.js, vendored) and the 'needs attention' list."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from admin_panel.panel.base import RoleMixin, age, fmt_money, fmt_time
from admin_panel.web.context import service_session
from admin_panel.web.ops import redis_state
from core.models import AdminRole
from core.services import analytics, mentorship, processes, topups
from core.timeutil import CAIRO, utcnow

REVENUE_LABELS = {"PLATFORM_PURCHASE": "Platform purchases", "MENTORSHIP_PAYMENT": "Mentorship"}


class DashboardView(RoleMixin, AdminIndexView):
    roles = frozenset(AdminRole)

    @expose("/")
    def index(self):
        if current_user.role == AdminRole.MENTOR:
            return redirect(url_for("bookings.index_view"))
        now = utcnow()
        with service_session() as s:
            kpis, fin, eng = analytics.dashboard(s, now=now)
            waiting = topups.pending_topups(s, limit=6)
            bookings = mentorship.pending_bookings(s, limit=6)
            bot = processes.status(s, "bot", now=now)
        charts = _chart_data(fin, eng, now)
        return self.render(
            "admin_panel/dashboard.html",
            kpis=kpis,
            fin=fin,
            topups=waiting,
            bookings=bookings,
            charts=charts,
            fmt_money=fmt_money,
            redis_down=redis_state() == "down",
            bot=bot,
            fmt_time=fmt_time,
            age=age,
        )


def _chart_data(fin, eng, now) -> dict:
    today = now.astimezone(CAIRO).date()
    days = [(today - timedelta(days=i)).isoformat() for i in range(29, -1, -1)]
    by_type: dict[str, dict[str, str]] = {t: {} for t in REVENUE_LABELS}
    for row in fin.by_day:
        if row["type"] in by_type:
            by_type[row["type"]][row["period"]] = str(row["amount"])
    revenue = {
        "labels": [d[5:] for d in days],
        "datasets": [
            {"label": label, "data": [by_type[t].get(d, "0") for d in days]} for t, label in REVENUE_LABELS.items()
        ],
    }
    topups = {
        "labels": ["Approved", "Rejected", "Pending"],
        "counts": [fin.topups["APPROVED"]["count"], fin.topups["REJECTED"]["count"], fin.topups["PENDING"]["count"]],
        "amounts": [str(fin.topups[k]["amount"]) for k in ("APPROVED", "REJECTED", "PENDING")],
    }
    enrollments = {
        "labels": [p["platform"] for p in eng.enrollments_per_platform],
        "data": [p["enrollments"] for p in eng.enrollments_per_platform],
    }
    weeks = {
        "labels": [w["week"] for w in eng.bookings_per_week],
        "data": [w["bookings"] for w in eng.bookings_per_week],
    }
    return {"revenue": revenue, "topups": topups, "enrollments": enrollments, "bookings": weeks}
