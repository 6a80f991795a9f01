"""Platforms, tasks and enrollments; deletion and enrollment changes go through core services."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import flash, request
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from wtforms import DecimalField, IntegerField
from wtforms.validators import NumberRange, Optional, StopValidation, ValidationError

from admin_panel.panel.base import ActionPrompt, SecureModelView, fmt_number, fmt_time, money_formatter
from admin_panel.panel.transactions import Before, OnOrAfter
from admin_panel.web.context import actor, service_session
from admin_panel.web.errors import admin_message
from core.errors import DomainError
from core.models import AdminRole, Enrollment
from core.services import catalogue, enrollment
from core.services.catalogue import MAX_PRICE


def _finite(form, field):
    """Before NumberRange: comparing Decimal('sNaN') raises instead of failing validation."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_("not a valid amount"))


def _small_int(form, field):
    """Before NumberRange: it converts to float, which a 400-digit number overflows."""
    if isinstance(field.data, int) and abs(field.data) > 10**9:
        raise StopValidation(_("number out of range"))


def _two_places(form, field):
    if field.data is None:
        return
    try:
        if field.data != field.data.quantize(Decimal("0.01")):
            raise ValidationError(_("at most 2 decimal places"))
    except InvalidOperation:
        raise ValidationError(_("not a valid amount")) from None


class CatalogueModelView(SecureModelView):
    """Create and edit through core.services.catalogue (validated, audited with the new id)."""

    def _save(self, entity_id: int | None, form) -> int | None:
        raise NotImplementedError

    def create_model(self, form):
        self.session.rollback()  # the service writes in its own transaction
        new_id = self._save(None, form)
        return self.get_one(str(new_id)) if new_id is not None else False

    def update_model(self, form, model):
        entity_id = model.id
        self.session.rollback()
        return self._save(entity_id, form) is not None

    def _call(self, fn, *args, **fields) -> int | None:
        try:
            with service_session() as s:
                return fn(s, *args, **fields, actor=actor())
        except DomainError as err:
            self.flash_error(err)
            return None


class PlatformView(CatalogueModelView):
    roles = frozenset({AdminRole.OWNER})
    can_create = can_edit = can_delete = True
    column_display_actions = True
    column_list = ["id", "name", "price", "access_days", "is_active", "tasks", "created_at"]
    column_labels = {
        "id": "#",
        "name": _l("Name"),
        "description": _l("Description"),
        "access_days": _l("Access (days)"),
        "is_active": _l("Active"),
        "price": _l("Price"),
        "tasks": _l("Tasks"),
        "created_at": _l("Created"),
    }
    column_searchable_list = ["name", "description"]
    column_filters = ["is_active"]
    column_sortable_list = ["id", "name", "access_days", "is_active"]
    column_formatters = {
        "price": lambda v, c, m, n: _("Free") if not m.price else money_formatter("price")(v, c, m, n),
        "access_days": lambda v, c, m, n: fmt_number(m.access_days) if m.access_days else _("forever"),
        "tasks": lambda v, c, m, n: fmt_number(len(m.tasks)),
        "created_at": lambda v, c, m, n: fmt_time(m.created_at),
    }
    form_columns = ["name", "description", "price", "is_active", "access_days"]
    form_extra_fields = {
        "price": DecimalField(
            _l("Price (EGP, empty or 0 = free)"),
            places=2,
            validators=[Optional(), _finite, NumberRange(min=0, max=MAX_PRICE), _two_places],
        ),
    }
    form_args = {
        "access_days": {
            "label": _l("Access days (empty = forever)"),
            "validators": [Optional(), _small_int, NumberRange(min=1, max=3650)],
        },
        "name": {"label": _l("Name")},
        "description": {"label": _l("Description"), "validators": [Optional()]},
        "is_active": {"label": _l("Active (can be bought)")},
    }
    form_overrides = {"access_days": IntegerField}
    form_widget_args = {"description": {"rows": 4, "maxlength": 5000}}
    list_template = "admin_panel/model_list.html"

    def _save(self, platform_id, form):
        fields = dict(
            name=form.name.data,
            description=form.description.data,
            price=form.price.data,
            is_active=bool(form.is_active.data),
            access_days=form.access_days.data,
        )
        if platform_id is None:
            return self._call(catalogue.create_platform, **fields)
        return self._call(catalogue.update_platform, platform_id, **fields)

    def delete_model(self, model):
        platform_id = model.id
        self.session.rollback()
        try:
            with service_session() as s:
                enrollment.delete_platform(s, platform_id, actor=actor())
        except DomainError as err:
            flash(admin_message(err), "error")
            return False
        return True

    def list_header_html(self) -> str:
        said = _(
            'A platform that students enrolled in cannot be deleted: untick "Active" to stop new purchases '
            "(existing students keep their access)."
        )
        return f'<p class="text-muted small mb-2">{escape(said)}</p>'


class TaskView(CatalogueModelView):
    roles = frozenset({AdminRole.OWNER})
    can_create = can_edit = can_delete = True
    column_display_actions = True
    column_list = ["platform", "position", "title"]
    column_labels = {
        "platform": _l("Platform"),
        "position": _l("Order"),
        "title": _l("Title"),
        "body": _l("Body"),
        "platform.name": _l("platform"),
    }
    column_default_sort = [("platform_id", False), ("position", False)]
    column_filters = ["platform.name"]
    column_searchable_list = ["title", "body"]
    form_columns = ["platform", "position", "title", "body"]
    form_args = {
        "position": {"label": _l("Order"), "validators": [_small_int, NumberRange(min=0, max=10000)]},
        "platform": {"label": _l("Platform"), "validators": []},
        "title": {"label": _l("Title")},
        "body": {"label": _l("Body")},
    }
    form_widget_args = {"body": {"rows": 6}}

    def _save(self, task_id, form):
        platform = form.platform.data
        fields = dict(
            platform_id=platform.id if platform is not None else None,
            title=form.title.data,
            body=form.body.data,
            position=form.position.data,
        )
        if task_id is None:
            return self._call(catalogue.create_task, **fields)
        return self._call(catalogue.update_task, task_id, **fields)


class EnrollmentView(SecureModelView):
    roles = frozenset({AdminRole.OWNER})
    list_template = "admin_panel/prompted_action_list.html"
    action_prompt = ActionPrompt("extend", "days", _l("Extend access by how many days? (1 to 3650)"), "30")
    column_list = ["id", "user", "platform", "enrolled_at", "expires_at", "is_active"]
    column_labels = {
        "id": "#",
        "user": _l("Student"),
        "platform": _l("Platform"),
        "enrolled_at": _l("Enrolled"),
        "expires_at": _l("Expires"),
        "is_active": _l("Active"),
        "user.full_name": _l("student"),
        "user.username": _l("username"),
        "platform.name": _l("platform"),
    }
    column_filters = [
        "platform.name",
        "is_active",
        "user.full_name",
        OnOrAfter(Enrollment.enrolled_at, _l("Enrolled")),
        Before(Enrollment.enrolled_at, _l("Enrolled")),
    ]
    column_searchable_list = ["user.full_name", "user.username", "platform.name"]
    column_sortable_list = ["id", "enrolled_at", "expires_at", "is_active"]
    column_default_sort = ("enrolled_at", True)
    column_formatters = {
        "user": lambda v, c, m, n: m.user.full_name,
        "platform": lambda v, c, m, n: m.platform.name,
        "enrolled_at": lambda v, c, m, n: fmt_time(m.enrolled_at),
        "expires_at": lambda v, c, m, n: fmt_time(m.expires_at) if m.expires_at else _("never"),
    }

    def _each(self, ids, fn, done_message):
        done = 0
        for raw in ids:
            try:
                with service_session() as s:
                    fn(s, int(raw))
                done += 1
            except DomainError as err:
                flash(f"#{fmt_number(raw)}: {admin_message(err)}", "error")
            except ValueError:
                flash(_("#%(id)s: not an enrollment id", id=raw), "error")
        if done:
            flash(done_message % {"n": fmt_number(done)}, "success")

    @action("deactivate", _l("Deactivate"), _l("Remove access for the selected enrollments?"))
    def action_deactivate(self, ids):
        self._each(
            ids,
            lambda s, i: enrollment.set_enrollment_active(s, i, False, actor=actor()),
            _("Deactivated %(n)s enrollment(s)."),
        )

    @action("activate", _l("Activate"))
    def action_activate(self, ids):
        self._each(
            ids,
            lambda s, i: enrollment.set_enrollment_active(s, i, True, actor=actor()),
            _("Activated %(n)s enrollment(s)."),
        )

    @action("extend", _l("Extend (asks for days)"))
    def action_extend(self, ids):
        try:
            days = int((request.form.get("days") or "").strip())
        except ValueError:
            flash(_("Enter the number of days to extend (1 to 3650); nothing was changed."), "error")
            return
        self._each(
            ids,
            lambda s, i: enrollment.extend_enrollment(s, i, days, actor=actor()),
            _("Extended %(n)s enrollment(s) by %(days)s days.", n="%(n)s", days=fmt_number(days)),
        )
