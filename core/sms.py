"""Read a Vodafone Cash SMS: money received (amount, sender, name, transaction number, time) or anything else.

Pure functions, no database. Tolerant of what phones produce (Arabic-Indic digits, spelling variants,
direction marks, +20 prefixes, thousands separators); strict about what counts as money received: the
received amount is read next to the "received" words, never the balance, and an outgoing transfer,
a balance notice or a promotion is `other`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from core.money import CENT, normalize_digits
from core.timeutil import CAIRO, as_utc

RECEIVED = "received"
OTHER = "other"

# Invisible marks phones and forwarders put around numbers in right-to-left text.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200e\u200f\u200b\u200c\u200d\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u202e\ufeff\u0640"), None
)
# Arabic spelling variants folded to one form (أ/إ/آ -> ا, ة -> ه, ى -> ي).
_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "؛": ";", "؟": "?"})

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CUR = r"(?:جنيه(?:ات)?(?:\s*مصري)?|ج\.?\s?م\.?|ج|egp|le|l\.e\.?|pounds?)"

_OUTGOING = re.compile(
    r"(?:^|[\s.;:])(?:تم\s+تحويل|تم\s+ارسال|تم\s+دفع|تم\s+سحب|you\s+have\s+(?:sent|transferred|paid|withdrawn)"
    r"|has\s+been\s+(?:sent|transferred|paid)\s+to)",
    re.IGNORECASE,
)
_RECEIVED = [
    re.compile(rf"تم\s+(?:استلام|استقبال)\s+(?:مبلغ\s+)?(?:{_CUR}\s*)?(?P<amount>{_NUM})", re.IGNORECASE),
    re.compile(rf"(?:استلمت|لقد\s+استلمت)\s+(?:مبلغ\s+)?(?:{_CUR}\s*)?(?P<amount>{_NUM})", re.IGNORECASE),
    re.compile(rf"(?:{_CUR})\s*(?P<amount>{_NUM})\s+(?:has\s+been|have\s+been|was)\s+received", re.IGNORECASE),
    re.compile(rf"(?P<amount>{_NUM})\s*(?:{_CUR})\s+(?:has\s+been|have\s+been|was)\s+received", re.IGNORECASE),
    re.compile(
        rf"you\s+(?:have\s+)?received\s+(?:an\s+amount\s+of\s+)?(?:{_CUR}\s*)?(?P<amount>{_NUM})", re.IGNORECASE
    ),
]
_FROM = re.compile(r"(?:\bمن\b|\bfrom\b)", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\d])\+?\d(?:[\d \-]*\d)?")
_NAME = [
    re.compile(
        r"(?:المسجل|المسجله)\s+(?:باسم|بإسم|بأسم|بـ?اسم)\s*:?\s*(?P<name>.+?)\s*"
        r"(?=\s(?:علي|على)\s+رقم|\sبتاريخ|\sتاريخ|[.;:\n]\s|[;\n]|$)",
        re.IGNORECASE,
    ),
    re.compile(
        r"registered\s+(?:to|under|in\s+the\s+name\s+of)\s*:?\s*(?P<name>.+?)\s*"
        r"(?=\s+on\s+your|\s+to\s+your|[.;\n]\s|[;\n]|\.$|$)",
        re.IGNORECASE,
    ),
]
_REFERENCE = re.compile(
    r"(?:رقم\s+العمليه|رقم\s+المعامله|transaction\s+(?:number|no\.?|id)|trx\s*(?:no\.?|id)"
    r"|ref(?:erence)?(?:\s+(?:number|no\.?))?)\s*[:#.]?\s*(?P<ref>\d{6,20})",
    re.IGNORECASE,
)
_BALANCE = re.compile(
    rf"(?:رصيدك\s+(?:الحالي|الجديد)?|current\s+balance(?:\s+is)?|new\s+balance(?:\s+is)?"
    rf"|your\s+balance(?:\s+is)?)\s*:?\s*(?:{_CUR}\s*)?(?P<amount>{_NUM})",
    re.IGNORECASE,
)
_TIME = r"(?P<hh>\d{1,2}):(?P<mi>\d{2})"
_DATE = r"(?P<a>\d{1,4})[-/.](?P<b>\d{1,2})[-/.](?P<c>\d{1,4})"
_WHEN = [
    re.compile(rf"(?:بتاريخ|تاريخ\s+العمليه|transaction\s+date|date)\s*:?\s*{_TIME}\s+{_DATE}", re.IGNORECASE),
    re.compile(
        rf"(?:بتاريخ|تاريخ\s+العمليه|transaction\s+date|date)\s*:?\s*{_DATE}\s+(?:at\s+)?{_TIME}", re.IGNORECASE
    ),
]


@dataclass(frozen=True)
class ParsedSms:
    kind: str  # RECEIVED or OTHER
    amount: Decimal | None = None
    sender: str | None = None  # 11-digit Egyptian mobile, 01xxxxxxxxx
    sender_name: str | None = None
    reference: str | None = None  # the Vodafone Cash transaction number
    balance: Decimal | None = None  # the receiving wallet's balance after (informational only)
    sent_at: datetime | None = None  # aware UTC
    problem: str | None = None  # AMOUNT_TOO_LARGE: money received, but more than any wallet could (not stored)

    @property
    def is_received(self) -> bool:
        return self.kind == RECEIVED

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "amount": None if self.amount is None else f"{self.amount:.2f}",
            "sender": self.sender,
            "sender_name": self.sender_name,
            "reference": self.reference,
            "balance": None if self.balance is None else f"{self.balance:.2f}",
            "sent_at": None if self.sent_at is None else self.sent_at.astimezone(CAIRO).isoformat(),
            **({"problem": self.problem} if self.problem else {}),
        }


def normalize_text(text: str, *, fold: bool = True) -> str:
    """ASCII digits, one spelling of each Arabic letter (unless fold=False), no invisible marks, single
    spaces. Folding maps one character to one, so positions agree with the unfolded text."""
    text = normalize_digits(str(text or "")).translate(_INVISIBLE)
    if fold:
        text = text.translate(_LETTERS)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[^\S\n]+", " ", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def normalize_mobile(raw: str) -> str | None:
    """01012345678 from +20 10 1234 5678, 0020..., 2010..., 010-1234-5678; None if not an Egyptian mobile."""
    digits = re.sub(r"\D", "", normalize_digits(raw or ""))
    if digits.startswith("0020"):
        digits = "0" + digits[4:]
    elif digits.startswith("20") and len(digits) == 12:
        digits = "0" + digits[2:]
    elif len(digits) == 10 and digits.startswith("1"):
        digits = "0" + digits
    return digits if re.fullmatch(r"01[0125]\d{8}", digits) else None


# Far above what any Vodafone Cash wallet may receive, far below what a BIGINT of piastres holds: a larger
# "received" amount is kept out of the ledger's reach (AMOUNT_TOO_LARGE), never an overflow.
MAX_SMS_AMOUNT = Decimal("1000000000.00")
TOO_LARGE = object()


def _amount(text: str | None):
    """The amount as Decimal, None when unreadable, or TOO_LARGE (checked on the digits, before any arithmetic)."""
    if not text:
        return None
    digits = text.replace(",", "")
    if len(digits.split(".")[0]) > 10:
        return TOO_LARGE
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    if value > MAX_SMS_AMOUNT:
        return TOO_LARGE
    if not value.is_finite() or value <= 0 or value != value.quantize(CENT):
        return None
    return value.quantize(CENT)


def _sender(text: str, start: int) -> str | None:
    """The first Egyptian mobile after "from"/"من" (the receiving wallet's own number comes later)."""
    keyword = _FROM.search(text, start)
    if keyword is None:
        return None
    match = _PHONE.search(text, keyword.end())  # the first number after it, or nobody
    return normalize_mobile(match.group()) if match else None


def _name(text: str, original: str) -> str | None:
    """Found in the folded text, copied from the original spelling (same positions)."""
    for pattern in _NAME:
        match = pattern.search(text)
        if match:
            name = original[match.start("name") : match.end("name")]
            name = re.sub(r"\s+", " ", name).strip(" .;:,-؛")
            if name and not re.search(r"\d{5,}", name):
                return name[:120]
    return None


def _datetime(text: str, reference: datetime | None) -> datetime | None:
    for pattern in _WHEN:
        match = pattern.search(text)
        if match:
            return _read_date(match, reference)
    return None


def _read_date(match: re.Match, reference: datetime | None) -> datetime | None:
    a, b, c = (match.group(k) for k in "abc")
    hh, mi = int(match.group("hh")), int(match.group("mi"))
    slash = "/" in match.group()
    # (year, month, day) readings: 4-digit years decide; "11/26/26" is US order (month first);
    # "26-08-13" is read year first, or day first when that is closer to the reference time.
    if len(a) == 4:
        readings = [(int(a), int(b), int(c))]
    elif len(c) == 4:
        readings = [(int(c), int(b), int(a)), (int(c), int(a), int(b))]
    elif slash:
        readings = [(2000 + int(c), int(a), int(b)), (2000 + int(c), int(b), int(a))]
    else:
        readings = [(2000 + int(a), int(b), int(c)), (2000 + int(c), int(b), int(a))]
    moments = []
    for year, month, day in readings:
        try:
            moments.append(datetime(year, month, day, hh, mi, tzinfo=CAIRO).astimezone(timezone.utc))
        except ValueError:
            continue
    if not moments:
        return None
    if reference is None:
        return moments[0]
    reference = as_utc(reference)
    return min(moments, key=lambda m: abs(m - reference))


def parse_sms(text: str, *, reference_time: datetime | None = None) -> ParsedSms:
    """Parse one SMS. `reference_time` (when the phone got it) settles two-digit-year dates."""
    body = normalize_text(text)
    flat = body.replace("\n", " ")
    original = normalize_text(text, fold=False)
    if not flat or _OUTGOING.search(" " + flat):
        return ParsedSms(OTHER)
    for pattern in _RECEIVED:
        match = pattern.search(flat)
        if match:
            break
    else:
        return ParsedSms(OTHER)
    amount = _amount(match.group("amount"))
    if amount is None:
        return ParsedSms(OTHER)
    reference = _REFERENCE.search(flat)
    balance = _BALANCE.search(flat)
    balance_amount = _amount(balance.group("amount")) if balance else None
    return ParsedSms(
        RECEIVED,
        amount=None if amount is TOO_LARGE else amount,
        sender=_sender(flat, match.start()),
        sender_name=_name(body, original),
        reference=reference.group("ref") if reference else None,
        balance=None if balance_amount is TOO_LARGE else balance_amount,
        sent_at=_datetime(flat, reference_time),
        problem="AMOUNT_TOO_LARGE" if amount is TOO_LARGE else None,
    )


def split_messages(blob: str) -> list[str]:
    """Several pasted SMS texts: separated by blank lines, or one per line when each line is a whole SMS."""
    blob = (blob or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not blob:
        return []
    chunks = [c.strip() for c in re.split(r"\n\s*\n", blob) if c.strip()]
    out: list[str] = []
    for chunk in chunks:
        lines = [line for line in chunk.split("\n") if line.strip()]
        starts = [i for i, line in enumerate(lines) if _starts_message(line)]
        if len(starts) > 1:  # several messages without blank lines between them
            bounds = starts + [len(lines)]
            head = "\n".join(lines[: starts[0]])
            parts = ["\n".join(lines[s:e]) for s, e in zip(bounds, bounds[1:])]
            if head:
                parts[0] = head + "\n" + parts[0]
            out.extend(parts)
        else:
            out.append(chunk)
    return out


def _starts_message(line: str) -> bool:
    flat = normalize_text(line)
    return bool(
        re.match(
            r"(?:تم\s+(?:استلام|استقبال|تحويل)|استلمت|you\s+have|(?:egp|le)\s*\d|\d[\d,.]*\s*egp)", flat, re.IGNORECASE
        )
    )


def normalize_reference(raw: str | None) -> str | None:
    """A Vodafone Cash transaction number as typed ("0227 6854 3034", Arabic digits): digits, or None if
    it is not 6 to 20 digits."""
    digits = re.sub(r"[\s\-]", "", normalize_digits(str(raw or "")).translate(_INVISIBLE))
    return digits if re.fullmatch(r"\d{6,20}", digits) else None


MAX_SENDER_ID = 32


def normalize_sender_id(value: str | None) -> str | None:
    """The one normalisation of an SMS sender id: surrounding spaces removed, ASCII letters lower-cased. None for
    anything else: empty, longer than 32 characters, or holding a control or non-ASCII character ("VF-Caſh" with a
    long s, a tab or newline inside), so a look-alike never equals a listed id."""
    if value is None:
        return None
    text = str(value).strip(" ")
    if not text or len(text) > MAX_SENDER_ID or not text.isascii() or not text.isprintable():
        return None
    return text.lower()


def is_wallet_sender(sender: str | None, allowed: list[str] | tuple[str, ...]) -> bool:
    """Only the wallet's own sender id (e.g. VF-Cash) may create transfers: an ordinary number cannot.

    Compared exactly after normalize_sender_id: "VF-Cash" == " vf-cash ", but not "VFCash", "V-F-C-A-S-H",
    "VF-Caſh" or "VF-\tCash" (list each spelling the phone shows in SMS_SENDER_IDS).
    """
    wanted = normalize_sender_id(sender)
    return wanted is not None and wanted in {normalize_sender_id(a) for a in allowed}
