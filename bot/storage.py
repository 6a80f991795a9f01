"""aiogram FSM storage in the database (fsm_states), for the embedded mode without Redis."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from sqlalchemy import delete, select

from core.db import WRITE, AsyncDatabase
from core.models import FSMRecord
from core.timeutil import utcnow


def _upsert(dialect: str, values: dict, update: dict):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(FSMRecord).values(**values).on_conflict_do_update(index_elements=["key"], set_=update)


class SQLStorage(BaseStorage):
    """State and data survive a restart: each change is one upsert on fsm_states."""

    def __init__(self, db: AsyncDatabase, key_builder: KeyBuilder | None = None):
        self.engine = db.engine
        self.writer = db.engine.execution_options(**WRITE)
        self.key_builder = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    async def _write(self, key: StorageKey, values: dict) -> None:
        name = self.key_builder.build(key)
        async with self.writer.begin() as conn:
            row = {"key": name, "state": None, "data": "{}", "updated_at": utcnow(), **values}
            await conn.execute(_upsert(self.engine.dialect.name, row, {**values, "updated_at": utcnow()}))
            await conn.execute(delete(FSMRecord).where(  # a cleared context leaves no row behind
                FSMRecord.key == name, FSMRecord.state.is_(None), FSMRecord.data == "{}"))

    async def _read(self, key: StorageKey):
        async with self.engine.connect() as conn:
            return (await conn.execute(select(FSMRecord.state, FSMRecord.data).where(
                FSMRecord.key == self.key_builder.build(key)))).first()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, {"state": value})

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._read(key)
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, {"data": json.dumps(dict(data), ensure_ascii=False, default=str)})

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._read(key)
        return json.loads(row.data or "{}") if row else {}

    async def close(self) -> None:  # the engine belongs to the caller
        return None
