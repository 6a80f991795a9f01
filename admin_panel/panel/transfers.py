"""Vodafone Cash transfers: paste SMS texts, import a statement (map columns, preview, store), see what is
unmatched, approve a suggested pair in one click, and the fraud signals. Rules live in
core.services.reconciliation; this only reads forms and renders."""

from __future__ import annotations

import base64
import binascii

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin_panel.panel.base import SecureView, fmt_money, fmt_number, fmt_time, parse_int
from admin_panel.web.context import actor, service_session
from admin_panel.web.errors import admin_message
from core.errors import DomainError
from core.services import reconciliation as rec
from core.services import topups

MAX_PASTE = 100_000


PROBLEMS = {
    "NO_REFERENCE": _l("money received but no transaction number in the text: nothing stored"),
    "NO_AMOUNT": _l("money received but no amount in the text: nothing stored"),
    "AMOUNT_TOO_LARGE": _l(
        "money received, but the amount is larger than any wallet could receive: nothing stored, "
        "check the wallet's own statement"
    ),
}


def describe(result: rec.IngestResult) -> str:
    if result.kind != "received":
        return _("not money received: nothing stored")
    if result.problem is not None or result.transfer is None:
        return str(PROBLEMS.get(result.problem, _l("money received but unreadable: nothing stored")))
    t = result.transfer
    what = {"reference": t.reference, "amount": fmt_money(t.amount)}
    if result.settled_request:
        return _(
            "transfer %(reference)s of %(amount)s: stored, and top-up #%(id)s approved automatically",
            id=fmt_number(result.settled_request),
            **what,
        )
    if result.duplicate:
        return _("transfer %(reference)s of %(amount)s: already known, nothing changed", **what)
    return _("transfer %(reference)s of %(amount)s: stored", **what)


class TransfersView(SecureView):
    roles = frozenset({"owner", "finance"})

    @expose("/")
    def index(self):
        with service_session() as s:
            unmatched = rec.unmatched_transfers(s)
            suggestions = rec.suggestions(s)
            lonely = rec.requests_without_transfer(s)
            recent = rec.recent_transfers(s, limit=30)
        by_transfer = {sg.transfer.id: sg for items in suggestions.values() for sg in items}
        return self.render(
            "admin_panel/transfers.html",
            unmatched=unmatched,
            by_transfer=by_transfer,
            lonely=lonely,
            recent=recent,
            fmt_money=fmt_money,
            fmt_time=fmt_time,
        )

    @expose("/paste", methods=["POST"])
    def paste(self):
        blob = request.form.get("texts", "")
        if len(blob) > MAX_PASTE:
            flash(_("Too much text at once: paste at most 100,000 characters."), "error")
            return redirect(url_for(".index"))
        try:
            with service_session() as s:
                results = rec.receive_pasted(s, blob)
        except DomainError as err:
            flash(_("Nothing stored: %(problem)s", problem=admin_message(err)), "error")
            return redirect(url_for(".index"))
        for i, result in enumerate(results, start=1):
            ok = result.kind == "received" and result.transfer is not None
            flash(_("Message %(n)s: %(what)s.", n=fmt_number(i), what=describe(result)), "success" if ok else "info")
        return redirect(url_for(".index"))

    @expose("/approve/<request_id>/<transfer_id>", methods=["POST"])
    def approve(self, request_id, transfer_id):
        tx_id, t_id = parse_int(request_id), parse_int(transfer_id)
        try:
            with service_session() as s:
                result = topups.approve(s, tx_id, actor=actor(), transfer_id=t_id)
        except DomainError as err:
            flash(_("Top-up #%(id)s: %(problem)s", id=fmt_number(tx_id), problem=admin_message(err)), "error")
        else:
            flash(
                _(
                    "Top-up #%(id)s approved with its transfer: %(amount)s credited; new balance %(balance)s. "
                    "The student will be notified.",
                    id=fmt_number(tx_id),
                    amount=fmt_money(result.amount),
                    balance=fmt_money(result.balance),
                ),
                "success",
            )
        return self.back()

    @expose("/statement", methods=["GET", "POST"])
    def statement(self):
        """Step 1: upload. Step 2 (same page): map columns and preview. Step 3: import (stores)."""
        if request.method == "GET":
            return self.render("admin_panel/transfer_statement.html", step="upload")
        upload = request.files.get("file")
        try:
            if upload is not None and upload.filename:
                data, name = upload.read(), upload.filename
            else:
                data = base64.b64decode(request.form.get("data", ""), validate=True)
                name = request.form.get("name", "")
            sheet = rec.read_statement(data, name)
        except (DomainError, binascii.Error, ValueError) as err:
            flash(
                admin_message(err)
                if isinstance(err, DomainError)
                else _("The upload was damaged; choose the file again."),
                "error",
            )
            return redirect(url_for(".statement"))
        if upload is not None and upload.filename:
            mapping = rec.guess_mapping(sheet.headers)
        else:
            mapping = {f: self._column(request.form.get(f"col_{f}"), len(sheet.headers)) for f in rec.STATEMENT_FIELDS}
        try:
            lines = rec.statement_lines(sheet, mapping)
        except DomainError as err:
            flash(admin_message(err), "error")
            lines = []
        if request.form.get("confirm") == "import" and lines:
            with service_session() as s:
                results = rec.import_statement(s, sheet, mapping)
            stored = sum(r.stored for r in results)
            settled = sum(1 for r in results if r.settled_request)
            flash(
                _(
                    "Statement imported: %(new)s new transfer(s), %(known)s already known, "
                    "%(settled)s top-up(s) approved automatically.",
                    new=fmt_number(stored),
                    known=fmt_number(len(results) - stored),
                    settled=fmt_number(settled),
                ),
                "success",
            )
            return redirect(url_for(".index"))
        return self.render(
            "admin_panel/transfer_statement.html",
            step="map",
            headers=sheet.headers,
            mapping=mapping,
            fields=rec.STATEMENT_FIELDS,
            lines=lines[:50],
            total=len(lines),
            usable=sum(1 for line in lines if line.parsed),
            name=name,
            data=base64.b64encode(data).decode(),
            fmt_money=fmt_money,
            fmt_time=fmt_time,
        )

    @staticmethod
    def _column(raw, width: int) -> int | None:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            return None
        return value if 0 <= value < width else None

    @expose("/signals")
    def signals(self):
        with service_session() as s:
            found = rec.fraud_signals(s)
        return self.render("admin_panel/transfer_signals.html", signals=found)
