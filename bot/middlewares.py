"""Per-update middlewares: duplicate updates, the database session and the student, throttling."""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from bot.handlers.errors import tell
from bot.i18n import all_translations
from bot.keyboards import MENU, N_
from bot.storage import enter_scope, leave_scope
from core.db import AsyncDatabase
from core.errors import UserBlocked
from core.services import students
from core.services.students import pick_language

log = logging.getLogger("bot.middlewares")
# the same words as ErrorsMiddleware's apology (one translation), here worded without the database
APOLOGY = N_("😔 Sorry, something went wrong on our side. Please try again later. "
             "Error reference: <code>{ref}</code>")


class DuplicateUpdateMiddleware(BaseMiddleware):
    """The same update delivered twice (a retried webhook, a replay) is handled once.

    Remembered in this process, and with Redis (several replicas behind one webhook) in Redis too: a retry
    that the load balancer sends to another replica is recognised there. Found by tests/reliability: with
    the memory of each replica only, an update posted to both was read twice (the amount "150" a second time
    as the wallet number)."""

    TTL_SECONDS = 24 * 3600  # Telegram keeps an update it could not deliver for 24 hours

    def __init__(self, size: int = 5000, redis=None):
        self.seen: OrderedDict[int, None] = OrderedDict()
        self.size = size
        self.redis = redis

    async def __call__(self, handler: Callable[[Update, dict], Awaitable[Any]], event: Update,
                       data: dict[str, Any]) -> Any:
        if event.update_id in self.seen:
            return None
        self.seen[event.update_id] = None
        if len(self.seen) > self.size:
            self.seen.popitem(last=False)
        if self.redis is not None and not await self._first_in_redis(event.update_id, data):
            return None
        return await handler(event, data)

    async def _first_in_redis(self, update_id: int, data: dict[str, Any]) -> bool:
        bot = data.get("bot")
        key = f"codehub:update:{bot.id if bot is not None else 0}:{update_id}"
        try:
            return bool(await self.redis.set(key, "1", nx=True, ex=self.TTL_SECONDS))
        except Exception:  # noqa: BLE001 - Redis down: handle it (money steps are idempotent) rather than drop it
            log.warning("update %s: duplicate check in Redis failed; handling it", update_id, exc_info=True)
            return True


class UpdateSessionMiddleware(BaseMiddleware):
    """One AsyncSession per update, opened before the FSM context is read, so the SQL FSM storage works
    through it (an UpdateScope) and never takes a second pool connection.

    The session holds a pool connection only while a database call runs. When the database is down or
    overloaded (no free connection within the pool timeout), the student gets the apology, worded
    without the database, in seconds."""

    def __init__(self, db: AsyncDatabase, i18n: I18n):
        self.db, self.i18n = db, i18n

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        try:
            async with self.db.sessions() as session:
                scope, token = enter_scope(session)
                try:
                    data["session"], data["db"], data["fsm_scope"] = session, self.db, scope
                    return await handler(event, data)
                finally:
                    leave_scope(scope, token)
        except (SQLAlchemyError, OSError):
            ref = uuid.uuid4().hex[:8].upper()
            log.exception("update %s failed in the database [ref %s]", event.update_id, ref)
            user = data.get("event_from_user")
            lang = pick_language(user.language_code if user else None)
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
            student = await session.read_point(students.find_by_telegram_on, user.id)  # by a unique key
            created = False
            chat = data.get("event_chat")
            if student is None and (chat is None or chat.type == "private"):  # no accounts from group chatter
                result = await session.run_sync(
                    students.register, user.id, full_name=user.full_name, username=user.username,
                    language=user.language_code)
                student, created = result.user, result.created
            elif student is not None and self._due(student.id):
                # active students feed the engagement numbers; at most one write an hour per student
                await session.run_sync(students.mark_active, student.id)
            if student is not None:
                self.marked[student.id] = time.monotonic()
            data["student"] = student
            data["just_registered"] = created
        return await handler(event, data)


class PrivateChatOnlyMiddleware(BaseMiddleware):
    """In a group the bot shows a student no wallet and starts no flow: a command is asked to come to the private
    chat, other group messages are not answered. A button pressed in a group by a student, or under an inline
    message (the bot sends none: it is forged), is answered the same way, never handled without a chat."""

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        chat = data.get("event_chat")
        callback = event.callback_query
        if callback is not None and callback.message is None:
            await callback.answer(_("This button is no longer valid. Please open the menu again."), show_alert=True)
            return None
        if callback is not None and chat is not None and chat.type != "private" and not data.get("is_admin"):
            await callback.answer(_("Let's talk in private, where your wallet stays yours: open a "
                                    "chat with me and send /start."), show_alert=True)
            return None
        if event.message is None or chat is None or chat.type == "private" or data.get("is_admin"):
            return await handler(event, data)  # admins may work from a staff group
        if (event.message.text or "").startswith("/"):
            await data["bot"].send_message(chat.id, _("Let's talk in private, where your wallet stays yours: open a "
                                                      "chat with me and send /start."))
        return None


class BlockedStudentMiddleware(BaseMiddleware):
    """A blocked student is told so on every message and button (admins keep working); inside ErrorsMiddleware."""

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        student = data.get("student")
        if (student is not None and student.is_blocked and not data.get("is_admin")
                and (event.message is not None or event.callback_query is not None)):
            raise UserBlocked("this account is blocked")
        return await handler(event, data)


class ThrottlingMiddleware(BaseMiddleware):
    """More than `limit` updates in `window` seconds from one user: one polite warning, then silence."""

    def __init__(self, limit: int = 20, window: float = 10.0, redis=None):
        self.limit, self.window = limit, window
        self.redis = redis  # shared counters when several replicas serve the bot
        self.hits: dict[int, deque[float]] = {}
        self.warned: set[int] = set()

    async def _over_limit_shared(self, user_id: int) -> tuple[bool, bool]:
        """(over the limit, warn now) from a fixed window counter in Redis."""
        window = max(1, int(self.window))
        key = f"codehub:throttle:{user_id}:{int(time.time()) // window}"
        count = await self.redis.incr(key)
        if count == 1:
            await self.redis.expire(key, window * 2)
        if count <= self.limit:
            return False, False
        first = await self.redis.set(f"codehub:throttle-warned:{user_id}", "1", nx=True, ex=window)
        return True, bool(first)

    async def _warn(self, event: Update, data: dict[str, Any], user_id: int) -> None:
        if event.callback_query:
            await event.callback_query.answer(_("Too many requests: please slow down a little."))
        else:
            await data["bot"].send_message(user_id, _("Too many requests: please slow down a little."))

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        if self.redis is not None:
            over, warn = await self._over_limit_shared(user.id)
            if over:
                if warn:
                    await self._warn(event, data, user.id)
                return None
            return await handler(event, data)
        now = time.monotonic()
        hits = self.hits.setdefault(user.id, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            if user.id not in self.warned:
                self.warned.add(user.id)
                await self._warn(event, data, user.id)
            return None
        self.warned.discard(user.id)
        hits.append(now)
        if len(self.hits) > 10000:  # forget idle users
            self.hits = {k: v for k, v in self.hits.items() if v and v[-1] > now - self.window}
        return await handler(event, data)


class LeaveFlowMiddleware(BaseMiddleware):
    """A main-menu button or another command sent in the middle of a flow leaves the flow: it is never read as
    the answer, and text typed later is not taken for a top-up, a reason, notes or feedback.
    /cancel says itself what it left."""

    async def __call__(self, handler, event: Message, data: dict[str, Any]) -> Any:
        text = event.text or ""
        if data.get("raw_state") is not None and text and "i18n" in data:
            command = text.startswith("/") and text.split()[0].split("@")[0] != "/cancel"
            if command or any(text in all_translations(data["i18n"], label) for row in MENU for label in row):
                await data["state"].clear()
                data["raw_state"] = None
        return await handler(event, data)


class InFlightMiddleware(BaseMiddleware):
    """Counts updates being handled, so a stopping bot can let them finish."""

    def __init__(self):
        self.active = 0
        self._idle: asyncio.Event | None = None

    @property
    def idle(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            self._idle.set()
        return self._idle

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        self.active += 1
        self.idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.active -= 1
            if self.active == 0:
                self.idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.idle.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
