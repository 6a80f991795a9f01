"""The home page: KPI cards, charts (Chart.js, vendored) and the 'needs attention' list."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin_panel.panel.base import RoleMixin, age, fmt_money, fmt_number, fmt_time
from admin_panel.web import i18n
from admin_panel.web.context import service_session
from admin_panel.web.ops import redis_state
from core.models import AdminRole
from core.services import analytics, mentorship, processes, topups
from core.timeutil import CAIRO, utcnow
from core.words import digits
from core.words.labels import status_name

REVENUE_LABELS = {"PLATFORM_PURCHASE": _l("Platform purchases"), "MENTORSHIP_PAYMENT": _l("Mentorship")}
BOT_STATES = {
    "starting": _l("starting"),
    "running": _l("running"),
    "unreachable": _l("unreachable"),
    "stopped": _l("stopped"),
}


def bot_state(state: str) -> str:
    return str(BOT_STATES.get(state, state))


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
            fmt_number=fmt_number,
            bot_state=bot_state,
            age=age,
        )


def _chart_data(fin, eng, now) -> dict:
    lang = i18n.language()
    today = now.astimezone(CAIRO).date()
    days = [(today - timedelta(days=i)).isoformat() for i in range(29, -1, -1)]
    by_type: dict[str, dict[str, str]] = {t: {} for t in REVENUE_LABELS}
    for row in fin.by_day:
        if row["type"] in by_type:
            by_type[row["type"]][row["period"]] = str(row["amount"])
    revenue = {
        "labels": [digits(d[5:], lang) for d in days],
        "datasets": [
            {"label": str(label), "data": [by_type[t].get(d, "0") for d in days]} for t, label in REVENUE_LABELS.items()
        ],
    }
    topups = {
        "labels": [status_name(k, i18n.core_words()) for k in ("APPROVED", "REJECTED", "PENDING")],
        "counts": [fin.topups["APPROVED"]["count"], fin.topups["REJECTED"]["count"], fin.topups["PENDING"]["count"]],
        "amounts": [str(fin.topups[k]["amount"]) for k in ("APPROVED", "REJECTED", "PENDING")],
    }
    enrollments = {
        "labels": [p["platform"] for p in eng.enrollments_per_platform],
        "data": [p["enrollments"] for p in eng.enrollments_per_platform],
    }
    weeks = {
        "labels": [digits(str(w["week"]), lang) for w in eng.bookings_per_week],
        "data": [w["bookings"] for w in eng.bookings_per_week],
    }
    texts = {  # the words dashboard.js draws, in the admin's language (numbers: Chart.js with the page's lang)
        "currency": fmt_money(0).split(" ", 1)[-1],
        "enrollments": _("Enrollments"),
        "bookings": _("Bookings"),
    }
    return {"revenue": revenue, "topups": topups, "enrollments": enrollments, "bookings": weeks, "texts": texts}
