"""Vodafone Cash reconciliation: store received transfers once, settle certain pairs (through core.services.topups),
suggest the rest, and show what looks wrong (fraud signals). The webhook, the panel and the CLI only parse input
and call here; an admin's decision on a request is core.services.topups'.
"""

from __future__ import annotations

import csv
import difflib
import io
import logging
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.orm import Session

from core.crypto import mask_wallet
from core.db import context_of, unit_of_work
from core.errors import InvalidAmount, InvalidInput, NotFound
from core.models import Notification, NotificationKind, Transaction, TransactionStatus, TransactionType, Transfer, User
from core.money import normalize_digits, parse_amount
from core.services import matching, notifications, topups
from core.services.common import clean_text
from core.services.notifications import insert_ignore
from core.services.settings import get_settings
from core.sms import (
    MAX_SMS_AMOUNT,
    RECEIVED,
    ParsedSms,
    normalize_mobile,
    normalize_reference,
    parse_sms,
    split_messages,
)
from core.text import has_control
from core.timeutil import CAIRO, as_utc

log = logging.getLogger(__name__)
SOURCES = ("sms", "paste", "statement", "cli")
MAX_SMS = 2000
MAX_PASTE_MESSAGES = 200
REJECTIONS_FLAG = 3  # rejected top-ups in REJECTIONS_DAYS that make a student worth a look
REJECTIONS_DAYS = 30
BURST_COUNT = 3  # requests within BURST_WINDOW
BURST_WINDOW = timedelta(hours=1)
NAME_SIMILARITY = 0.5


@dataclass(frozen=True)
class TransferInfo:
    id: int
    reference: str
    amount: Decimal
    sender_masked: str | None
    sender_name: str | None
    received_at: datetime
    source: str
    transaction_id: int | None
    matched_by: str | None


@dataclass(frozen=True)
class IngestResult:
    """What one incoming text or row did: stored a new transfer, repeated a known one, or nothing."""

    kind: str  # received | other
    stored: bool = False
    duplicate: bool = False
    transfer: TransferInfo | None = None
    settled_request: int | None = None  # the top-up approved automatically, if any
    problem: str | None = None  # why a received text created nothing (e.g. NO_REFERENCE)


def info(row: Transfer) -> TransferInfo:
    return TransferInfo(
        row.id,
        row.reference,
        row.amount,
        row.sender_masked,
        row.sender_name,
        row.received_at,
        row.source,
        row.transaction_id,
        row.matched_by,
    )


# --- transfers in -------------------------------------------------------------------------------


def record_transfer(
    session: Session,
    parsed: ParsedSms,
    *,
    source: str,
    raw_text: str | None = None,
    received_at: datetime | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """Store a received transfer once per transaction number, then settle its request if certain.

    A repeat (forwarder retries, a paste of the same SMS, a statement row already seen) stores nothing
    and returns the first transfer; it still tries to settle, in case the first delivery stopped short.
    """
    now = as_utc(now)
    if source not in SOURCES:
        raise InvalidInput(f"unknown source {source}")
    if not parsed.is_received:
        return IngestResult(parsed.kind)
    if parsed.problem is not None:
        log.warning(
            "a received SMS was not stored as a transfer: %s (transaction number %s)",
            parsed.problem,
            parsed.reference or "none",
        )
        return IngestResult(RECEIVED, problem=parsed.problem)
    if parsed.reference is None:
        return IngestResult(RECEIVED, problem="NO_REFERENCE")
    if parsed.amount is None or parsed.amount <= 0:
        return IngestResult(RECEIVED, problem="NO_AMOUNT")
    cipher = context_of(session).cipher
    sender = parsed.sender
    when = as_utc(parsed.sent_at or received_at or now)
    with unit_of_work(session):
        new_id = insert_ignore(
            session,
            Transfer,
            dict(
                reference=parsed.reference,
                amount=parsed.amount,
                sender_hash=cipher.digest(sender) if sender else None,
                sender_number=cipher.encrypt(sender) if sender else None,
                sender_masked=mask_wallet(sender) if sender else None,
                sender_name=(parsed.sender_name or None) and parsed.sender_name[:120],
                wallet_balance=parsed.balance,
                received_at=when,
                source=source,
                raw_text=cipher.encrypt(raw_text[:MAX_SMS]) if raw_text else None,
                created_at=now,
            ),
            ["reference"],
        )
        row = session.scalar(select(Transfer).where(Transfer.reference == parsed.reference))
        first = info(row)
    decision = None
    if first.transaction_id is None:
        decision = _settle(session, first.id, now=now)
        first = transfer_info(session, first.id)
    return IngestResult(
        RECEIVED,
        stored=new_id is not None,
        duplicate=new_id is None,
        transfer=first,
        settled_request=decision.transaction_id if decision else None,
    )


def _settle(session: Session, transfer_id: int, *, now: datetime) -> topups.TopupDecision | None:
    """An unmatched transfer: first the request an admin approved by hand, else the certain pending one."""
    if _link_to_approved(session, transfer_id, now=now):
        return None
    decision = topups.settle_automatically(session, transfer_id=transfer_id, now=now)
    if decision is None:
        _link_to_approved(session, transfer_id, now=now)  # an admin may have approved it meanwhile
    return decision


def _link_to_approved(session: Session, transfer_id: int, *, now: datetime) -> bool:
    """A transfer that arrives after an admin approved its request by hand is marked as paying for it
    (no money moves), before any pending request is considered: a student who files the same amount
    again must not be credited twice from one transfer. Linked only when one approval fits; with
    several, the transfer stays unmatched and settles nothing by itself (matching.certain_pair)."""
    window = matching.window_of(get_settings(session).match_window_minutes)
    with unit_of_work(session):
        transfer = session.get(Transfer, transfer_id, populate_existing=True)
        if transfer is None or transfer.transaction_id is not None:
            return False
        approved = matching.approved_without_transfer(session, transfer, window)
        if len(approved) != 1 or approved[0].amount != transfer.amount:
            return False
        return matching.claim(session, transfer_id, approved[0].id, by="auto-match (approved earlier)", now=now)


def receive_sms(
    session: Session,
    text: str,
    *,
    source: str = "sms",
    received_at: datetime | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """One SMS text (already known to come from the wallet's sender id)."""
    text = _checked(text)
    parsed = parse_sms(text, reference_time=received_at or now)
    return record_transfer(session, parsed, source=source, raw_text=text, received_at=received_at, now=now)


def _checked(text) -> str:
    text = str(text or "")
    if len(text) > MAX_SMS:
        raise InvalidInput(f"an SMS is at most {MAX_SMS} characters")
    if has_control(text):
        raise InvalidInput("the text contains control characters")
    return text


def receive_pasted(session: Session, blob: str, *, now: datetime | None = None) -> list[IngestResult]:
    """One or many SMS texts pasted by an admin (blank lines, or each message on its own line).
    Every message is checked before any is stored."""
    messages = split_messages(blob)
    if not messages:
        raise InvalidInput("paste at least one SMS text")
    if len(messages) > MAX_PASTE_MESSAGES:
        raise InvalidInput(f"at most {MAX_PASTE_MESSAGES} messages at once")
    for message in messages:
        _checked(message)
    return [receive_sms(session, m, source="paste", now=now) for m in messages]


def transfer_info(session: Session, transfer_id: int) -> TransferInfo:
    row = session.get(Transfer, transfer_id, populate_existing=True)
    if row is None:
        raise NotFound("transfer not found", entity="transfer", id=transfer_id)
    return info(row)


def settle_pending(session: Session, *, now: datetime | None = None) -> list[int]:
    """Try every unmatched transfer again (after switching auto-approval on, or a crash): the settled ids."""
    ids = session.scalars(select(Transfer.id).where(Transfer.transaction_id.is_(None)).order_by(Transfer.id)).all()
    settled = []
    for transfer_id in ids:
        decision = _settle(session, transfer_id, now=as_utc(now))
        if decision is not None:
            settled.append(decision.transaction_id)
    return settled


UNMATCHED_NOTICE_MAX_AGE = timedelta(days=3)  # older transfers (a statement import of past months): no notice


def unmatched_notice_key(transfer_id: int) -> str:
    return f"unmatched-transfer:{transfer_id}"


def announce_unmatched_transfers(session: Session, *, now: datetime | None = None, limit: int = 200) -> int:
    """Tell the admins, once per transfer, about a received transfer that no request took within the
    matching window (counted from when it was received and from when it was stored, whichever is later).

    The outbox row's dedupe key is the mark: a second tick, a second runner or a restart finds it and
    queues nothing, and no column is needed. Transfers received long ago (an old statement) are skipped.
    """
    now = as_utc(now)
    minutes = get_settings(session).match_window_minutes
    window = matching.window_of(minutes)
    announced = (
        select(Notification.id)
        .where(Notification.dedupe_key == literal("unmatched-transfer:") + cast(Transfer.id, String))
        .exists()
    )
    with unit_of_work(session, write=False):
        rows = [
            info(t)
            for t in session.scalars(
                select(Transfer)
                .where(
                    Transfer.transaction_id.is_(None),
                    Transfer.received_at <= now - window,
                    Transfer.created_at <= now - window,
                    Transfer.received_at >= now - UNMATCHED_NOTICE_MAX_AGE,
                    ~announced,
                )
                .order_by(Transfer.received_at, Transfer.id)
                .limit(limit)
            )
        ]
    if not rows:
        return 0
    queued = 0
    with unit_of_work(session):
        for t in rows:
            if (
                notifications.notify_admins(
                    session,
                    kind=NotificationKind.ADMIN_TRANSFER_UNMATCHED,
                    subject=f"transfer:{t.id}",
                    now=now,
                    dedupe_key=unmatched_notice_key(t.id),
                    payload={
                        "transfer_id": t.id,
                        "reference": t.reference,
                        "amount": str(t.amount),
                        "sender": t.sender_masked or "",
                        "sender_name": t.sender_name or "",
                        "received_at": as_utc(t.received_at).isoformat(),
                        "window_minutes": minutes,
                    },
                )
                is not None
            ):
                queued += 1
    return queued


# --- statements (CSV / XLSX exports of the wallet's transactions) ---------------------------------

STATEMENT_FIELDS = ("reference", "amount", "sender", "sender_name", "date", "direction")
_GUESS = {
    "reference": ("transaction number", "transaction id", "reference", "ref", "رقم العملية", "رقم العمليه", "id"),
    "amount": ("amount", "value", "المبلغ", "مبلغ", "credit"),
    "sender": ("sender", "from", "msisdn", "mobile", "phone", "من", "رقم المرسل", "الرقم"),
    "sender_name": ("name", "sender name", "الاسم", "اسم"),
    "date": ("date", "time", "datetime", "التاريخ", "تاريخ"),
    "direction": ("type", "direction", "النوع", "نوع العملية"),
}
_INCOMING = re.compile(r"(receiv|incoming|credit|\bin\b|استلام|وارد|ايداع|إيداع)", re.IGNORECASE)
_OUTGOING = re.compile(r"(sent|send|outgoing|debit|transfer to|\bout\b|تحويل|صادر|سحب|دفع)", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class StatementLine:
    row: int  # 1-based data row
    parsed: ParsedSms | None
    problem: str | None = None


def read_statement(data: bytes, filename: str) -> Statement:
    """The header row and data rows of a CSV or XLSX export (cells as text)."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        try:
            from openpyxl import load_workbook

            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            table = [["" if v is None else _cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the user's bad input
            raise InvalidInput(f"not a readable XLSX file ({type(exc).__name__})") from None
    elif name.endswith((".csv", ".txt")):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1256", errors="replace")
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        table = [row for row in csv.reader(io.StringIO(text), dialect)]
    else:
        raise InvalidInput("a statement is a .csv or .xlsx file")
    table = [[c.strip() for c in row] for row in table if any(str(c).strip() for c in row)]
    if len(table) < 2:
        raise InvalidInput("the file has no data rows under a header row")
    if len(table) > 5001:
        raise InvalidInput("at most 5000 rows at once")
    width = max(len(r) for r in table)
    table = [r + [""] * (width - len(r)) for r in table]
    return Statement([h or f"column {i + 1}" for i, h in enumerate(table[0])], table[1:])


def _cell(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{Decimal(str(value)):f}"  # a spreadsheet number, read through its shortest text
    return str(value)


def guess_mapping(headers: list[str]) -> dict[str, int | None]:
    lowered = [h.strip().lower() for h in headers]
    mapping: dict[str, int | None] = {}
    for name, words in _GUESS.items():
        mapping[name] = next((i for w in words for i, h in enumerate(lowered) if h == w), None)
        if mapping[name] is None:
            mapping[name] = next((i for w in words if len(w) > 3 for i, h in enumerate(lowered) if w in h), None)
    return mapping


def statement_lines(statement: Statement, mapping: dict[str, int | None]) -> list[StatementLine]:
    """Each row read as a transfer (or a reason why not), for the preview and the import alike."""
    for required in ("reference", "amount"):
        if mapping.get(required) is None:
            raise InvalidInput(f"choose the column that holds the {required.replace('_', ' ')}")
    lines = []
    for number, row in enumerate(statement.rows, start=1):
        cell = {k: (row[i] if i is not None and i < len(row) else "") for k, i in mapping.items()}
        if any(has_control(v) for v in cell.values()):
            lines.append(StatementLine(number, None, "control characters"))
            continue
        direction = cell.get("direction") or ""
        amount_text = re.sub(r"[^\d.,\-]", "", cell["amount"].replace("٫", ".").replace("٬", ","))
        if _OUTGOING.search(direction) and not _INCOMING.search(direction) or amount_text.startswith("-"):
            lines.append(StatementLine(number, None, "not money received"))
            continue
        try:  # the one amount parser: no exponents, bounded length, at most 2 decimals
            amount = parse_amount(cell["amount"], maximum=MAX_SMS_AMOUNT)
        except InvalidAmount as exc:
            lines.append(StatementLine(number, None, "amount too large" if exc.reason == "TOO_LARGE" else "no amount"))
            continue
        reference = normalize_reference(cell["reference"])
        if reference is None:
            lines.append(StatementLine(number, None, "no transaction number"))
            continue
        name = clean_text(cell.get("sender_name") or None, limit=120, field="name") if cell.get("sender_name") else None
        lines.append(
            StatementLine(
                number,
                ParsedSms(
                    RECEIVED,
                    amount=amount,
                    sender=normalize_mobile(cell.get("sender") or ""),
                    sender_name=name,
                    reference=reference,
                    sent_at=_statement_time(cell.get("date") or ""),
                ),
            )
        )
    return lines


def _statement_time(text: str) -> datetime | None:
    text = normalize_digits(text).strip()
    for fmt in (
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M",
        "%d-%m-%Y %H:%M",
        "%Y-%m-%d",
        "%d/%m/%Y",
        "%m/%d/%Y %H:%M",
    ):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=CAIRO)
        except ValueError:
            continue
    return None


def import_statement(
    session: Session, statement: Statement, mapping: dict[str, int | None], *, now: datetime | None = None
) -> list[IngestResult]:
    return [
        record_transfer(session, line.parsed, source="statement", now=now)
        for line in statement_lines(statement, mapping)
        if line.parsed is not None
    ]


# --- the admin's view: suggestions, lists, decisions -----------------------------------------------

SHARED_SENDER_WARNING = "this sender number is also used by another student: check who paid"


@dataclass(frozen=True)
class Suggestion:
    request_id: int
    transfer: TransferInfo
    certain: bool  # the unique pair (auto-approval would take it when switched on)
    warnings: tuple[str, ...] = ()


def suggestions(session: Session, request_ids: list[int] | None = None) -> dict[int, list[Suggestion]]:
    """Likely transfers for pending top-ups (all, or the given ones): request id -> suggestions."""
    window = matching.window_of(get_settings(session).match_window_minutes)
    query = select(Transaction).where(
        Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.PENDING
    )
    if request_ids is not None:
        query = query.where(Transaction.id.in_(request_ids or [-1]))
    out: dict[int, list[Suggestion]] = {}
    for request in session.scalars(query):
        found = matching.transfers_for_request(session, request, window)
        pair = matching.certain_pair(session, window=window, request_id=request.id) if found else None
        shared = bool(found) and not request.transfer_reference and matching.shared_sender(session, request)
        items = []
        for transfer in found:
            warnings = []
            if transfer.amount != request.amount:
                warnings.append(f"amount differs: transfer {transfer.amount}")
            if transfer.sender_hash and request.wallet_hash and transfer.sender_hash != request.wallet_hash:
                warnings.append("sent from another number than the student gave")
            if shared:
                warnings.append(SHARED_SENDER_WARNING)
            certain = pair is not None and pair.transfer_id == transfer.id and not shared
            items.append(Suggestion(request.id, info(transfer), certain, tuple(warnings)))
        if items:
            out[request.id] = items
    return out


def transfer_paying_for(session: Session, request_id: int) -> TransferInfo | None:
    row = session.scalar(select(Transfer).where(Transfer.transaction_id == request_id))
    return info(row) if row else None


def unmatched_transfers(session: Session, *, limit: int = 200) -> list[TransferInfo]:
    rows = session.scalars(
        select(Transfer)
        .where(Transfer.transaction_id.is_(None))
        .order_by(Transfer.received_at.desc(), Transfer.id.desc())
        .limit(limit)
    )
    return [info(r) for r in rows]


def recent_transfers(session: Session, *, limit: int = 100) -> list[TransferInfo]:
    rows = session.scalars(select(Transfer).order_by(Transfer.created_at.desc(), Transfer.id.desc()).limit(limit))
    return [info(r) for r in rows]


def requests_without_transfer(session: Session, *, limit: int = 200) -> list[topups.TopupRequest]:
    matched = set(suggestions(session))
    return [e for e in topups.pending_topups(session, limit=limit) if e.id not in matched]


# --- fraud signals ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    kind: str  # SHARED_SENDER | CLAIMED_TWICE | REPEATED_REJECTIONS | NO_TRANSFER | BURST | NAME_DIFFERS
    user_id: int | None
    request_id: int | None
    detail: str
    user_ids: tuple[int, ...] = field(default_factory=tuple)


def _fold_name(name: str) -> str:
    name = unicodedata.normalize("NFKD", name or "").translate(str.maketrans("أإآةى", "اااهي"))
    return " ".join(re.sub(r"[^\w\s]", " ", name.casefold()).split())


def names_differ(student_name: str | None, sender_name: str | None) -> bool:
    """Shown, not judged: the registered sender name shares little with the student's name."""
    a, b = _fold_name(student_name or ""), _fold_name(sender_name or "")
    if not a or not b:
        return False
    if set(a.split()) & set(b.split()):
        return False
    return difflib.SequenceMatcher(None, a, b).ratio() < NAME_SIMILARITY


def fraud_signals(
    session: Session, *, now: datetime | None = None, user_id: int | None = None, request_id: int | None = None
) -> list[Signal]:
    """Everything worth a second look, newest concerns first; filtered to one student or one request."""
    now = as_utc(now)
    settings = get_settings(session)
    window = matching.window_of(settings.match_window_minutes)
    topup = Transaction.type == TransactionType.TOP_UP
    signals: list[Signal] = []

    senders = session.execute(
        select(Transaction.wallet_hash, func.count(func.distinct(Transaction.user_id)))
        .where(topup, Transaction.wallet_hash.is_not(None))
        .group_by(Transaction.wallet_hash)
        .having(func.count(func.distinct(Transaction.user_id)) > 1)
    ).all()
    for digest, count in senders:
        users = tuple(
            sorted(set(session.scalars(select(Transaction.user_id).where(topup, Transaction.wallet_hash == digest))))
        )
        masked = session.scalar(
            select(Transaction.wallet_number_masked).where(Transaction.wallet_hash == digest).limit(1)
        )
        for uid in users:
            signals.append(
                Signal("SHARED_SENDER", uid, None, f"sender number {masked} is used by {count} students", users)
            )

    claims = session.execute(
        select(Transaction.transfer_reference, func.count())
        .where(topup, Transaction.transfer_reference.is_not(None), Transaction.status != TransactionStatus.REJECTED)
        .group_by(Transaction.transfer_reference)
        .having(func.count() > 1)
    ).all()
    used = {
        t.reference: t.transaction_id
        for t in session.scalars(
            select(Transfer).where(
                Transfer.transaction_id.is_not(None),
                Transfer.reference.in_(
                    select(Transaction.transfer_reference).where(topup, Transaction.transfer_reference.is_not(None))
                ),
            )
        )
    }
    for reference, _count in claims:
        rows = session.scalars(
            select(Transaction).where(
                topup, Transaction.transfer_reference == reference, Transaction.status != TransactionStatus.REJECTED
            )
        ).all()
        for r in rows:
            signals.append(
                Signal(
                    "CLAIMED_TWICE",
                    r.user_id,
                    r.id,
                    f"transaction number {reference} is claimed by {len(rows)} requests",
                    tuple(sorted({x.user_id for x in rows})),
                )
            )
    for r in session.scalars(
        select(Transaction).where(
            topup,
            Transaction.status == TransactionStatus.PENDING,
            Transaction.transfer_reference.in_(list(used) or ["-"]),
        )
    ):
        if used.get(r.transfer_reference) not in (None, r.id):
            signals.append(
                Signal(
                    "CLAIMED_TWICE",
                    r.user_id,
                    r.id,
                    f"transaction number {r.transfer_reference} already paid for request #{used[r.transfer_reference]}",
                )
            )

    since = now - timedelta(days=REJECTIONS_DAYS)
    for uid, count in session.execute(
        select(Transaction.user_id, func.count())
        .where(topup, Transaction.status == TransactionStatus.REJECTED, Transaction.decided_at >= since)
        .group_by(Transaction.user_id)
        .having(func.count() >= REJECTIONS_FLAG)
    ).all():
        signals.append(
            Signal("REPEATED_REJECTIONS", uid, None, f"{count} top-ups rejected in the last {REJECTIONS_DAYS} days")
        )

    pending = session.scalars(
        select(Transaction)
        .where(topup, Transaction.status == TransactionStatus.PENDING)
        .order_by(Transaction.created_at)
    ).all()
    for r in pending:
        if as_utc(r.created_at) + window < now and not matching.transfers_for_request(session, r, window):
            signals.append(
                Signal(
                    "NO_TRANSFER",
                    r.user_id,
                    r.id,
                    f"no received transfer matches {r.amount} after the {settings.match_window_minutes}-minute window",
                )
            )

    recent = session.execute(
        select(Transaction.user_id, Transaction.id, Transaction.created_at)
        .where(topup, Transaction.created_at >= now - timedelta(days=1))
        .order_by(Transaction.user_id, Transaction.created_at)
    ).all()
    by_user: dict[int, list] = defaultdict(list)
    for uid, tid, created in recent:
        by_user[uid].append((as_utc(created), tid))
    for uid, items in by_user.items():
        for i in range(len(items) - BURST_COUNT + 1):
            if items[i + BURST_COUNT - 1][0] - items[i][0] <= BURST_WINDOW:
                signals.append(
                    Signal(
                        "BURST",
                        uid,
                        items[i + BURST_COUNT - 1][1],
                        f"{BURST_COUNT} or more requests within {int(BURST_WINDOW.total_seconds() // 60)} minutes",
                    )
                )
                break

    names = session.execute(
        select(Transaction.id, Transaction.user_id, User.full_name, Transfer.sender_name, Transfer.reference)
        .join(Transfer, Transfer.transaction_id == Transaction.id)
        .join(User, User.id == Transaction.user_id)
    ).all()
    candidates = suggestions(session)
    for r in pending:
        for s in candidates.get(r.id, []):
            names.append((r.id, r.user_id, r.user.full_name, s.transfer.sender_name, s.transfer.reference))
    for tid, uid, student_name, sender_name, reference in names:
        if names_differ(student_name, sender_name):
            signals.append(
                Signal(
                    "NAME_DIFFERS",
                    uid,
                    tid,
                    f"transfer {reference} is registered to {sender_name!r}; the student is {student_name!r}",
                )
            )

    if user_id is not None:
        signals = [s for s in signals if s.user_id == user_id]
    if request_id is not None:
        signals = [
            s
            for s in signals
            if s.request_id == request_id or (s.request_id is None and s.user_id == _owner(session, request_id))
        ]
    return signals


def _owner(session: Session, request_id: int) -> int | None:
    return session.scalar(select(Transaction.user_id).where(Transaction.id == request_id))
