"""The field encryption key: a start-up check that it reads the stored numbers, and key rotation.

Every ciphertext and keyed digest made with FIELD_ENCRYPTION_KEY lives in these columns:
  transactions.wallet_number (Fernet), transactions.wallet_hash (keyed digest of the number),
  transfers.sender_number (Fernet), transfers.sender_hash (keyed digest), transfers.raw_text (Fernet).
A new column holding either must be added to ROTATED below, or rotation would leave it unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exc as sa_exc
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from core.config import ConfigError
from core.crypto import FieldCipher
from core.models import Transaction, Transfer

# (table, ciphertext column, digest column of the same plain value or None)
ROTATED = (
    (Transaction, "wallet_number", "wallet_hash"),
    (Transfer, "sender_number", "sender_hash"),
    (Transfer, "raw_text", None),
)


class KeyMismatch(Exception):
    """A stored value the given key cannot decrypt."""


@dataclass(frozen=True)
class Rotation:
    values: int  # ciphertexts re-encrypted
    digests: int  # keyed digests recomputed

    def __str__(self) -> str:
        return f"{self.values} encrypted values and {self.digests} lookup digests re-keyed"


def sample_ciphertext(conn: Connection) -> str | None:
    """The newest stored ciphertext (one row), or None on an empty or not yet migrated database."""
    for model, column, _ in ROTATED:
        col = getattr(model, column)
        try:
            token = conn.scalar(select(col).where(col.is_not(None)).order_by(model.id.desc()).limit(1))
        except (sa_exc.OperationalError, sa_exc.ProgrammingError):  # no such table yet: nothing stored
            conn.rollback()
            return None
        if token:
            return token
    return None


def verify_key(engine: Engine, cipher: FieldCipher) -> None:
    """Raise ConfigError (one line naming FIELD_ENCRYPTION_KEY) when the key cannot read stored numbers."""
    with engine.connect() as conn:
        check_key(sample_ciphertext(conn), cipher)


def check_key(token: str | None, cipher: FieldCipher) -> None:
    """verify_key on a ciphertext already read (None: nothing stored, nothing to check)."""
    if token is not None and cipher.decrypt(token) is None:
        raise ConfigError(
            "FIELD_ENCRYPTION_KEY: cannot decrypt the sender numbers stored in the database; set it to the "
            "key they were encrypted with (after `codehub rotate-key`, the new key it printed)"
        )


def rotate(engine: Engine, old: FieldCipher, new: FieldCipher) -> Rotation:
    """Re-encrypt every ciphertext and recompute every keyed digest under `new`, in ONE transaction.

    Any value `old` cannot decrypt aborts the whole rotation (nothing changes): a half-rotated
    database would be readable by neither key.
    """
    values = digests = 0
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")  # no writer slips in between read and update
        with conn.begin():
            if conn.dialect.name == "postgresql":  # writers wait until the rotation commits (or aborts)
                conn.exec_driver_sql("LOCK TABLE transactions, transfers IN SHARE ROW EXCLUSIVE MODE")
            for model, column, digest_column in ROTATED:
                col = getattr(model, column)
                rows = conn.execute(select(model.id, col).where(col.is_not(None)).order_by(model.id)).all()
                for row_id, token in rows:
                    plain = old.decrypt(token)
                    if plain is None:
                        raise KeyMismatch(
                            f"{model.__tablename__}.{column} of row {row_id} cannot be decrypted "
                            "with the current FIELD_ENCRYPTION_KEY; nothing was changed"
                        )
                    changes = {column: new.encrypt(plain)}
                    if digest_column:
                        changes[digest_column] = new.digest(plain)
                        digests += 1
                    conn.execute(update(model).where(model.id == row_id).values(**changes))
                    values += 1
                if digest_column:
                    # A digest whose plain value is not stored cannot be recomputed: the old one would
                    # never match again anyway, so it is cleared rather than left looking valid.
                    dcol = getattr(model, digest_column)
                    conn.execute(update(model).where(col.is_(None), dcol.is_not(None)).values(**{digest_column: None}))
    return Rotation(values, digests)
