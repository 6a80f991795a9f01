"""Top-up requests: PENDING first, oldest first; approve and reject through core.services.topups (the
confirmation rule)."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import case
from sqlalchemy.orm import joinedload

from admin_panel.panel.base import (
    STATUS_CHOICES,
    ActionPrompt,
    SecureModelView,
    age,
    enum_formatter,
    fmt_money,
    fmt_number,
    fmt_time,
    left_to_right,
    money_formatter,
    parse_int,
    post_button,
)
from admin_panel.web.context import actor, service_session
from admin_panel.web.errors import admin_message
from core.errors import ConfirmationRequired, DomainError, InvalidInput, NotFound, ReasonRequired
from core.models import AdminRole, Transaction, TransactionStatus, TransactionType
from core.services import reconciliation, topups


def _suggestion(view, model):
    """The first likely transfer for a pending request (computed once per list page)."""
    if model.status != TransactionStatus.PENDING:
        return None
    if "topup_suggestions" not in g:
        with service_session() as s:
            g.topup_suggestions = reconciliation.suggestions(s)
    found = g.topup_suggestions.get(model.id)
    return found[0] if found else None


def _feed_in_use() -> bool:
    """topups.transfer_feed_in_use, asked once per page."""
    if "transfer_feed" not in g:
        with service_session() as s:
            g.transfer_feed = topups.transfer_feed_in_use(s)
    return g.transfer_feed


def _transfer_cell(view, ctx, model, name):
    sg = _suggestion(view, model)
    if sg is None:
        return Markup('<span class="text-muted small">—</span>')
    warn = "".join(f'<div class="small text-danger">{escape(w)}</div>' for w in sg.warnings)
    said = _(
        "matches transfer %(reference)s, received %(time)s",
        reference=sg.transfer.reference,
        time=fmt_time(sg.transfer.received_at)[-5:],
    )
    return Markup(f'<span class="small">{escape(said)}</span>{warn}')


def _decide_cell(view, ctx, model, name):
    if model.status != TransactionStatus.PENDING:
        by = model.processed_by or "—"
        said = _("by %(name)s", name=by)
        return Markup(f'<span class="text-muted small">{escape(said)}</span>')
    sg = _suggestion(view, model)
    if sg is not None or not _feed_in_use():  # a matching transfer, or no feed at all: one tap approves
        fields = {"next": request.full_path}
        if sg is not None:
            fields["transfer_id"] = sg.transfer.id
        approve = post_button(url_for(".approve", id=model.id), _("Approve"), "btn-success", fields=fields)
    else:  # transfers are fed in and none matches: approving asks for a confirmation and a reason
        label = _("Approve…")
        approve = Markup(
            f'<a class="btn btn-sm btn-outline-success" href="{url_for(".review", id=model.id)}#approve">'
            f"{escape(label)}</a>"
        )
    label = _("Reject…")
    reject = Markup(
        f'<a class="btn btn-sm btn-outline-danger" href="{url_for(".review", id=model.id)}#reject">{escape(label)}</a>'
    )
    return Markup('<div class="row-actions d-flex">') + approve + reject + Markup("</div>")


def _age_cell(moment):
    title = _("%(time)s Cairo", time=fmt_time(moment))
    return Markup(f'<span title="{escape(title)}">{escape(age(moment))}</span>')


def _student_cell(view, ctx, model, name):
    user = model.user
    handle = f" @{user.username}" if user.username else ""
    return Markup(
        f'<a href="{url_for("students.profile", id=user.id)}">{escape(user.full_name)}</a>'
        f'<span class="text-muted small">{escape(handle)}</span>'
    )


class TopupView(SecureModelView):
    roles = frozenset({AdminRole.OWNER, AdminRole.FINANCE})
    list_template = "admin_panel/prompted_action_list.html"
    action_prompt = ActionPrompt(
        "reject", "reason", _l("Reason for rejecting the selected requests (the students will see it):")
    )
    column_list = ["id", "user", "amount", "wallet_number_masked", "status", "created_at", "transfer", "decide"]
    column_labels = {
        "id": "#",
        "user": _l("Student"),
        "amount": _l("Amount"),
        "status": _l("Status"),
        "wallet_number_masked": _l("Sender number"),
        "transfer": _l("Transfer"),
        "created_at": _l("Age"),
        "decide": "",
        "user.full_name": _l("student"),
        "user.username": _l("username"),
    }
    column_sortable_list = ["id", "amount", "status", "created_at"]
    column_choices = {"status": STATUS_CHOICES}
    column_searchable_list = ["user.full_name", "user.username", "wallet_number_masked"]
    column_filters = ["status"]
    column_formatters = {
        "id": lambda v, c, m, n: Markup(f'<a href="{url_for(".review", id=m.id)}">#{fmt_number(m.id)}</a>'),
        "user": _student_cell,
        "amount": money_formatter("amount"),
        "status": enum_formatter("status"),
        "created_at": lambda v, c, m, n: _age_cell(m.created_at),
        "transfer": _transfer_cell,
        "wallet_number_masked": left_to_right("wallet_number_masked"),
        "decide": _decide_cell,
    }
    column_default_sort = None
    simple_list_pager = True  # the header counts what matters (pending); no exact count of every top-up

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Pending first (oldest first), then the decided ones, newest first: two index walks of one page
        each, instead of sorting every top-up ever made by a CASE (2 s at a million ledger rows)."""
        if sort_column is not None or not execute:
            return super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        size = page_size or self.page_size
        query, joins = self.get_query(), {}
        if self._search_supported and search:
            query, _, joins, _ = self._apply_search(query, None, joins, {}, search)
        if filters and self._filters:
            query, _, joins, _ = self._apply_filters(query, None, joins, {}, filters)
        query = query.options(joinedload(Transaction.user))
        pending = Transaction.status == TransactionStatus.PENDING
        skip = (page or 0) * size
        rows = query.filter(pending).order_by(Transaction.created_at, Transaction.id).offset(skip).limit(size).all()
        if len(rows) < size:
            before = query.filter(pending).count() if skip else len(rows)
            rows += (
                query.filter(Transaction.status != TransactionStatus.PENDING)
                .order_by(Transaction.created_at.desc(), Transaction.id.desc())
                .offset(max(0, skip - before))
                .limit(size - len(rows))
                .all()
            )
        return None, rows

    def get_query(self):
        return super().get_query().filter(Transaction.type == TransactionType.TOP_UP)

    def get_count_query(self):
        return super().get_count_query().filter(Transaction.type == TransactionType.TOP_UP)

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        if sort_column is not None:
            return super()._apply_sorting(query, joins, sort_column, sort_desc)
        pending = Transaction.status == TransactionStatus.PENDING
        return query.order_by(
            case((pending, 0), else_=1),
            case((pending, Transaction.created_at), else_=None),
            Transaction.created_at.desc(),
            Transaction.id,
        ), joins

    # --- one request's page -------------------------------------------------------------
    @expose("/request/<id>")
    def review(self, id):
        tx_id = parse_int(id)
        try:
            with service_session() as s:
                row = topups.get_topup(s, tx_id)
                full_number = topups.reveal_wallet(s, tx_id)
                suggestions = reconciliation.suggestions(s, [tx_id]).get(tx_id, [])
                signals = reconciliation.fraud_signals(s, request_id=tx_id)
                paid_by = reconciliation.transfer_paying_for(s, tx_id)
                feed = topups.transfer_feed_in_use(s)
        except NotFound:
            flash(_("Top-up request #%(id)s does not exist.", id=fmt_number(tx_id)), "error")
            return redirect(url_for(".index_view"))
        return self.render(
            "admin_panel/topup_review.html",
            tx=row,
            full_number=full_number,
            suggestions=suggestions,
            signals=signals,
            paid_by=paid_by,
            feed=feed,
            fmt_money=fmt_money,
            fmt_time=fmt_time,
            age=age,
        )

    @expose("/request/<id>/approve", methods=["POST"])
    def approve(self, id):
        tx_id = parse_int(id)
        notes = request.form.get("notes") or None
        transfer = request.form.get("transfer_id")
        try:
            with service_session() as s:
                result = topups.approve(
                    s,
                    tx_id,
                    actor=actor(),
                    reason=notes,
                    transfer_id=parse_int(transfer) if transfer else None,
                    confirmed=request.form.get("confirmed") == "1",
                )
        except DomainError as err:
            flash(_("Top-up #%(id)s: %(problem)s", id=fmt_number(tx_id), problem=admin_message(err)), "error")
            if err.code == "CONFIRMATION_REQUIRED":
                return redirect(url_for(".review", id=tx_id) + "#approve")
        else:
            flash(
                _(
                    "Top-up #%(id)s approved: %(amount)s credited; new balance %(balance)s. "
                    "The student will be notified.",
                    id=fmt_number(tx_id),
                    amount=fmt_money(result.amount),
                    balance=fmt_money(result.balance),
                ),
                "success",
            )
        return self.back(".index_view")

    @expose("/request/<id>/reject", methods=["POST"])
    def reject(self, id):
        tx_id = parse_int(id)
        try:
            with service_session() as s:
                result = topups.reject(
                    s,
                    tx_id,
                    request.form.get("reason", ""),
                    actor=actor(),
                    confirmed=request.form.get("confirmed") == "1",
                )
        except DomainError as err:
            flash(_("Top-up #%(id)s: %(problem)s", id=fmt_number(tx_id), problem=admin_message(err)), "error")
            if isinstance(err, (ReasonRequired, InvalidInput, ConfirmationRequired)):
                return redirect(url_for(".review", id=tx_id))
        else:
            flash(
                _(
                    "Top-up #%(id)s of %(amount)s rejected. The student will be told why.",
                    id=fmt_number(tx_id),
                    amount=fmt_money(result.amount),
                ),
                "success",
            )
        return self.back(".index_view")

    # --- bulk actions ---------------------------------------------------------------------
    @action(
        "approve",
        _l("Approve (only those a received transfer certainly pays for)"),
        _l(
            "Approve the selected top-up requests that a received Vodafone Cash transfer certainly pays for? "
            "The others are skipped: decide them on their own page."
        ),
    )
    def action_approve(self, ids):
        self._bulk(ids, "APPROVED", lambda s, tx_id: topups.approve_certain(s, tx_id, actor=actor()))

    @action("reject", _l("Reject (asks for a reason)"))
    def action_reject(self, ids):
        reason = (request.form.get("reason") or "").strip()
        if not reason:
            flash(_("Rejecting needs a reason: nothing was changed."), "error")
            return
        self._bulk(ids, "REJECTED", lambda s, tx_id: topups.reject(s, tx_id, reason, actor=actor()))

    def _bulk(self, ids, outcome: str, decide) -> None:
        """Each request on its own: the certain ones are decided; the ones that need a confirmation (no
        transfer matches an approval, or one matches a rejection) are skipped and named, with why."""
        done, skipped, problems = 0, [], []
        for raw in ids:
            try:
                with service_session() as s:
                    decide(s, int(raw))
                done += 1
            except ConfirmationRequired as err:
                skipped.append(f"#{fmt_number(raw)}: {admin_message(err)}")
            except (DomainError, ValueError) as err:
                said = admin_message(err) if isinstance(err, DomainError) else _("bad id")
                problems.append(f"#{fmt_number(raw)}: {said}")
        if done and outcome == "APPROVED":
            flash(_("Approved %(n)s top-up request(s).", n=fmt_number(done)), "success")
        elif done:
            flash(_("Rejected %(n)s top-up request(s).", n=fmt_number(done)), "success")
        if skipped:
            flash(
                _(
                    "Skipped %(n)s, as they need a confirmation on their own page: %(which)s",
                    n=fmt_number(len(skipped)),
                    which="; ".join(skipped),
                ),
                "warning",
            )
        for p in problems:
            flash(p, "error")

    def list_header_html(self) -> str:
        with service_session() as s:
            n = topups.count_pending_topups(s)
        said = _(
            "%(n)s pending request(s). Check each against the Vodafone Cash statement before approving. "
            "Times are Africa/Cairo.",
            n=fmt_number(n),
        )
        return f'<p class="text-muted small mb-2">{escape(said)}</p>'
