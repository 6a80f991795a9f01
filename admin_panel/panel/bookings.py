"""Mentorship bookings: PENDING first; confirm with a Cairo date, complete, cancel with refund."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import case

from admin_panel.panel.base import (
    STATUS_CHOICES,
    SecureModelView,
    age,
    enum_formatter,
    fmt_money,
    fmt_number,
    fmt_time,
    money_formatter,
    parse_cairo_datetime,
    parse_int,
)
from admin_panel.web.context import actor, service_session
from admin_panel.web.errors import admin_message
from core.errors import DomainError, NotFound, ReasonRequired
from core.models import AdminRole, BookingStatus, MentorshipBooking
from core.services import mentorship
from core.services.mentorship import BookingInfo
from core.timeutil import CAIRO, utcnow


def _id_link(view, ctx, model, name):
    return Markup(f'<a href="{url_for(".booking", id=model.id)}">#{fmt_number(model.id)}</a>')


def _open_cell(view, ctx, model, name):
    if model.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED):
        label = _("Confirm…") if model.status == BookingStatus.PENDING else _("Manage…")
        return Markup(
            f'<a class="btn btn-sm btn-outline-primary" href="{url_for(".booking", id=model.id)}">{escape(label)}</a>'
        )
    return ""


class BookingView(SecureModelView):
    roles = frozenset({AdminRole.OWNER, AdminRole.MENTOR})
    column_list = ["id", "student", "mentor", "duration", "total_cost", "status", "session_date", "created_at", "open"]
    column_labels = {
        "id": "#",
        "student": _l("Student"),
        "mentor": _l("Mentor"),
        "status": _l("Status"),
        "duration": _l("Duration"),
        "total_cost": _l("Cost"),
        "session_date": _l("Session (Cairo)"),
        "created_at": _l("Booked"),
        "open": "",
        "student.full_name": _l("student"),
        "mentor.full_name": _l("mentor"),
        "student_notes": _l("notes"),
    }
    column_sortable_list = ["id", "status", "session_date", "created_at", "duration"]
    column_choices = {"status": STATUS_CHOICES}
    column_filters = ["status", "mentor.full_name", "student.full_name"]
    column_searchable_list = ["student.full_name", "mentor.full_name", "student_notes"]
    column_formatters = {
        "id": _id_link,
        "student": lambda v, c, m, n: m.student.full_name,
        "mentor": lambda v, c, m, n: m.mentor.full_name,
        "total_cost": money_formatter("total_cost"),
        "status": enum_formatter("status"),
        "session_date": lambda v, c, m, n: fmt_time(m.session_date),
        "duration": lambda v, c, m, n: minutes(m.duration),
        "created_at": lambda v, c, m, n: _("%(age)s ago", age=age(m.created_at)),
        "open": _open_cell,
    }

    def _own(self, query):
        return query.filter(mentorship.admin_booking_scope(current_user.role, current_user.mentor_user_id))

    def get_query(self):
        return self._own(super().get_query())

    def get_count_query(self):
        return self._own(super().get_count_query())

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        if sort_column is not None:
            return super()._apply_sorting(query, joins, sort_column, sort_desc)
        status = MentorshipBooking.status
        rank = case((status == BookingStatus.PENDING, 0), (status == BookingStatus.CONFIRMED, 1), else_=2)
        return query.order_by(
            rank,
            case((status == BookingStatus.PENDING, MentorshipBooking.created_at), else_=None),
            case((status == BookingStatus.CONFIRMED, MentorshipBooking.session_date), else_=None),
            MentorshipBooking.created_at.desc(),
        ), joins

    def list_header_html(self) -> str:
        with service_session() as s:
            upcoming = mentorship.upcoming_sessions(s, current_user.role, current_user.mentor_user_id, now=utcnow())
        if not upcoming:
            none = _("No upcoming confirmed sessions.")
            return f'<p class="text-muted small">{escape(none)}</p>'
        rows = "".join(
            f"<tr><td><a href='{url_for('.booking', id=b.id)}'>#{fmt_number(b.id)}</a></td>"
            f"<td>{escape(fmt_time(b.session_date))}</td><td>{escape(b.student_name)}</td>"
            f"<td>{escape(b.mentor_name)}</td><td>{escape(minutes(b.duration))}</td></tr>"
            for b in upcoming
        )
        title = _("Upcoming confirmed sessions (Cairo time)")
        return (
            '<div class="card panel-card mb-3" id="upcoming"><div class="card-body py-2">'
            f'<h6 class="mb-2">{escape(title)}</h6>'
            '<table class="table table-sm mb-0"><tbody>' + rows + "</tbody></table></div></div>"
        )

    def _load(self, booking_id: int) -> BookingInfo:
        """The booking if this account may act on it (a mentor only on their own), else 404."""
        try:
            with service_session() as s:
                return mentorship.get_booking_for_admin(s, booking_id, current_user.role, current_user.mentor_user_id)
        except NotFound:
            abort(404)

    @expose("/booking/<id>")
    def booking(self, id):
        b = self._load(parse_int(id))
        now = utcnow()
        with service_session() as s:
            latest = mentorship.latest_session_date(s, now=now)
        return self.render(
            "admin_panel/booking.html",
            b=b,
            fmt_money=fmt_money,
            fmt_time=fmt_time,
            min_date=now.astimezone(CAIRO).strftime("%Y-%m-%dT%H:%M"),
            max_date=latest.astimezone(CAIRO).strftime("%Y-%m-%dT%H:%M"),
        )

    @expose("/booking/<id>/confirm", methods=["POST"])
    def confirm(self, id):
        booking_id = parse_int(id)
        self._load(booking_id)
        try:
            when = parse_cairo_datetime(request.form.get("session_date"))
        except ValueError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".booking", id=booking_id))
        if when is None:
            flash(_("Choose the session date and time (Africa/Cairo)."), "error")
            return redirect(url_for(".booking", id=booking_id))
        reschedule = request.form.get("reschedule") == "1"
        try:
            with service_session() as s:
                info = mentorship.confirm(
                    s, booking_id, when, request.form.get("notes") or None, actor=actor(), reschedule=reschedule
                )
        except DomainError as err:
            flash(_booking_problem(booking_id, err), "error")
        else:
            said = (
                _("Booking #%(id)s rescheduled for %(time)s (Cairo). The student will be notified.")
                if reschedule
                else _("Booking #%(id)s confirmed for %(time)s (Cairo). The student will be notified.")
            )
            flash(said % {"id": fmt_number(booking_id), "time": fmt_time(info.session_date)}, "success")
        return redirect(url_for(".booking", id=booking_id))

    @expose("/booking/<id>/complete", methods=["POST"])
    def complete(self, id):
        booking_id = parse_int(id)
        self._load(booking_id)
        try:
            with service_session() as s:
                mentorship.complete(s, booking_id, actor=actor())
        except DomainError as err:
            flash(_booking_problem(booking_id, err), "error")
        else:
            flash(
                _("Booking #%(id)s completed; the student is asked for a rating.", id=fmt_number(booking_id)), "success"
            )
        return redirect(url_for(".booking", id=booking_id))

    @expose("/booking/<id>/cancel", methods=["POST"])
    def cancel(self, id):
        booking_id = parse_int(id)
        self._load(booking_id)
        try:
            with service_session() as s:
                result = mentorship.cancel(s, booking_id, request.form.get("reason"), actor=actor())
        except ReasonRequired:
            flash(_("Cancelling needs a reason (the student sees it); nothing was changed."), "error")
        except DomainError as err:
            flash(_booking_problem(booking_id, err), "error")
        else:
            flash(
                _(
                    "Booking #%(id)s cancelled; %(refund)s refunded (student balance %(balance)s).",
                    id=fmt_number(booking_id),
                    refund=fmt_money(result.refund),
                    balance=fmt_money(result.balance),
                ),
                "success",
            )
        return redirect(url_for(".booking", id=booking_id))


def minutes(duration: int) -> str:
    return _("%(n)s min", n=fmt_number(duration))


def _booking_problem(booking_id: int, err: DomainError) -> str:
    return _("Booking #%(id)s: %(problem)s", id=fmt_number(booking_id), problem=admin_message(err))
