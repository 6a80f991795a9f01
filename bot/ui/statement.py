"""How a ledger row reads to the student, in their language (/balance and /history share it)."""

from __future__ import annotations

from bot.ui.errors import BOT_VOICE
from bot.ui.format import signed, status_name, type_name, when
from core.services import ledger
from core.services.ledger import StatementLine


def what_for(line: StatementLine) -> str | None:
    """The second line of an entry: what the money was for (core.services.ledger, in the update's language)."""
    return ledger.what_for(line, BOT_VOICE)


def entry_line(line: StatementLine) -> str:
    e = line.entry
    text = f"{type_name(e.type)} <b>{signed(e.amount)}</b> · {status_name(e.status)} · {when(e.created_at, time=False)}"
    detail = what_for(line)
    return f"{text}\n    <i>{detail}</i>" if detail else text
