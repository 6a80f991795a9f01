"""Money: Decimal with exactly two places in Python, integer piastres in the database."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_decimal
from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator

from core.errors import InvalidAmount

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DEFAULT_MAX_AMOUNT = Decimal("100000.00")
# A mentor's hourly rate, own or the default in Settings: every interface checks these bounds.
MIN_MENTOR_RATE = Decimal("1.00")
MAX_MENTOR_RATE = Decimal("100000.00")
_currency = "EGP"  # the deployment's CURRENCY, set once at start-up by core.db.build_context


def set_currency(code: str) -> None:
    """The currency shown next to amounts when a caller does not name one (CURRENCY)."""
    global _currency
    _currency = code


def to_money(value: Decimal | int | str) -> Decimal:
    """Exact conversion to a 2-place Decimal; refuses floats and extra precision."""
    if isinstance(value, float):
        raise TypeError("money is never float")
    amount = Decimal(value)
    quantized = amount.quantize(CENT)
    if quantized != amount:
        raise ValueError(f"{value!r} has more than 2 decimal places")
    return quantized


def round_money(value: Decimal) -> Decimal:
    """Round a computed amount (e.g. rate x minutes / 60) to the piastre, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Money(TypeDecorator):
    """Stores Decimal('12.34') as 1234 piastres; never binds a float."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, int):
            value = Decimal(value)
        return int(to_money(value) * 100)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(CENT)

    def coerce_compared_value(self, op, value):
        return self


_SEPARATORS = {"\u066c": ",", "\u066b": ".", "\u060c": ",", "\u00a0": " ", "\u202f": " "}
_SPACE_GROUPED = re.compile(r"^\d{1,3}( \d{3})+(\.\d+)?$")
_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$|^\.\d+$")
_CURRENCY = r"(egp|e\.g\.p\.?|le|l\.e\.?|pounds?|جنيه(?: مصري)?|جنية(?: مصري)?|جنيهات|ج\.?\s?م\.?|ج)"
_CURRENCY_WORDS = re.compile(rf"^{_CURRENCY}\s*|\s*{_CURRENCY}$", re.IGNORECASE)


def normalize_digits(text: str) -> str:
    """Decimal digits of any script (Arabic-Indic, Persian, full-width...) to ASCII; other characters kept.
    Superscripts and circled digits are not decimal digits: "①⑤⓪" is not 150."""
    out = []
    for ch in text:
        if ch.isdecimal() and not ch.isascii():
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(_SEPARATORS.get(ch, ch))
    return "".join(out)


MAX_AMOUNT_TEXT = 40  # characters: "1,000,000,000.00 EGP" is 20
_DIGITS_ONLY = re.compile(r"^[\d\s,.٬٫]+$")


def _exact_text(value: Decimal | int, maximum: Decimal) -> str:
    """An exact number as plain digits, refused by size first: format(Decimal("1e100000000"), "f") would build a
    100-million-digit string, and str() of a 5,000-digit int raises."""
    if isinstance(value, int):
        if abs(value) > maximum:
            raise InvalidAmount("TOO_LARGE" if value > 0 else "NOT_POSITIVE", maximum=maximum)
        return str(value)
    if not value.is_finite():
        raise InvalidAmount("NOT_A_NUMBER")
    if value.copy_abs() > maximum:
        raise InvalidAmount("TOO_LARGE" if value > 0 else "NOT_POSITIVE", maximum=maximum)
    if value.as_tuple().exponent < -2 and value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidAmount("TOO_MANY_DECIMALS")
    return format(value.quantize(CENT) if value.as_tuple().exponent < -2 else value, "f")


def parse_amount(text: str | Decimal | int, *, maximum: Decimal = DEFAULT_MAX_AMOUNT) -> Decimal:
    """Read what a student types: "150", "150.5", "1,500", "١٥٠", "150 EGP" (or an exact Decimal/int).

    The one parser of amounts: raises InvalidAmount with a reason code: EMPTY, NOT_A_NUMBER,
    TOO_MANY_DECIMALS, NOT_POSITIVE, TOO_LARGE.
    """
    if text is None:
        raise InvalidAmount("EMPTY")
    if isinstance(text, float):
        raise TypeError("money is never float")
    if isinstance(text, bool):
        raise InvalidAmount("NOT_A_NUMBER")
    if isinstance(text, (Decimal, int)):
        text = _exact_text(text, maximum)
    text = str(text)
    if len(text) > MAX_AMOUNT_TEXT:  # before any work: 1e100000000 as digits is 100 MB and seconds of CPU
        raise InvalidAmount("TOO_LARGE" if _DIGITS_ONLY.match(text.strip()) else "NOT_A_NUMBER", maximum=maximum)
    cleaned = normalize_digits(text.strip()).strip()
    cleaned = _CURRENCY_WORDS.sub("", cleaned).strip()
    if _SPACE_GROUPED.match(cleaned):
        cleaned = cleaned.replace(" ", "")
    if not cleaned:
        raise InvalidAmount("EMPTY")
    if cleaned.startswith("-"):
        body = cleaned[1:]
        if _NUMBER.match(body):
            raise InvalidAmount("NOT_POSITIVE")
        raise InvalidAmount("NOT_A_NUMBER")
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    if not _NUMBER.match(cleaned):
        raise InvalidAmount("NOT_A_NUMBER")
    try:
        amount = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        raise InvalidAmount("NOT_A_NUMBER") from None
    if not amount.is_finite():
        raise InvalidAmount("NOT_A_NUMBER")
    if amount > maximum:  # before quantize: a 400-digit number cannot be quantized to piastres
        raise InvalidAmount("TOO_LARGE", maximum=maximum)
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidAmount("TOO_MANY_DECIMALS")
    if amount <= 0:
        raise InvalidAmount("NOT_POSITIVE")
    return amount.quantize(CENT)


def parse_signed_amount(text: str | Decimal | int, *, maximum: Decimal = DEFAULT_MAX_AMOUNT) -> Decimal:
    """An amount with an optional sign ("-50", "−50", "+50"), as for an admin's balance correction.

    Same rules and reason codes as parse_amount, on the absolute value; zero is NOT_POSITIVE.
    """
    if isinstance(text, (Decimal, int)) and not isinstance(text, bool):
        if isinstance(text, Decimal) and not text.is_finite():
            raise InvalidAmount("NOT_A_NUMBER")
        if text < 0:  # copy_negate: exact, whatever the exponent (unary minus rounds to the context)
            return -parse_amount(text.copy_negate() if isinstance(text, Decimal) else -text, maximum=maximum)
        return parse_amount(text, maximum=maximum)
    text = str(text if text is not None else "")
    if len(text) > MAX_AMOUNT_TEXT + 1:
        return parse_amount(text, maximum=maximum)  # refused there, by its length
    cleaned = normalize_digits(text).strip().replace("\u2212", "-")
    if cleaned.startswith("-"):
        if cleaned[1:].lstrip().startswith(("-", "+")):
            raise InvalidAmount("NOT_A_NUMBER")
        return -parse_amount(cleaned[1:], maximum=maximum)
    return parse_amount(cleaned, maximum=maximum)


def format_money(amount: Decimal, currency: str | None = None, locale: str = "en") -> str:
    """`1,250.00 EGP`; in Arabic, Arabic digits and the Arabic currency name."""
    currency = currency or _currency
    if locale.startswith("ar"):
        number = format_decimal(amount, format="#,##0.00", locale="ar_EG", numbering_system="arab")
        name = "ج.م" if currency == "EGP" else currency
        return f"{number.translate(_ARABIC_DIGITS)} {name}"
    number = format_decimal(amount, format="#,##0.00", locale="en_US")
    return f"{number} {currency}"


def format_signed(amount: Decimal, currency: str | None = None, locale: str = "en") -> str:
    sign = "+" if amount > 0 else ("−" if amount < 0 else "")
    return sign + format_money(abs(amount), currency, locale)


_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
