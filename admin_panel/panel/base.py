"""Base views: authentication and role checks on every request, service calls, friendly errors."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from werkzeug.utils import secure_filename

from admin_panel.panel.exports import safe_cell
from admin_panel.web import i18n
from admin_panel.web.context import panel
from admin_panel.web.errors import admin_message
from core.errors import DomainError
from core.models import AdminRole
from core.money import format_money
from core.timeutil import CAIRO, as_utc, utcnow
from core.words import digits
from core.words.labels import STATUS_NAMES, TYPE_NAMES, status_name, type_name


class PanelForm(FlaskForm):
    """Base for every Flask-Admin form: Flask-WTF's CSRF, the same mechanism as CSRFProtect."""

    def __init__(self, formdata=None, obj=None, prefix="", **kwargs):
        self._obj = obj  # Flask-Admin's Unique validator skips the record being edited
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


def fmt_money(value) -> str:
    """`1,250.00 EGP`; in Arabic `١٬٢٥٠٫٠٠ ج.م`, as the Mini App and the bot write it (core.money)."""
    return "—" if value is None else format_money(value, panel().settings.currency, i18n.language())


def fmt_time(value) -> str:
    """Cairo time, `2026-12-07 14:05`, in the reader's digits."""
    if value is None:
        return "—"
    return digits(as_utc(value).astimezone(CAIRO).strftime("%Y-%m-%d %H:%M"), i18n.language())


def fmt_number(value) -> str:
    """A count in the reader's digits."""
    return "—" if value is None else digits(f"{value:,}" if isinstance(value, int) else str(value), i18n.language())


_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?")


def readable(value) -> str:
    """A value stored as data (an audit row's before/after), as an admin reads it: "—" for nothing, the label of
    a status or transaction type, Cairo time for a moment, yes/no."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str):
        if value in STATUS_NAMES:
            return status_name(value, i18n.core_words())
        if value in TYPE_NAMES:
            return type_name(value, i18n.core_words())
        if _ISO_MOMENT.fullmatch(value):
            try:
                return fmt_time(datetime.fromisoformat(value.replace("Z", "+00:00")))
            except ValueError:
                return value
    return str(value)


def stored_text(text: str | None) -> Markup:
    """A text kept as it was written (a ledger description, a reason), isolated so it reads in its own direction
    inside an Arabic page: the panel translates its own words, not the records."""
    return Markup('<bdi dir="auto">%s</bdi>') % text if text else Markup("—")


def left_to_right(field: str):
    """A phone number, masked or not, reads left to right inside an Arabic page (`011****5678`, not reversed)."""

    def fmt(view, ctx, model, name):
        value = getattr(model, field)
        return Markup('<bdi dir="ltr">%s</bdi>') % value if value else Markup("—")

    return fmt


def age(value) -> str:
    if value is None:
        return "—"
    delta = datetime.now(tz=CAIRO) - as_utc(value)
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return _("%(n)s min", n=fmt_number(max(minutes, 0)))
    hours = minutes // 60
    if hours < 48:
        return _("%(n)s h", n=fmt_number(hours))
    return _("%(n)s days", n=fmt_number(hours // 24))


def _label_choices(names: dict, name_of) -> list[tuple[str, LazyString]]:
    """Filter options of an enum column as admins read them, in the language of each request."""
    return [(value, LazyString(lambda value=value: name_of(value, i18n.core_words()))) for value in names]


# For `column_choices`: Flask-Admin's filters of a status or type column offer these labels, not enum names.
STATUS_CHOICES = _label_choices(STATUS_NAMES, status_name)
TYPE_CHOICES = _label_choices(TYPE_NAMES, type_name)


def money_formatter(field: str):
    return lambda view, ctx, model, name: fmt_money(getattr(model, field))


def enum_formatter(field: str):
    def fmt(view, ctx, model, name):
        value = getattr(model, field)
        value = getattr(value, "value", value)
        css = {
            "PENDING": "warning",
            "APPROVED": "success",
            "REJECTED": "danger",
            "CONFIRMED": "info",
            "COMPLETED": "success",
            "CANCELLED": "secondary",
        }.get(str(value), "light")
        return Markup(f'<span class="badge badge-{css}">{escape(readable(value))}</span>')

    return fmt


def post_button(
    url: str, label: str, css: str = "btn-outline-primary", confirm: str | None = None, fields: dict | None = None
) -> Markup:
    """A one-button POST form carrying the CSRF token."""
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in (fields or {}).items())
    onsubmit = f' data-confirm="{escape(confirm)}"' if confirm else ""  # admin_panel/panel/static/js/panel.js
    return Markup(
        f'<form method="post" action="{escape(url)}" class="d-inline"{onsubmit}>'
        f'<input type="hidden" name="csrf_token" value="{generate_csrf()}">{hidden}'
        f'<button type="submit" class="btn btn-sm {css}">{escape(label)}</button></form>'
    )


class RoleMixin:
    roles: frozenset[AdminRole] = frozenset({AdminRole.OWNER})

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated and current_user.role in self.roles)

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
        abort(403)

    def back(self, default: str = ".index"):
        """Back to the page the form came from (a local path only), else to `default`."""
        target = request.form.get("next") or request.args.get("next")
        if target and target.startswith("/") and not target.startswith("//"):
            return redirect(target)
        return redirect(url_for(default))


class SecureView(RoleMixin, BaseView):
    """A custom Flask-Admin page limited to some roles."""


@dataclass(frozen=True)
class ActionPrompt:
    """A bulk action that asks one question first (admin_panel/prompted_action_list.html)."""

    action: str  # the @action name
    field: str  # the form field the answer is posted in
    question: str
    default: str = ""


class SecureModelView(RoleMixin, ModelView):
    """A model list with the panel's CSRF form base; read-only unless a subclass opens it."""

    form_base_class = PanelForm
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = False
    page_size = 25
    named_filter_urls = True
    column_display_actions = False  # no edit/delete icons where there is nothing to edit
    list_template = "admin_panel/model_list.html"

    def flash_error(self, err: DomainError) -> None:
        flash(admin_message(err), "error")

    def _export_csv(self, return_url):
        """Flask-Admin's CSV export, streamed: rows are read from the database while the file is sent
        (`yield_per`: a server-side cursor on PostgreSQL), so the first byte leaves at once, memory stays flat
        however long the list, and every row is exported (Flask-Admin loads them all as objects first and
        stops at export_max_rows without saying so)."""
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        _count, query = self.get_list(
            0, sort[0] if sort else None, args.sort_desc, args.search, args.filters, execute=False, page_size=0
        )
        writer = csv.writer(_Echo())
        columns = self._export_columns

        def generate():
            with force_locale("en"):  # a file is shared and read by scripts: English headers and labels
                yield writer.writerow([str(c[1]) for c in columns])
                for row in query.yield_per(EXPORT_BATCH):
                    yield writer.writerow([self.get_export_value(row, c[0]) for c in columns])

        with force_locale("en"):
            filename = secure_filename(self.get_export_name(export_type="csv"))
        return Response(
            stream_with_context(generate()),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment;filename={filename}"},
        )

    def get_export_name(self, export_type: str = "csv") -> str:
        """`Transactions_2026-12-07_14-05-00.csv` in Cairo time, as the rows inside (Flask-Admin names the file
        in the server's clock, UTC)."""
        with force_locale("en"):
            return f"{self.name}_{utcnow().astimezone(CAIRO):%Y-%m-%d_%H-%M-%S}.{export_type}"

    def get_export_value(self, model, name):
        """Every CSV and XLSX export cell goes through admin_panel.panel.exports.safe_cell."""
        return safe_cell(super().get_export_value(model, name))

    # --- list parameters: anything a URL can carry is checked before it reaches SQL ---------------------
    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        if args.search and len(args.search) > MAX_SEARCH:
            flash(_("The search was shortened to %(n)s characters.", n=fmt_number(MAX_SEARCH)), "info")
            args.search = args.search[:MAX_SEARCH]
        if args.page and not 0 <= args.page <= MAX_PAGE:
            args.page = 0
        return args

    def _get_list_filter_args(self):
        """Flask-Admin's parsing, but a value its column cannot take (an unknown enum member, a huge
        number, a 100,000-character pattern) is flashed and ignored instead of reaching SQL."""
        if not self._filters:
            return None
        filters = []
        for arg in request.args:
            if not arg.startswith("flt") or "_" not in arg:
                continue
            pos, key = arg[3:].split("_", 1)
            if key not in self._filter_args:
                continue
            idx, flt = self._filter_args[key]
            value = request.args[arg]
            if _filter_value_ok(flt, value):
                filters.append((pos, (idx, str(flt.name), value)))
            else:
                flash(
                    _(
                        "Filter %(name)s: %(value)s is not a valid value; it was ignored.",
                        name=flt.name,
                        value=repr(value[:40]),
                    ),
                    "error",
                )
        return [f for _pos, f in sorted(filters, key=lambda item: item[0])]

    def handle_action(self, return_view=None):
        """Bulk actions: every selected row id must be a plain positive number."""
        ids = request.form.getlist("rowid")
        if len(ids) > MAX_BULK or any(not _is_id(i) for i in ids):
            flash(_("The selection contains an invalid row; nothing was changed."), "error")
            return redirect(self.get_url(".index_view"))
        return super().handle_action(return_view)

    # hooks for admin_panel/model_list.html
    def list_extra_menu(self) -> str:
        return ""

    def list_header_html(self) -> str:
        return ""

    def list_footer_html(self) -> str:
        return ""


def parse_cairo_datetime(text: str | None) -> datetime | None:
    """`2026-12-01T18:30` (datetime-local) or `2026-12-01 18:30`, read as Africa/Cairo."""
    text = (text or "").strip().replace(" ", "T")
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=CAIRO)
        except ValueError:
            continue
    raise ValueError(_("Enter the date and time as YYYY-MM-DD HH:MM (Africa/Cairo)."))


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value):
        return value


EXPORT_BATCH = 1000
MAX_SEARCH = 200
MAX_PAGE = 1_000_000
MAX_BULK = 1000
MAX_ID = 2**63 - 1


def _is_id(text) -> bool:
    text = str(text).strip()
    return text.isascii() and text.isdigit() and 0 < int(text[:20]) <= MAX_ID and len(text) <= 19


def _filter_value_ok(flt, value) -> bool:
    if not isinstance(value, str) or len(value) > MAX_SEARCH:
        return False
    try:
        cleaned = flt.clean(value)
    except (KeyError, ValueError, TypeError, ArithmeticError, LookupError):
        return False
    values = cleaned if isinstance(cleaned, (list, tuple)) else [cleaned]
    return all(not isinstance(v, int) or isinstance(v, bool) or abs(v) <= MAX_ID for v in values)


def parse_int(text, name: str = "id") -> int:
    try:
        value = int(str(text).strip())
    except (TypeError, ValueError):
        abort(404)
    if value <= 0 or value > 2**62:
        abort(404)
    return value
