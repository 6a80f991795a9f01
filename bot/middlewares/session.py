"""The update's database session (the FSM storage works through it) and the FSM flush before the lock goes."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update
from aiogram.utils.i18n import I18n
from sqlalchemy.exc import SQLAlchemyError

from bot.middlewares.errors import tell
from bot.storage import enter_scope, leave_scope
from bot.ui.keyboards import N_
from core.db import AsyncDatabase
from core.words import language_of

log = logging.getLogger("bot.middlewares")
# the same words as ErrorsMiddleware's apology (one translation), here worded without the database
APOLOGY = N_("😔 Sorry, something went wrong on our side. Please try again later. Error reference: <code>{ref}</code>")


class UpdateSessionMiddleware(BaseMiddleware):
    """One BriefAsyncSession (core.db) per update, opened before the FSM context is read, so the SQL FSM storage works
    through it (an UpdateScope) and never takes a second pool connection.

    The session holds a pool connection only while a database call runs. When the database is down or
    overloaded (no free connection within the pool timeout), the student gets the apology, worded
    without the database, in seconds."""

    def __init__(self, db: AsyncDatabase, i18n: I18n):
        self.db, self.i18n = db, i18n

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        try:
            async with self.db.sessions() as session:
                user = data.get("event_from_user")
                scope, token = enter_scope(session, user.id if user is not None and not user.is_bot else None)
                try:
                    data["session"], data["db"], data["fsm_scope"] = session, self.db, scope
                    return await handler(event, data)
                finally:
                    leave_scope(scope, token)
        except (SQLAlchemyError, OSError):
            ref = uuid.uuid4().hex[:8].upper()
            log.exception("update %s failed in the database [ref %s]", event.update_id, ref)
            user = data.get("event_from_user")
            lang = language_of(user.language_code if user else None)
            await tell(event, data, self.i18n.gettext(APOLOGY, locale=lang).format(ref=ref), also_message=True)
            return None


class StateFlushMiddleware(BaseMiddleware):
    """Inside the FSM lock: the update's FSM changes are written in one transaction before the next
    update of the same student may read them."""

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        result = await handler(event, data)
        scope = data.get("fsm_scope")
        if scope is not None:
            await scope.flush()
        return result
