"""Owner's pages: business settings, audit log, monthly report (CSV), panel accounts."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from flask import Response, flash, redirect, request, url_for
from flask_admin import expose
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from admin_panel.panel.base import (
    SecureModelView,
    SecureView,
    fmt_money,
    fmt_time,
    parse_int,
    post_button,
    readable,
)
from admin_panel.panel.exports import safe_row
from admin_panel.panel.transactions import Before, OnOrAfter
from admin_panel.web.context import actor, service_session
from admin_panel.web.errors import admin_message
from core.errors import DomainError
from core.models import AdminRole, AuditLog, TransactionType
from core.services import admins, analytics
from core.services.settings import get_settings, setting_items, setting_problems, to_text, update_settings
from core.timeutil import CAIRO, utcnow

CHECKBOXES = ("mentorship_available", "auto_approve_transfers")


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
                flash(f"Not saved: {len(problems)} setting(s) need a fix, marked below.", "error")
            elif not changes:
                flash("Nothing changed.", "info")
                return redirect(url_for(".index"))
            else:
                try:
                    with service_session() as s:
                        update_settings(s, changes, actor=actor())
                except DomainError as err:  # e.g. saved meanwhile by another owner into a refused combination
                    flash(f"Not saved: {admin_message(err)}", "error")
                    problems = {err.details["key"]: err.details.get("problem", "")} if "key" in err.details else {}
                else:
                    flash(f"Saved {len(changes)} setting(s).", "success")
                    return redirect(url_for(".index"))
        values = {k: submitted.get(k, v) for k, _l, v in items}
        return self.render(
            "admin_panel/settings.html", items=items, values=values, checkboxes=CHECKBOXES, problems=problems
        )


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
    column_labels = {"created_at": "When (Cairo)", "actor": "Admin", "entity_type": "Entity", "entity_id": "Id"}
    column_default_sort = ("id", True)
    column_sortable_list = ["created_at", "actor", "action"]
    column_searchable_list = ["actor", "action", "entity_id"]
    column_filters = [
        "actor",
        "action",
        "entity_type",
        OnOrAfter(AuditLog.created_at, "Date"),
        Before(AuditLog.created_at, "Date"),
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
            return local.year, local.month, "Choose a month as YYYY-MM."
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
            rows=_report_rows(report),
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
        ("Revenue", "Platform purchases", "", str(platforms)),
        ("Revenue", "Mentorship sessions (gross)", "", str(gross)),
        ("Revenue", "Refunds of mentorship sessions", "", str(-refunds)),
        ("Revenue", "Total revenue (net)", "", str(revenue["TOTAL"])),
    ]
    for status, v in report["topups"].items():
        rows.append(("Top-ups", readable(status), v["count"], str(v["amount"])))
    rows.append(("Credits", "Welcome credit", "", str(report["signup_bonuses"])))
    rows.append(("Credits", "Balance adjustments", "", str(report["adjustments"])))
    rows.append(("Wallet", "Float at month end", "", str(report["wallet_float_at_month_end"])))
    return rows


def _manage_cell(view, ctx, model, name):
    csrf = f'<input type="hidden" name="csrf_token" value="{generate_csrf()}">'
    roles = "".join(
        f"<option{' selected' if r.value == model.role.value else ''}>{r.value}</option>" for r in AdminRole
    )
    role_form = (
        f'<form method="post" action="{url_for(".set_role", id=model.id)}" class="form-inline mb-1">'
        f'{csrf}<select class="form-control form-control-sm mr-1" name="role">{roles}</select>'
        '<input class="form-control form-control-sm mr-1" name="mentor_user_id" size="6" '
        'placeholder="mentor user #" maxlength="12">'
        '<button class="btn btn-sm btn-outline-primary" type="submit">Change role</button></form>'
    )
    password_form = (
        f'<form method="post" action="{url_for(".reset_password", id=model.id)}" '
        f'class="form-inline mb-1" autocomplete="off">{csrf}'
        '<input class="form-control form-control-sm mr-1" type="password" name="password" '
        f'placeholder="new password ({admins.MIN_PASSWORD}+)" maxlength="128" required>'
        '<button class="btn btn-sm btn-outline-primary" type="submit">Set password</button></form>'
    )
    toggle = post_button(
        url_for(".set_active", id=model.id),
        "Deactivate" if model.is_active else "Reactivate",
        "btn-outline-danger" if model.is_active else "btn-outline-success",
        confirm="Deactivate this account? Its sessions end at once." if model.is_active else None,
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
    column_labels = {"mentor_user_id": "Mentor profile (user #)", "is_active": "Active", "manage": ""}
    column_formatters = {
        "role": lambda v, c, m, n: m.role.value,
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
                flash("Mentor profile must be a user number.", "error")
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
            flash(f"Not created: {admin_message(err)}", "error")
        else:
            flash(f"Admin {info.username} ({info.role.value}) created.", "success")
        return redirect(url_for(".index_view"))

    @expose("/<id>/password", methods=["POST"])
    def reset_password(self, id):
        try:
            with service_session() as s:
                info = admins.reset_password(s, parse_int(id), request.form.get("password", ""), actor=actor())
        except DomainError as err:
            flash(f"Password not changed: {admin_message(err)}", "error")
        else:
            flash(f"Password changed for {info.username}; their sessions were ended.", "success")
        return redirect(url_for(".index_view"))

    @expose("/<id>/role", methods=["POST"])
    def set_role(self, id):
        try:
            mentor_user_id = _mentor_id(request.form.get("mentor_user_id"))
        except ValueError:
            flash("Mentor profile must be a user number.", "error")
            return redirect(url_for(".index_view"))
        try:
            with service_session() as s:
                info = admins.set_role(
                    s, parse_int(id), request.form.get("role", ""), actor=actor(), mentor_user_id=mentor_user_id
                )
        except DomainError as err:
            flash(f"Role not changed: {admin_message(err)}", "error")
        else:
            flash(f"Role changed: {info.username} is now {info.role.value}; their sessions were ended.", "success")
        return redirect(url_for(".index_view"))

    @expose("/<id>/active", methods=["POST"])
    def set_active(self, id):
        active = request.form.get("active") == "1"
        try:
            with service_session() as s:
                info = admins.set_active(s, parse_int(id), active, actor=actor())
        except DomainError as err:
            flash(f"Not changed: {admin_message(err)}", "error")
        else:
            flash(
                f"{info.username} reactivated."
                if active
                else f"{info.username} deactivated; their sessions were ended.",
                "success",
            )
        return redirect(url_for(".index_view"))
