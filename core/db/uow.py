"""The unit of work: one transaction per service call, committed on success, rolled back on any error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from core.db.engines import WRITE, InlineWriteConnection
from core.db.sessions import WriteTurn


@contextmanager
def unit_of_work(session: Session, *, write: bool = True) -> Iterator[Session]:
    """One database transaction: commit on success, roll back on any error.

    Write transactions start with BEGIN IMMEDIATE on SQLite, so concurrent writers queue on
    the lock instead of failing later on a stale snapshot.
    """
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("unit_of_work: the session has unflushed changes from its caller")
        session.rollback()  # end a read snapshot left open by the caller
    turn: WriteTurn | None = session.info.get("write_turn") if write else None
    if turn is not None:
        turn.acquire()  # no connection is held while waiting
    inline: InlineWriteConnection | None = None
    try:
        driver = session.connection(execution_options=WRITE if write else None).connection.driver_connection
        if isinstance(driver, InlineWriteConnection) and driver.inline:  # the bot on SQLite, holding the lock
            inline = driver
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
    finally:
        if inline is not None:
            inline.inline = False
        if turn is not None:
            turn.release()
