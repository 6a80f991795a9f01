"""Students: list and search, one student's page (ledger, enrollments, bookings), adjust balance, block."""

from __future__ import annotations

import re
import secrets

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from admin_panel.panel.base import SecureModelView, fmt_money, fmt_number, fmt_time, money_formatter, parse_int
from admin_panel.web.context import actor, service_session
from admin_panel.web.errors import admin_message
from core.errors import DomainError, NotFound
from core.models import AdminRole
from core.services import enrollment, mentorship, reconciliation, students, wallet

MAX_REASON = 500


def _name(view, ctx, model, name):
    badge = Markup(' <span class="badge badge-%s">%s</span>')
    blocked = badge % ("danger", _("blocked")) if model.is_blocked else ""
    mentor = badge % ("info", _("mentor")) if model.is_mentor else ""
    return Markup(f'<a href="{url_for(".profile", id=model.id)}">{escape(model.full_name or "—")}</a>{blocked}{mentor}')


class StudentView(SecureModelView):
    roles = frozenset({AdminRole.OWNER, AdminRole.FINANCE})
    column_list = ["id", "full_name", "username", "telegram_id", "balance", "language", "created_at", "last_seen_at"]
    column_labels = {
        "id": "#",
        "full_name": _l("Name"),
        "username": _l("Username"),
        "telegram_id": _l("Telegram id"),
        "balance": _l("Balance"),
        "language": _l("Language"),
        "is_blocked": _l("Blocked"),
        "created_at": _l("Joined"),
        "last_seen_at": _l("Last seen"),
    }
    column_searchable_list = ["full_name", "username"]
    column_filters = ["is_blocked", "language"]
    column_sortable_list = ["id", "full_name", "balance", "created_at", "last_seen_at"]
    column_default_sort = ("id", True)
    column_formatters = {
        "full_name": _name,
        "balance": money_formatter("balance"),
        "created_at": lambda v, c, m, n: fmt_time(m.created_at),
        "last_seen_at": lambda v, c, m, n: fmt_time(m.last_seen_at),
    }

    def get_query(self):
        return super().get_query().filter(students.students_only())

    def get_count_query(self):
        return super().get_count_query().filter(students.students_only())

    @expose("/student/<id>")
    def profile(self, id):
        user_id = parse_int(id)
        try:
            with service_session() as s:
                user = students.get_user(s, user_id)
                ledger = wallet.history(s, user_id, per_page=100)
                enrollments = enrollment.my_enrollments(s, user_id)
                bookings = mentorship.student_bookings(s, user_id)
                signals = reconciliation.fraud_signals(s, user_id=user_id)
        except NotFound:
            flash(_("Student #%(id)s does not exist.", id=fmt_number(user_id)), "error")
            return redirect(url_for(".index_view"))
        return self.render(
            "admin_panel/student.html",
            user=user,
            ledger=ledger,
            enrollments=enrollments,
            bookings=bookings,
            signals=signals,
            nonce=secrets.token_urlsafe(16),
            fmt_money=fmt_money,
            fmt_time=fmt_time,
            can_block=current_user.role == AdminRole.OWNER,
        )

    @expose("/student/<id>/adjust", methods=["POST"])
    def adjust(self, id):
        user_id = parse_int(id)
        amount = (request.form.get("amount") or "").strip()
        reason = request.form.get("reason") or ""
        nonce = (request.form.get("nonce") or "").strip()[:60]
        if not amount:
            flash(_("Enter a signed amount, e.g. 50 to credit or -50 to debit."), "error")
        elif re.search(r"\.\d{3,}$", amount):
            flash(_("Balance not changed: the amount can have at most 2 decimal places."), "error")
        elif not nonce:
            flash(_("The form is incomplete; reload the page and try again."), "error")
        else:
            try:
                with service_session() as s:
                    result = wallet.adjust_balance(
                        s,
                        user_id,
                        amount,
                        reason[: MAX_REASON + 1],
                        actor=actor(),
                        idempotency_key=f"panel-adjust:{nonce}",
                    )
            except DomainError as err:
                flash(_("Balance not changed: %(problem)s", problem=admin_message(err)), "error")
            else:
                if result.replayed:
                    flash(_("This adjustment was already saved (form sent twice); nothing more was changed."), "info")
                else:
                    flash(
                        _(
                            "Balance adjusted by %(amount)s; new balance %(balance)s.",
                            amount=fmt_money(result.amount),
                            balance=fmt_money(result.balance),
                        ),
                        "success",
                    )
        return redirect(url_for(".profile", id=user_id))

    @expose("/student/<id>/block", methods=["POST"])
    def block(self, id):
        user_id = parse_int(id)
        if current_user.role != AdminRole.OWNER:
            flash(_("Only the owner can block or unblock students."), "error")
            return redirect(url_for(".profile", id=user_id))
        blocked = request.form.get("blocked") == "1"
        try:
            with service_session() as s:
                students.set_blocked(s, user_id, blocked, actor=actor())
        except DomainError as err:
            flash(admin_message(err), "error")
        else:
            flash(
                _("Student blocked: they can no longer top up, buy or book.") if blocked else _("Student unblocked."),
                "success",
            )
        return redirect(url_for(".profile", id=user_id))
