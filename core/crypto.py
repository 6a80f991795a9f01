"""Field encryption for personal data (sender wallet numbers), and masking for lists."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)


class FieldCipher:
    def __init__(self, key: str | bytes):
        raw = key if isinstance(key, bytes) else key.encode()
        self._fernet = Fernet(raw)
        # A separate key for lookups, derived from the field key: equal numbers give equal digests,
        # and nobody without the field key can test a guessed number against them.
        self._lookup_key = hashlib.sha256(b"codehub-lookup-v1:" + raw).digest()

    def digest(self, plain: str) -> str:
        """A keyed, deterministic hash (hex) of a normalised value, for matching without decrypting."""
        return hmac.new(self._lookup_key, plain.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None


def load_or_create_key(configured: str | None, data_dir: Path) -> str:
    """FIELD_ENCRYPTION_KEY if set, else a key kept in data_dir (generated on first run)."""
    if configured:
        Fernet(configured.encode())  # validates, raises ValueError on a malformed key
        return configured
    path = data_dir / "field_encryption.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    log.warning(
        "Generated a new field encryption key at %s. BACK IT UP: without it, stored "
        "sender wallet numbers cannot be read. Set FIELD_ENCRYPTION_KEY to manage it yourself.",
        path,
    )
    return key


def mask_wallet(number: str | None) -> str:
    """010****5678: enough to recognise, not enough to reuse."""
    if not number:
        return ""
    if len(number) < 8:
        return "*" * len(number)
    return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}"
