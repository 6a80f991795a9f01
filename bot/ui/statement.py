"""How a ledger row reads to the student, in their language (/balance and /history share it)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.ui.format import esc, number, signed, status_name, type_name, when
from core.models import TransactionType
from core.services.ledger import StatementLine


def what_for(line: StatementLine) -> str | None:
    """The second line of an entry: what the money was for, worded from its type and reference."""
    e, d = line.entry, line.detail
    if e.type == TransactionType.TOP_UP:
        return f"#{number(e.id)} · {e.wallet_masked or ''}"
    if e.type == TransactionType.PLATFORM_PURCHASE:
        platform = esc(d.platform or "?")
        return (_("Renewed {platform}") if d.renewed else _("Enrolled in {platform}")).format(platform=platform)
    if e.type == TransactionType.MENTORSHIP_PAYMENT:
        return _("Mentorship session #{id} with {mentor} ({minutes} min)").format(
            id=number(d.booking_id or "?"), mentor=esc(d.mentor or "?"), minutes=number(d.minutes or "?")
        )
    if e.type == TransactionType.REFUND:
        return _("Refund for session #{id}").format(id=number(d.booking_id or "?"))
    if e.type == TransactionType.ADJUSTMENT:
        return esc(d.reason)
    return None  # the welcome credit says it all in its type


def entry_line(line: StatementLine) -> str:
    e = line.entry
    text = f"{type_name(e.type)} <b>{signed(e.amount)}</b> · {status_name(e.status)} · {when(e.created_at, time=False)}"
    detail = what_for(line)
    return f"{text}\n    <i>{detail}</i>" if detail else text
