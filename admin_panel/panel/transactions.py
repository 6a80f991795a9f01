"""Transactions (the ledger): read-only, filters, search, CSV/XLSX export, totals of the filtered rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask import g, url_for
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, IntEqualFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from admin_panel.panel.base import (
    STATUS_CHOICES,
    TYPE_CHOICES,
    SecureModelView,
    enum_formatter,
    fmt_money,
    fmt_number,
    fmt_time,
    left_to_right,
    money_formatter,
    readable,
    stored_text,
)
from core.models import AdminRole, Transaction
from core.services.ledger import TOTALS_CAP, capped_totals
from core.timeutil import CAIRO

MIN_YEAR, MAX_YEAR = 1900, 9998


class _CairoDateFilter(BaseSQLAFilter):
    """A date typed in Cairo local time, compared with the UTC timestamps in the database."""

    def __init__(self, column, name):
        super().__init__(column, name, data_type="datepicker")

    def validate(self, value) -> bool:
        try:
            self.clean(value)
        except (ValueError, TypeError):
            return False
        return True

    def clean(self, value):
        local = datetime.strptime(str(value).strip()[:10], "%Y-%m-%d").replace(tzinfo=CAIRO)
        if not MIN_YEAR <= local.year <= MAX_YEAR:  # 0001-01-01 and 9999-12-31 overflow in UTC
            raise ValueError(_("choose a date between %(first)s and %(last)s", first=MIN_YEAR, last=MAX_YEAR))
        return local


class OnOrAfter(_CairoDateFilter):
    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) >= value)

    def operation(self):
        return _l("on or after")


class Before(_CairoDateFilter):
    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) < value + timedelta(days=1))

    def operation(self):
        return _l("up to (inclusive)")


def _student(view, ctx, model, name):
    return Markup(f'<a href="{url_for("students.profile", id=model.user_id)}">{escape(model.user.full_name)}</a>')


class TransactionView(SecureModelView):
    roles = frozenset({AdminRole.OWNER, AdminRole.FINANCE})
    can_export = True
    export_types = ["csv", "xlsx"]
    export_max_rows = 100_000  # XLSX only (a workbook holds ~1M rows); CSV streams every row (base.py)
    # No exact count of a million rows on every page: Flask-Admin's previous/next pager, newest first by the
    # created_at index; "oldest first" is the same page sorted the other way, so both ends cost one page.
    simple_list_pager = True
    column_list = [
        "id",
        "created_at",
        "user",
        "type",
        "amount",
        "status",
        "description",
        "wallet_number_masked",
        "balance_after",
        "processed_by",
    ]
    column_labels = {
        "id": "#",
        "created_at": _l("When (Cairo)"),
        "user": _l("Student"),
        "user_id": _l("Student id"),
        "type": _l("Type"),
        "amount": _l("Amount"),
        "status": _l("Status"),
        "wallet_number_masked": _l("Sender"),
        "balance_after": _l("Balance after"),
        "processed_by": _l("By"),
        "user.full_name": _l("student"),
        "user.username": _l("username"),
        "description": _l("Description"),
        "reference": _l("reference"),
    }
    column_sortable_list = ["id", "created_at", "type", "amount", "status"]
    column_choices = {"type": TYPE_CHOICES, "status": STATUS_CHOICES}
    column_default_sort = [("created_at", True), ("id", True)]
    column_searchable_list = ["description", "reference", "user.full_name", "user.username"]
    column_filters = [
        "type",
        "status",
        OnOrAfter(Transaction.created_at, _l("Date")),
        Before(Transaction.created_at, _l("Date")),
        IntEqualFilter(Transaction.user_id, _l("Student id")),  # an int, not a string (PostgreSQL refused that)
        "user.full_name",
    ]
    column_formatters = {
        "created_at": lambda v, c, m, n: fmt_time(m.created_at),
        "user": _student,
        "type": lambda v, c, m, n: readable(m.type.value),
        "amount": money_formatter("amount"),
        "balance_after": money_formatter("balance_after"),
        "status": enum_formatter("status"),
        "description": lambda v, c, m, n: stored_text(m.description),
        "wallet_number_masked": left_to_right("wallet_number_masked"),
    }
    column_export_list = [
        "id",
        "created_at",
        "user_id",
        "user",
        "type",
        "amount",
        "status",
        "description",
        "wallet_number_masked",
        "balance_after",
        "processed_by",
        "reference",
    ]
    column_formatters_export = {
        "created_at": lambda v, c, m, n: fmt_time(m.created_at),
        "user": lambda v, c, m, n: m.user.full_name,
        "type": lambda v, c, m, n: readable(m.type.value),
        "status": lambda v, c, m, n: readable(m.status.value),
        "amount": lambda v, c, m, n: str(m.amount),
        "balance_after": lambda v, c, m, n: "" if m.balance_after is None else str(m.balance_after),
    }

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        if execute:
            query, joins = self.get_query(), {}
            if self._search_supported and search:
                query, _, joins, _ = self._apply_search(query, None, joins, {}, search)
            if filters and self._filters:
                query, _, joins, _ = self._apply_filters(query, None, joins, {}, filters)
            g.ledger_totals = capped_totals(query) if filters else {}  # a search is a scan already: not twice
        return super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)

    def list_footer_html(self) -> str:
        totals = getattr(g, "ledger_totals", {})
        if totals is None:
            said = _(
                "More than %(n)s rows match: narrow the filter (a student, a type, dates) to see their totals.",
                n=fmt_number(TOTALS_CAP),
            )
            return f'<div class="totals-bar mt-2 mb-3 small" id="ledger-totals">{escape(said)}</div>'
        if not totals:
            return ""
        parts = []
        for status in ("APPROVED", "PENDING", "REJECTED"):
            if status in totals:
                n, piastres = totals[status]
                said = _("%(n)s rows, net %(amount)s", n=fmt_number(n), amount=fmt_money(Decimal(piastres) / 100))
                parts.append(f"<span class='mr-4'><strong>{escape(readable(status))}</strong>: {escape(said)}</span>")
        title = _("Totals of the filtered rows:")
        return (
            f'<div class="totals-bar mt-2 mb-3 small" id="ledger-totals">{escape(title)} ' + "".join(parts) + "</div>"
        )
