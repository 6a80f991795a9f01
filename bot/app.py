"""The app factory: create_bot(settings) and create_dispatcher(settings, db)."""

from __future__ import annotations

import asyncio
import gc

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import Response
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand
from aiogram.utils.i18n import I18n
from aiohttp import ClientError

from bot import middlewares
from bot.handlers import build_routers
from bot.i18n import build_i18n
from bot.storage import SQLStorage
from bot.ui.keyboards import sent_as
from core.config import Settings, require_bot_token
from core.db import AsyncDatabase
from core.startup import open_async_database


class BotSession(AiohttpSession):
    """aiogram's session, sending each request as one JSON body (the Bot API accepts application/json for any
    request without a file upload; one with a file goes as aiogram's multipart form), with the main menu's JSON
    serialized once: nearly every answer carries the menu, and aiogram would otherwise dump and walk its
    buttons for each message. Urlencoding the form cost more than the rest of an answer's serialization."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Response[T] per result type, kept alive: pydantic caches a parametrized generic model only weakly,
        # and a burst of answers otherwise rebuilt Response[Message] (a model class) again and again
        self._response_types: dict = {}

    def json_body(self, bot: Bot, method) -> bytes | None:
        """The request as JSON, the same fields and values aiogram's form would send; None with a file."""
        menu = sent_as(getattr(method, "reply_markup", None))
        files: dict = {}
        fields = {}
        for key, value in method.model_dump(warnings=False, exclude={"reply_markup"} if menu else None).items():
            value = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if value:  # as aiogram's form: an empty value is not sent
                fields[key] = value
        if files:
            return None
        body = self.json_dumps(fields)
        if menu is not None:
            body = f'{body[:-1]}{", " if fields else ""}"reply_markup": {menu}}}'
        return body.encode()

    async def make_request(self, bot: Bot, method, timeout: int | None = None):
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url, data=body, headers=JSON_HEADERS, timeout=self.timeout if timeout is None else timeout
            ) as resp:
                raw_result = await resp.text()
        except asyncio.TimeoutError as e:  # aiogram's own wording, as its make_request
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        returning = method.__returning__
        if returning not in self._response_types:
            self._response_types[returning] = Response[returning]
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw_result)
        return response.result


JSON_HEADERS = {"Content-Type": "application/json"}


def create_bot(settings: Settings) -> Bot:
    """A Bot speaking to TELEGRAM_API_URL (official API, a self-hosted server, or the tests' fake)."""
    session = BotSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(require_bot_token(settings), session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


# gen0 every 10,000 allocations (Python's default: 700): a burst of updates allocates that many in a few
# updates, and each young collection also walked the survivors of the others in flight
GC_THRESHOLDS = (10_000, 10, 10)


def settle_heap() -> int:
    """Called once everything is built, before the first update: what start-up made (modules, models,
    catalogs, the dispatcher) lives as long as the process, so it leaves the garbage collector's sight
    (gc.freeze), and young objects are collected less often. In a burst of updates the collector's passes
    over that heap were about 40 % of the bot's CPU (bench/results.md). Returns the objects frozen."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return gc.get_freeze_count()


REDIS_CONNECTIONS = 50  # per bot process
REDIS_WAIT_SECONDS = 20  # for a free connection, before the update fails with the apology


def create_storage(settings: Settings, db: AsyncDatabase) -> tuple[BaseStorage, object]:
    """Redis when REDIS_URL is set, else the database: either way the state survives a restart."""
    if settings.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
        from redis.asyncio import BlockingConnectionPool, Redis

        # A pool that waits for a free connection: redis-py's default pool (100 connections) raises "Too many
        # connections" at once, and a class of 200 students at the same moment lost updates to it (the
        # per-student lock, the state and the throttle each need a connection for a moment).
        pool = BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_SECONDS
        )
        storage = RedisStorage(
            Redis(connection_pool=pool), key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
        )
        return storage, RedisEventIsolation(storage.redis)
    return SQLStorage(db), SimpleEventIsolation()


def create_dispatcher(
    settings: Settings,
    db: AsyncDatabase | None = None,
    storage: BaseStorage | None = None,
    *,
    i18n: I18n | None = None,
    throttle_limit: int = 20,
    throttle_window: float = 10.0,
) -> Dispatcher:
    """Everything the bot does, wired: fresh routers, middlewares, FSM storage and i18n."""
    db = db or open_async_database(settings)
    isolation = None
    if storage is None:
        storage, isolation = create_storage(settings, db)
    shared = getattr(storage, "redis", None)  # RedisStorage: throttle counters shared by replicas
    i18n = i18n or build_i18n()
    admin_ids = frozenset(settings.admin_telegram_ids)
    # disable_fsm: the FSM middleware (dp.fsm) is registered below, inside the update's session, so the SQL
    # storage reads and writes through that session instead of taking a second pool connection
    dp = Dispatcher(
        storage=storage, events_isolation=isolation or SimpleEventIsolation(), name="codehub", disable_fsm=True
    )
    dp["settings"], dp["db"], dp["i18n_core"] = settings, db, i18n
    dp["inflight"] = middlewares.install(
        dp,
        db=db,
        i18n=i18n,
        admin_ids=admin_ids,
        redis=shared,
        throttle_limit=throttle_limit,
        throttle_window=throttle_window,
    )
    dp.include_routers(*build_routers(admin_ids))
    return dp


STUDENT_COMMANDS = [
    ("start", "Start and main menu", "البداية والقائمة الرئيسية"),
    ("help", "What this bot does", "ماذا يفعل هذا البوت"),
    ("balance", "My balance", "رصيدي"),
    ("topup", "Top up with Vodafone Cash", "شحن الرصيد بفودافون كاش"),
    ("history", "My transactions", "معاملاتي"),
    ("platforms", "Platforms and prices", "المنصات والأسعار"),
    ("my", "My platforms and tasks", "منصاتي ومهامي"),
    ("mentors", "Mentors", "المرشدون"),
    ("book", "Book a mentorship session", "احجز جلسة إرشاد"),
    ("sessions", "My sessions", "جلساتي"),
    ("language", "English / العربية", "English / العربية"),
    ("cancel", "Leave the current step", "إلغاء الخطوة الحالية"),
]
ADMIN_COMMANDS = [("pending", "Waiting for a decision", "بانتظار القرار"), ("stats", "Today's numbers", "أرقام اليوم")]


def command_list(lang: str, *, admin: bool = False) -> list[BotCommand]:
    items = STUDENT_COMMANDS + (ADMIN_COMMANDS if admin else [])
    return [BotCommand(command=c, description=ar if lang == "ar" else en) for c, en, ar in items]


async def set_commands(bot: Bot, settings: Settings) -> None:
    """The command menu in English and Arabic; admins also see /pending and /stats in their chats."""
    from aiogram.exceptions import TelegramAPIError
    from aiogram.types import BotCommandScopeChat, BotCommandScopeDefault

    for lang in ("en", "ar"):
        code = None if lang == "en" else "ar"
        await bot.set_my_commands(command_list(lang), scope=BotCommandScopeDefault(), language_code=code)
        for chat_id in settings.admin_telegram_ids:
            try:
                await bot.set_my_commands(
                    command_list(lang, admin=True), scope=BotCommandScopeChat(chat_id=chat_id), language_code=code
                )
            except TelegramAPIError:  # an admin who never opened the bot
                pass
