"""API tokens (owner): create one for an admin (shown once), see when each was last used, revoke."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _

from admin_panel.panel.base import SecureView, fmt_time, parse_int
from admin_panel.web.context import actor, service_session
from admin_panel.web.errors import admin_message
from core.errors import DomainError
from core.models import AdminRole
from core.services import admins, api_tokens


class ApiTokensView(SecureView):
    roles = frozenset({AdminRole.OWNER})

    def _page(self, secret: str | None = None, created=None):
        with service_session() as s:
            tokens = api_tokens.list_tokens(s)
            accounts = [a for a in admins.list_admins(s) if a.is_active]
        return self.render(
            "admin_panel/api_tokens.html",
            tokens=tokens,
            accounts=accounts,
            secret=secret,
            created=created,
            fmt_time=fmt_time,
        )

    @expose("/")
    def index(self):
        return self._page()

    @expose("/new", methods=["POST"])
    def create(self):
        raw_admin = (request.form.get("admin_id") or "").strip()
        if not (raw_admin.isascii() and raw_admin.isdigit() and len(raw_admin) <= 12):
            flash(_("Choose the account the token acts as."), "error")
            return redirect(url_for(".index"))
        try:
            with service_session() as s:
                secret, info = api_tokens.create_token(s, int(raw_admin), request.form.get("name", ""), actor=actor())
        except DomainError as err:
            flash(_("Not created: %(problem)s", problem=admin_message(err)), "error")
            return redirect(url_for(".index"))
        # Rendered, not flashed: the secret must not travel in the (signed, not encrypted) session cookie.
        return self._page(secret=secret, created=info)

    @expose("/<id>/revoke", methods=["POST"])
    def revoke(self, id):
        try:
            with service_session() as s:
                info = api_tokens.revoke_token(s, parse_int(id), actor=actor())
        except DomainError as err:
            flash(admin_message(err), "error")
        else:
            flash(
                _(
                    "Token %(name)s (%(prefix)s…) revoked; it no longer works.",
                    name=repr(info.name),
                    prefix=info.prefix,
                ),
                "success",
            )
        return redirect(url_for(".index"))
