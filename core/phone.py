"""Egyptian mobile (Vodafone Cash wallet) numbers: the one normaliser every interface uses."""

from __future__ import annotations

import re

from core.errors import InvalidWalletNumber
from core.money import normalize_digits

EGYPT_MOBILE = re.compile(r"^01[0125]\d{8}$")


def normalize_wallet(text: str | None) -> str:
    """Accept 010 1234 5678, 010-1234-5678, +20 10..., 0020 10..., Arabic digits; return 01012345678."""
    number = re.sub(r"[\s\-()]", "", normalize_digits(text or ""))
    if number.startswith("+20"):
        number = "0" + number[3:]
    elif number.startswith("0020"):
        number = "0" + number[4:]
    elif number.startswith("20") and len(number) == 12:
        number = "0" + number[2:]
    if not EGYPT_MOBILE.match(number):
        raise InvalidWalletNumber("expected an Egyptian mobile number: 01 then 0, 1, 2 or 5, then 8 digits")
    return number
