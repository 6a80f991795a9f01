"""Owner's pages: business settings, audit log, monthly report (CSV), panel accounts."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from flask import Response, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from admin_panel.panel.base import (
    SecureModelView,
    SecureView,
    fmt_money,
    fmt_number,
    fmt_time,
    parse_int,
    post_button,
    readable,
)
from admin_panel.panel.exports import safe_row
from admin_panel.panel.transactions import Before, OnOrAfter
from admin_panel.web.context import actor, service_session
from admin_panel.web.errors import admin_message
from admin_panel.web.i18n import role_name
from core.errors import DomainError
from core.models import AdminRole, AuditLog, TransactionType
from core.services import admins, analytics
from core.services.settings import LABELS, get_settings, setting_items, setting_problems, to_text, update_settings
from core.timeutil import CAIRO, utcnow

CHECKBOXES = ("mentorship_available", "auto_approve_transfers")
# What each setting is called on the page, in the admin's language (core.business_settings.LABELS stays the
# English of errors, the audit log and the CLI).
SETTING_LABELS = {
    "vodafone_cash_number": _l("Receiving Vodafone Cash number"),
    "signup_bonus": _l("Welcome credit (EGP)"),
    "durations": _l("Session durations offered (minutes)"),
    "min_topup": _l("Minimum top-up (EGP)"),
    "max_topup": _l("Maximum top-up (EGP)"),
    "max_pending_topups": _l("Pending top-ups allowed per student"),
    "max_topups_per_day": _l("Top-up requests per student per day"),
    "mentor_default_rate": _l("Default mentorship hourly rate (EGP)"),
    "mentorship_available": _l("Mentorship bookings open"),
    "max_pending_bookings": _l("Pending bookings allowed per student"),
    "stale_topup_hours": _l("Alert admins about top-ups pending longer than (hours)"),
    "auto_approve_transfers": _l("Approve top-ups automatically when one Vodafone Cash transfer matches for certain"),
    "auto_approve_max": _l("Largest top-up approved automatically (EGP)"),
    "auto_approve_new_sender_max": _l(
        "Largest automatic approval from a sender number new on the student's account (EGP)"
    ),
    "match_window_minutes": _l("Match transfers received within this many minutes of the request"),
    "max_session_days_ahead": _l("Furthest ahead a mentorship session may be scheduled (days)"),
    "booking_buffer_minutes": _l("Break after each session before the next may start (minutes)"),
    "booking_notice_minutes": _l("Shortest notice for booking a slot (minutes)"),
    "booking_horizon_days": _l("Furthest ahead a slot may be booked (days)"),
    "slot_interval_minutes": _l("Slots start every (minutes; 0: the session's length)"),
    "slot_hold_minutes": _l("A picked slot is held while the student confirms (minutes)"),
    "refund_full_hours": _l("Full refund when cancelled at least this many hours before the start"),
    "refund_partial_hours": _l("Partial refund when cancelled at least this many hours before the start"),
    "refund_partial_percent": _l("The partial refund (percent of the cost)"),
    "max_reschedules": _l("Reschedules a student may ask per booking"),
}


def setting_label(key: str) -> str:
    return str(SETTING_LABELS.get(key) or LABELS.get(key, key))


class SettingsView(SecureView):
    roles = frozenset({AdminRole.OWNER})

    @expose("/", methods=["GET", "POST"])
    def index(self):
        with service_session() as s:
            current = get_settings(s)
        items = setting_items(current)
        submitted, problems = {}, {}
        if request.method == "POST":
            submitted = {
                key: request.form[key] for key, _label, _v in items if key in request.form and key not in CHECKBOXES
            }
            for key in CHECKBOXES:
                if key in request.form:  # a hidden "false" precedes the checkbox
                    submitted[key] = "true" if "true" in request.form.getlist(key) else "false"
            changes = {k: v for k, v in submitted.items() if v.strip() != to_text(getattr(current, k))}
            problems = setting_problems(current, changes)
            if problems:
                flash(_("Not saved: %(n)s setting(s) need a fix, marked below.", n=fmt_number(len(problems))), "error")
            elif not changes:
                flash(_("Nothing changed."), "info")
                return redirect(url_for(".index"))
            else:
                try:
                    with service_session() as s:
                        update_settings(s, changes, actor=actor())
                except DomainError as err:  # e.g. saved meanwhile by another owner into a refused combination
                    flash(_("Not saved: %(problem)s", problem=_setting_problem(err)), "error")
                    problems = {err.details["key"]: err.details.get("problem", "")} if "key" in err.details else {}
                else:
                    flash(_("Saved %(n)s setting(s).", n=fmt_number(len(changes))), "success")
                    return redirect(url_for(".index"))
        values = {k: submitted.get(k, v) for k, _l, v in items}
        return self.render(
            "admin_panel/settings.html",
            items=[(key, setting_label(key), value) for key, _label, value in items],
            values=values,
            checkboxes=CHECKBOXES,
            problems=problems,
        )


def _setting_problem(err: DomainError) -> str:
    """The service names the setting in English ("<label>: <problem>"): the page names it in the admin's words."""
    key = err.details.get("key")
    message = admin_message(err)
    if key in LABELS and message.startswith(LABELS[key]):
        message = setting_label(key) + message[len(LABELS[key]) :]
    return message


def _audit_fields(raw: str | None):
    """An audit row's before/after: [(field, as an admin reads it)], the value alone when it is not an object, or
    the stored text when it is not JSON."""
    if not raw:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    return [(k, readable(v)) for k, v in data.items()] if isinstance(data, dict) else readable(data)


def _json_cell(field):
    def fmt(view, ctx, model, name):
        fields = _audit_fields(getattr(model, field))
        if isinstance(fields, str):
            return fields
        return Markup("<br>".join(f"<span class='text-muted'>{escape(k)}</span>: {escape(v)}" for k, v in fields))

    return fmt


def _json_export(field):
    def fmt(view, ctx, model, name):
        raw = getattr(model, field)
        if not raw:
            return readable(None)
        fields = _audit_fields(raw)
        return fields if isinstance(fields, str) else "; ".join(f"{k}: {v}" for k, v in fields)

    return fmt


class AuditView(SecureModelView):
    roles = frozenset({AdminRole.OWNER})
    can_export = True
    export_types = ["csv"]
    column_list = ["created_at", "actor", "action", "entity_type", "entity_id", "before", "after"]
    column_labels = {
        "created_at": _l("When (Cairo)"),
        "actor": _l("Admin"),
        "action": _l("Action"),
        "entity_type": _l("Entity"),
        "entity_id": _l("Id"),
        "before": _l("Before"),
        "after": _l("After"),
    }
    column_default_sort = ("id", True)
    column_sortable_list = ["created_at", "actor", "action"]
    column_searchable_list = ["actor", "action", "entity_id"]
    column_filters = [
        "actor",
        "action",
        "entity_type",
        OnOrAfter(AuditLog.created_at, _l("Date")),
        Before(AuditLog.created_at, _l("Date")),
    ]
    column_formatters = {
        "created_at": lambda v, c, m, n: fmt_time(m.created_at),
        "before": _json_cell("before"),
        "after": _json_cell("after"),
        "entity_id": lambda v, c, m, n: m.entity_id or "—",
    }
    column_formatters_export = {
        "created_at": lambda v, c, m, n: fmt_time(m.created_at),
        "before": _json_export("before"),
        "after": _json_export("after"),
    }


class ReportsView(SecureView):
    roles = frozenset({AdminRole.OWNER, AdminRole.FINANCE})

    def _month(self):
        raw = (request.args.get("month") or "").strip()
        if not raw:
            local = utcnow().astimezone(CAIRO)
            return local.year, local.month, None
        try:
            year, month = (int(p) for p in raw.split("-"))
            if not (2000 <= year <= 2100 and 1 <= month <= 12):
                raise ValueError
        except ValueError:
            local = utcnow().astimezone(CAIRO)
            return local.year, local.month, _("Choose a month as YYYY-MM.")
        return year, month, None

    @expose("/")
    def index(self):
        year, month, error = self._month()
        if error:
            flash(error, "error")
        with service_session() as s:
            report = analytics.monthly_report(s, year, month)
        return self.render(
            "admin_panel/reports.html",
            report=report,
            rows=[_readable_row(row) for row in _report_rows(report)],
            month=f"{year:04d}-{month:02d}",
            fmt_amount=lambda text: fmt_money(Decimal(text)),
        )

    @expose("/monthly.csv")
    def csv(self):
        year, month, error = self._month()
        if error:
            flash(error, "error")
            return redirect(url_for(".index"))
        with service_session() as s:
            report = analytics.monthly_report(s, year, month)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["section", "item", "count", "amount_egp"])
        with force_locale("en"):  # English, as every export (README)
            for row in _report_rows(report):
                writer.writerow(safe_row(row))
        return Response(
            out.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=codehub-report-{report['month']}.csv"},
        )


def _report_rows(report: dict) -> list[tuple]:
    """The report as people read it: labels, not enum names, and revenue lines that add up (platforms plus
    mentorship gross, less refunds, is the net total)."""
    revenue = report["revenue"]
    platforms = revenue[TransactionType.PLATFORM_PURCHASE.value]
    refunds = report["refunds"]
    gross = revenue[TransactionType.MENTORSHIP_PAYMENT.value] + refunds  # the net line is gross less refunds
    rows = [
        (N_("Revenue"), N_("Platform purchases"), "", str(platforms)),
        (N_("Revenue"), N_("Mentorship sessions (gross)"), "", str(gross)),
        (N_("Revenue"), N_("Refunds of mentorship sessions"), "", str(-refunds)),
        (N_("Revenue"), N_("Total revenue (net)"), "", str(revenue["TOTAL"])),
    ]
    for status, v in report["topups"].items():
        rows.append((N_("Top-ups"), readable(status), v["count"], str(v["amount"])))
    rows.append((N_("Credits"), N_("Welcome credit"), "", str(report["signup_bonuses"])))
    rows.append((N_("Credits"), N_("Balance adjustments"), "", str(report["adjustments"])))
    rows.append((N_("Wallet"), N_("Float at month end"), "", str(report["wallet_float_at_month_end"])))
    return rows


def N_(msgid: str) -> str:
    """A report line's English (the CSV's); the page says it in the admin's language (_readable_row)."""
    return msgid


def _readable_row(row: tuple) -> tuple:
    section, item, count, amount = row
    return _(section), _(item), "" if count == "" else fmt_number(count), amount


def _manage_cell(view, ctx, model, name):
    csrf = f'<input type="hidden" name="csrf_token" value="{generate_csrf()}">'
    roles = "".join(
        f"<option value='{r.value}'{' selected' if r.value == model.role.value else ''}>{escape(role_name(r))}</option>"
        for r in AdminRole
    )
    mentor_hint, change_role, role_label = _("mentor user #"), _("Change role"), _("Role")
    new_password, set_password = _("new password (%(n)s+)", n=fmt_number(admins.MIN_PASSWORD)), _("Set password")
    role_form = (
        f'<form method="post" action="{url_for(".set_role", id=model.id)}" class="form-inline mb-1">'
        f'{csrf}<select class="form-control form-control-sm mr-1" name="role" aria-label="{escape(role_label)}">'
        f"{roles}</select>"
        '<input class="form-control form-control-sm mr-1" name="mentor_user_id" size="6" '
        f'placeholder="{escape(mentor_hint)}" maxlength="12">'
        f'<button class="btn btn-sm btn-outline-primary" type="submit">{escape(change_role)}</button></form>'
    )
    password_form = (
        f'<form method="post" action="{url_for(".reset_password", id=model.id)}" '
        f'class="form-inline mb-1" autocomplete="off">{csrf}'
        '<input class="form-control form-control-sm mr-1" type="password" name="password" '
        f'placeholder="{escape(new_password)}" maxlength="128" required>'
        f'<button class="btn btn-sm btn-outline-primary" type="submit">{escape(set_password)}</button></form>'
    )
    toggle = post_button(
        url_for(".set_active", id=model.id),
        _("Deactivate") if model.is_active else _("Reactivate"),
        "btn-outline-danger" if model.is_active else "btn-outline-success",
        confirm=_("Deactivate this account? Its sessions end at once.") if model.is_active else None,
        fields={"active": "0" if model.is_active else "1"},
    )
    return Markup(role_form + password_form) + toggle


def _mentor_id(raw: str | None) -> int | None:
    """A user number from a form, or None; raises ValueError for anything else."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise ValueError
    return int(raw)


class AdminAccountsView(SecureModelView):
    roles = frozenset({AdminRole.OWNER})
    list_template = "admin_panel/admins_list.html"
    column_list = ["username", "role", "mentor_user_id", "is_active", "created_at", "manage"]
    column_labels = {
        "username": _l("Username"),
        "role": _l("Role"),
        "mentor_user_id": _l("Mentor profile (user #)"),
        "is_active": _l("Active"),
        "created_at": _l("Created"),
        "manage": "",
    }
    column_formatters = {
        "role": lambda v, c, m, n: role_name(m.role),
        "created_at": lambda v, c, m, n: fmt_time(m.created_at),
        "manage": _manage_cell,
    }

    @expose("/new", methods=["POST"])
    def new_admin(self):
        form = request.form
        mentor_user_id = None
        if form.get("role") == AdminRole.MENTOR.value:
            try:
                mentor_user_id = _mentor_id(form.get("mentor_user_id"))
            except ValueError:
                flash(_("Mentor profile must be a user number."), "error")
                return redirect(url_for(".index_view"))
        try:
            with service_session() as s:
                info = admins.create_admin(
                    s,
                    form.get("username", ""),
                    form.get("password", ""),
                    form.get("role", ""),
                    mentor_user_id=mentor_user_id,
                    actor=actor(),
                )
        except DomainError as err:
            flash(_("Not created: %(problem)s", problem=admin_message(err)), "error")
        else:
            flash(_("Admin %(name)s (%(role)s) created.", name=info.username, role=role_name(info.role)), "success")
        return redirect(url_for(".index_view"))

    @expose("/<id>/password", methods=["POST"])
    def reset_password(self, id):
        try:
            with service_session() as s:
                info = admins.reset_password(s, parse_int(id), request.form.get("password", ""), actor=actor())
        except DomainError as err:
            flash(_("Password not changed: %(problem)s", problem=admin_message(err)), "error")
        else:
            flash(_("Password changed for %(name)s; their sessions were ended.", name=info.username), "success")
        return redirect(url_for(".index_view"))

    @expose("/<id>/role", methods=["POST"])
    def set_role(self, id):
        try:
            mentor_user_id = _mentor_id(request.form.get("mentor_user_id"))
        except ValueError:
            flash(_("Mentor profile must be a user number."), "error")
            return redirect(url_for(".index_view"))
        try:
            with service_session() as s:
                info = admins.set_role(
                    s, parse_int(id), request.form.get("role", ""), actor=actor(), mentor_user_id=mentor_user_id
                )
        except DomainError as err:
            flash(_("Role not changed: %(problem)s", problem=admin_message(err)), "error")
        else:
            flash(
                _(
                    "Role changed: %(name)s is now %(role)s; their sessions were ended.",
                    name=info.username,
                    role=role_name(info.role),
                ),
                "success",
            )
        return redirect(url_for(".index_view"))

    @expose("/<id>/active", methods=["POST"])
    def set_active(self, id):
        active = request.form.get("active") == "1"
        try:
            with service_session() as s:
                info = admins.set_active(s, parse_int(id), active, actor=actor())
        except DomainError as err:
            flash(_("Not changed: %(problem)s", problem=admin_message(err)), "error")
        else:
            said = _("%(name)s reactivated.") if active else _("%(name)s deactivated; their sessions were ended.")
            flash(said % {"name": info.username}, "success")
        return redirect(url_for(".index_view"))
