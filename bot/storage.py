"""aiogram FSM storage in the database (fsm_states), for the embedded mode without Redis.

Inside an update the storage works through that update's own session (an `UpdateScope` set by
UpdateSessionMiddleware): each context is read once, changes stay in the scope, and they are written in
one transaction when the update ends. So an update never checks out a second pool connection for its
state, and an update that changes nothing (or clears an already empty state) writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from sqlalchemy import BigInteger, String, bindparam, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.db import AsyncDatabase, unit_of_work
from core.db.prepared import PointRead
from core.models import FSMRecord, User
from core.services import students
from core.services.students import UserInfo
from core.timeutil import utcnow

EMPTY = "{}"


@dataclass(frozen=True)
class Record:
    state: str | None = None
    data: str = EMPTY  # JSON, as stored: what a reader gets back is what a round trip gives

    @property
    def empty(self) -> bool:
        return self.state is None and self.data == EMPTY


class UpdateScope:
    """One update's FSM contexts: read through the update's session, written once at the end.

    `telegram_id`, when set, is the student of the update: the first read of a context of theirs reads their
    row too, in the same statement, and keeps it in `student` (a 1-tuple, its UserInfo or None) for
    StudentMiddleware. It is read inside aiogram's per-student lock, as the state is."""

    def __init__(self, session, telegram_id: int | None = None):
        self.session = session
        self.records: dict[str, Record] = {}
        self.dirty: set[str] = set()
        self.open = True
        self.telegram_id = telegram_id
        self.student: tuple[UserInfo | None] | None = None

    async def flush(self) -> None:
        if not self.dirty:
            return
        changes = {name: self.records[name] for name in sorted(self.dirty)}
        await self.session.run_sync(save_records, changes)
        self.dirty.clear()


_scope: ContextVar[UpdateScope | None] = ContextVar("codehub_fsm_scope", default=None)


def current_scope() -> UpdateScope | None:
    scope = _scope.get()
    return scope if scope is not None and scope.open else None  # a task outliving its update uses its own


def enter_scope(session, telegram_id: int | None = None) -> tuple[UpdateScope, object]:
    scope = UpdateScope(session, telegram_id)
    return scope, _scope.set(scope)


def leave_scope(scope: UpdateScope, token) -> None:
    scope.open = False
    _scope.reset(token)


_FSM = FSMRecord.__table__
_LOAD = select(_FSM.c.state, _FSM.c.data).where(_FSM.c.key == bindparam("key"))  # read on every update: built once


def load_record(session: Session, name: str) -> Record:
    return load_record_on(session.connection(), name)


def load_record_on(conn: Connection, name: str) -> Record:
    row = conn.execute(_LOAD, {"key": name}).first()
    return Record(row.state, row.data or EMPTY) if row else Record()


_ASKED = select(bindparam("telegram_id", type_=BigInteger).label("tid"), bindparam("key", type_=String).label("k"))
_ASKED = _ASKED.subquery("asked")
_STUDENT = User.__table__
# the student and their state in one statement (one round trip): a row always, either side NULL when absent
_LOAD_WITH_STUDENT = (
    select(*students.STUDENT_COLUMNS, _FSM.c.state, _FSM.c.data)
    .select_from(_ASKED)
    .outerjoin(_STUDENT, _STUDENT.c.telegram_id == _ASKED.c.tid)
    .outerjoin(_FSM, _FSM.c.key == _ASKED.c.k)
)


_READ_WITH_STUDENT = PointRead(_LOAD_WITH_STUDENT)


def record_and_student_of(row) -> tuple[Record, UserInfo | None]:
    n = len(students.STUDENT_COLUMNS)
    state, data = row[n], row[n + 1]
    record = Record(state, data or EMPTY) if (state, data) != (None, None) else Record()
    return record, students.student_of_row(row[:n])


def _upsert(dialect: str, values: dict, update: dict):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(FSMRecord).values(**values).on_conflict_do_update(index_elements=["key"], set_=update)


def save_records(session: Session, records: Mapping[str, Record]) -> None:
    """One write transaction: an upsert per changed context; a cleared context leaves no row behind."""
    dialect = session.get_bind().dialect.name
    with unit_of_work(session):
        now = utcnow()
        for name, record in records.items():
            if record.empty:
                session.execute(delete(FSMRecord).where(FSMRecord.key == name))
            else:
                values = {"state": record.state, "data": record.data, "updated_at": now}
                session.execute(_upsert(dialect, {"key": name, **values}, values))


class SQLStorage(BaseStorage):
    """State and data survive a restart; inside an update, one read and at most one write per context."""

    def __init__(self, db: AsyncDatabase, key_builder: KeyBuilder | None = None):
        self.db = db
        self.key_builder = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    async def _run(self, scope: UpdateScope | None, fn, *args):
        if scope is not None:
            return await scope.session.run_sync(fn, *args)
        async with self.db.sessions() as session:  # outside an update: a short session of its own
            return await session.run_sync(fn, *args)

    async def _get(self, key: StorageKey) -> Record:
        name, scope = self.key_builder.build(key), current_scope()
        if scope is not None and name in scope.records:
            return scope.records[name]
        if (
            scope is not None
            and scope.student is None
            and scope.telegram_id == key.user_id
            and 0 < key.user_id <= students.MAX_TELEGRAM_ID
        ):  # the student's row with it: one round trip
            [row] = await scope.session.read_rows(_READ_WITH_STUDENT, {"telegram_id": key.user_id, "key": name})
            record, student = record_and_student_of(row)
            scope.student = (student,)
        elif scope is not None:  # a read by primary key: on SQLite without aiosqlite's thread hand-offs
            record = await scope.session.read_point(load_record_on, name)
        else:
            record = await self._run(None, load_record, name)
        if scope is not None:
            scope.records[name] = record
        return record

    async def _change(self, key: StorageKey, **changes) -> None:
        name, scope = self.key_builder.build(key), current_scope()
        record = await self._get(key)
        changed = replace(record, **changes)
        if changed == record:
            return  # e.g. clearing a context that holds nothing: no write
        if scope is None:
            await self._run(None, save_records, {name: changed})
            return
        scope.records[name] = changed
        scope.dirty.add(name)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._change(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._get(key)).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._change(key, data=json.dumps(dict(data), ensure_ascii=False, default=str))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return json.loads((await self._get(key)).data or EMPTY)

    async def close(self) -> None:  # the engine belongs to the caller
        return None
