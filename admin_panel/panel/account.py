"""Every admin's own account ("My profile"): the panel's language, and the password (changing it ends the other
sessions, this one goes on)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import force_locale, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from admin_panel.panel.base import SecureView
from admin_panel.web import i18n
from admin_panel.web.auth import _panel_user
from admin_panel.web.context import service_session
from admin_panel.web.errors import admin_message
from core.errors import DomainError
from core.models import AdminRole
from core.services import admins


class PasswordForm(FlaskForm):
    current = PasswordField(lazy_gettext("Current password"), validators=[DataRequired(), Length(max=256)])
    password = PasswordField(lazy_gettext("New password"), validators=[DataRequired(), Length(max=256)])


class AccountView(SecureView):
    roles = frozenset(AdminRole)

    @expose("/")
    def index(self):
        return self.render("admin_panel/my_account.html", languages=i18n.LANGUAGE_NAMES)

    @expose("/language", methods=["POST"])
    def language(self):
        chosen = request.form.get("language")
        try:
            with service_session() as s:
                info = admins.set_language(s, current_user.id, chosen)
        except DomainError:
            flash(_("Choose English or Arabic; your language was not changed."), "error")
            return redirect(url_for(".index")), 303
        with force_locale(info.language):  # said in the language just chosen
            flash(_("Your panel language is now %(name)s.", name=dict(i18n.LANGUAGE_NAMES)[info.language]), "success")
        return redirect(url_for(".index")), 303

    @expose("/password", methods=["GET", "POST"])
    def password(self):
        form = PasswordForm()
        error = None
        if form.validate_on_submit():
            try:
                with service_session() as s:
                    info = admins.change_own_password(s, current_user.id, form.current.data, form.password.data)
            except DomainError as err:
                error = admin_message(err)
            else:
                login_user(_panel_user(info))  # this browser carries the new session version
                flash(_("Password changed. Your other sessions were logged out."), "success")
                return redirect(url_for("admin.index"))
        elif request.method == "POST":
            error = _("Enter your current and your new password.")
        return self.render(
            "admin_panel/change_password.html", form=form, error=error, min_length=admins.MIN_PASSWORD
        ), 400 if error else 200
