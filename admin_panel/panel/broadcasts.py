"""Broadcasts (owner): compose, pick the audience, see count and preview, send, follow delivery."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin_panel.panel.base import SecureView, fmt_number, fmt_time
from admin_panel.web.context import actor, service_session
from admin_panel.web.errors import admin_message
from core.errors import DomainError
from core.models import AdminRole
from core.services import broadcasts, catalogue

AUDIENCE_LABELS = {
    "all": _l("All students"),
    "platform": _l("Students of one platform"),
    "booking": _l("Students with an open booking"),
}


class BroadcastView(SecureView):
    roles = frozenset({AdminRole.OWNER})

    def _form(self, source):
        text = source.get("text") or ""
        audience = source.get("audience") or "all"
        if audience not in AUDIENCE_LABELS:  # never echo an unknown (possibly huge) value back
            audience = "invalid"
        raw_platform = (source.get("platform_id") or "").strip()
        platform_id = (
            int(raw_platform) if raw_platform.isascii() and raw_platform.isdigit() and len(raw_platform) <= 18 else None
        )
        return text, audience, platform_id

    @expose("/", methods=["GET"])
    def index(self):
        text, audience, platform_id = self._form(request.args)
        preview = None
        with service_session() as s:
            platforms = catalogue.platform_choices(s)
            if request.args.get("preview"):
                try:
                    count = broadcasts.audience_count(s, audience, platform_id)
                    names = broadcasts.preview_recipients(s, audience, platform_id)
                    preview = {"count": count, "names": names}
                except DomainError as err:
                    flash(admin_message(err), "error")
            history = broadcasts.list_broadcasts(s, limit=20)
        return self.render(
            "admin_panel/broadcasts.html",
            text=text,
            audience=audience,
            platform_id=platform_id,
            platforms=platforms,
            preview=preview,
            history=history,
            labels=AUDIENCE_LABELS,
            fmt_time=fmt_time,
            names=dict(platforms),
        )

    @expose("/send", methods=["POST"])
    def send(self):
        text, audience, platform_id = self._form(request.form)
        try:
            with service_session() as s:
                info = broadcasts.create_broadcast(s, text, audience, platform_id=platform_id, actor=actor())
        except DomainError as err:
            flash(_("Not sent: %(problem)s", problem=admin_message(err)), "error")
            return redirect(url_for(".index", text=text[:4000], audience=audience, platform_id=platform_id or ""))
        if info.replayed:
            flash(_("This announcement was just sent; it was not queued twice."), "info")
        else:
            flash(
                _(
                    "Broadcast #%(id)s queued for %(n)s student(s); the bot sends it now.",
                    id=fmt_number(info.id),
                    n=fmt_number(info.recipients),
                ),
                "success",
            )
        return redirect(url_for(".index"))
