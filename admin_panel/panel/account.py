"""Every admin's own account: change the password (the other sessions end, this one goes on)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from admin_panel.panel.base import SecureView
from admin_panel.web.auth import _panel_user
from admin_panel.web.context import service_session
from core.errors import DomainError
from core.models import AdminRole
from core.services import admins


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])
    password = PasswordField("New password", validators=[DataRequired(), Length(max=256)])


class AccountView(SecureView):
    roles = frozenset(AdminRole)

    @expose("/")
    def index(self):
        return redirect(url_for(".password"))

    @expose("/password", methods=["GET", "POST"])
    def password(self):
        form = PasswordForm()
        error = None
        if form.validate_on_submit():
            try:
                with service_session() as s:
                    info = admins.change_own_password(s, current_user.id, form.current.data, form.password.data)
            except DomainError as err:
                error = str(err.args[0]) if err.args else err.code
            else:
                login_user(_panel_user(info))  # this browser carries the new session version
                flash("Password changed. Your other sessions were logged out.", "success")
                return redirect(url_for("admin.index"))
        elif request.method == "POST":
            error = "enter your current and your new password"
        return self.render(
            "admin_panel/change_password.html", form=form, error=error, min_length=admins.MIN_PASSWORD
        ), 400 if error else 200
