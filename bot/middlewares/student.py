"""The student behind the update: registered or loaded on the update's session; a blocked one is refused."""

from __future__ import annotations

import time
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update

from core.errors import UserBlocked
from core.services import students


class StudentMiddleware(BaseMiddleware):
    """Registers or loads the student on the update's session and passes them on."""

    ACTIVE_EVERY = 3600.0  # seconds between "last seen" writes for one student, per process

    def __init__(self, admin_ids: frozenset[int] = frozenset()):
        self.admin_ids = admin_ids
        self.marked: dict[int, float] = {}

    def _due(self, student_id: int) -> bool:
        return time.monotonic() - self.marked.get(student_id, -self.ACTIVE_EVERY) >= self.ACTIVE_EVERY

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        session = data["session"]
        data["is_admin"] = user is not None and user.id in self.admin_ids
        data["just_registered"] = False
        if user is not None and not user.is_bot:
            scope = data.get("fsm_scope")
            if scope is not None and scope.student is not None:  # read with the state (bot/storage.py)
                student = scope.student[0]
            else:
                student = await session.read_point(students.find_by_telegram_on, user.id)  # by a unique key
            created = False
            chat = data.get("event_chat")
            if student is None and (chat is None or chat.type == "private"):  # no accounts from group chatter
                result = await session.run_sync(
                    students.register,
                    user.id,
                    full_name=user.full_name,
                    username=user.username,
                    language=user.language_code,
                )
                student, created = result.user, result.created
            elif student is not None and self._due(student.id):
                # active students feed the engagement numbers; at most one write an hour per student
                await session.run_sync(students.mark_active, student.id)
            if student is not None:
                self.marked[student.id] = time.monotonic()
            data["student"] = student
            data["just_registered"] = created
        return await handler(event, data)


class BlockedStudentMiddleware(BaseMiddleware):
    """A blocked student is told so on every message and button (admins keep working); inside ErrorsMiddleware."""

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        student = data.get("student")
        if (
            student is not None
            and student.is_blocked
            and not data.get("is_admin")
            and (event.message is not None or event.callback_query is not None)
        ):
            raise UserBlocked("this account is blocked")
        return await handler(event, data)
