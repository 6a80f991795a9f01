"""Free text from admins and students: refuse control characters, or strip them where the text is not ours."""

from __future__ import annotations

import re

from core.errors import InvalidInput

# C0 and C1 controls except tab, line feed and carriage return; DEL; lone surrogates (only reachable via
# JSON "\ud800" escapes, and unencodable in UTF-8); the two non-characters U+FFFE and U+FFFF.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u2028\u2029]")


def has_control(text: str, *, multiline: bool = True) -> bool:
    return bool((_CONTROL if multiline else _CONTROL_OR_BREAK).search(text))


def check_text(text: str, *, field: str = "text", multiline: bool = True) -> str:
    """Return `text` unchanged, or raise InvalidInput naming the field if it holds a control character."""
    if has_control(text, multiline=multiline):
        raise InvalidInput(f"{field} contains a control character or an invalid character; remove it", field=field)
    return text


def strip_controls(text: str | None) -> str:
    """For names that come from Telegram: drop control characters and line breaks, keep the rest."""
    return _CONTROL_OR_BREAK.sub("", text or "")
