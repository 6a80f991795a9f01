"""A small fake Telegram Bot API server (aiohttp on 127.0.0.1, random port) for end-to-end bot tests.

It queues updates for getUpdates, records every call with its time, keeps the messages the bot sent
(so a test can press their buttons), and can act out failures: a chat that blocked the bot (403) and
a one-time 429 with retry_after.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456789:AAEfakeTokenForTestsOnly_abcdefghijk"
BOT_ID = 123456789
JSON_FIELDS = {
    "reply_markup",
    "commands",
    "scope",
    "allowed_updates",
    "link_preview_options",
    "entities",
    "reply_parameters",
    "menu_button",
}
SEND_METHODS = {
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "sendPhoto",
    "sendDocument",
    "copyMessage",
    "forwardMessage",
    "sendChatAction",
    "deleteMessage",
}
_TAGS = re.compile(r"<[^>]+>")
CALL = web.RequestKey("call", object)  # the ApiCall a request recorded


def plain(text: str | None) -> str:
    """What a person reads: HTML tags removed, entities unescaped."""
    return html.unescape(_TAGS.sub("", text or ""))


@dataclass
class TgUser:
    id: int
    first_name: str = "Student"
    username: str | None = None
    language_code: str | None = "en"
    last_name: str | None = None

    def as_dict(self) -> dict:
        d = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("username", "language_code", "last_name"):
            if getattr(self, key):
                d[key] = getattr(self, key)
        return d


@dataclass
class ApiCall:
    method: str
    params: dict
    at: float  # time.monotonic()
    wall: float  # time.time()
    result: Any = None
    error: int | None = None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return plain(self.params.get("text"))

    @property
    def buttons(self) -> list[str]:
        """Inline and reply-keyboard button texts, row by row flattened."""
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [b["text"] if isinstance(b, dict) else str(b) for row in rows for b in row]


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    text: str
    reply_markup: dict | None = None
    from_bot: bool = True
    date: int = field(default_factory=lambda: int(time.time()))

    def as_dict(self, bot_user: dict) -> dict:
        d = {
            "message_id": self.message_id,
            "date": self.date,
            "text": self.text,
            "chat": {"id": self.chat_id, "type": "private", "first_name": "Student"},
        }
        d["from"] = bot_user if self.from_bot else {"id": self.chat_id, "is_bot": False, "first_name": "Student"}
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            d["reply_markup"] = self.reply_markup
        return d

    @property
    def plain_text(self) -> str:
        return plain(self.text)

    def callback_data(self, label: str) -> str:
        """The callback data of the inline button whose text contains `label`."""
        for row in (self.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if label in button["text"]:
                    return button["callback_data"]
        raise AssertionError(f"no button {label!r} in {self.buttons}")

    @property
    def buttons(self) -> list[str]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or (self.reply_markup or {}).get("keyboard") or []
        return [b["text"] for row in rows for b in row]


class FakeTelegramAPI:
    def __init__(self, token: str = TOKEN):
        self.token = token
        self.bot_user = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "CodeHub",
            "username": "codehub_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self.blocked: set[int] = set()
        self.menu_buttons: dict[int | None, dict] = {}  # setChatMenuButton per chat (None: the default)
        self.retry_once: dict[str, int] = {}
        self.fail_once: dict[str, int] = {}
        self._pending: list[dict] = []
        self._new_update = asyncio.Event()
        self._offset_changed = asyncio.Event()
        self.offset = 0  # the highest offset the bot confirmed: updates below it are processed
        # Like Telegram after a quiet week, the ids start somewhere random: a bot that remembers update ids in
        # Redis (shared by replicas) must not take this run's updates for an earlier run's.
        self._update_ids = itertools.count(random.randrange(1, 2**31))
        self._message_ids: dict[int, itertools.count] = {}
        self._callback_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.by_chat: dict[int, list[ApiCall]] = {}  # answered calls per chat, for many students waiting at once
        self._chat_changed: dict[int, asyncio.Event] = {}

    # -- server ---------------------------------------------------------------------------------
    async def start(self, port: int = 0) -> FakeTelegramAPI:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict:
        if request.content_type == "application/json":
            # recorded as a form would deliver them (scalars as text), so tests read one shape either way
            raw = {
                key: value if isinstance(value, str) or key in JSON_FIELDS else json.dumps(value)
                for key, value in (await request.json()).items()
            }
        else:
            raw = dict(await request.post())
            raw.update(request.query)
        params = {}
        for key, value in raw.items():
            if isinstance(value, web.FileField):
                value = value.file.read().decode(errors="replace")
            if key in JSON_FIELDS and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            params[key] = value
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        response = await self._answer(request)
        call = request.get(CALL)
        if call is not None and call.chat_id is not None:
            self.by_chat.setdefault(call.chat_id, []).append(call)
            self._chat_changed.setdefault(call.chat_id, asyncio.Event()).set()
        return response

    async def _answer(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        call = ApiCall(method, params, time.monotonic(), time.time())
        self.calls.append(call)
        request[CALL] = call
        chat = params.get("chat_id")
        if method in SEND_METHODS and chat is not None and int(chat) in self.blocked:
            call.error = 403
            return web.json_response(
                {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}, status=403
            )
        if method in self.retry_once:
            seconds = self.retry_once.pop(method)
            call.error = 429
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {seconds}",
                    "parameters": {"retry_after": seconds},
                },
                status=429,
            )
        if method in self.fail_once:
            status = self.fail_once.pop(method)
            call.error = status
            return web.json_response(
                {"ok": False, "error_code": status, "description": "Internal Server Error"}, status=status
            )
        if method in ("sendMessage", "editMessageText") and len(plain(params.get("text"))) > 4096:
            call.error = 400
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}, status=400
            )
        if method == "editMessageText" and self._not_modified(params):
            call.error = 400
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 400,
                    "description": (
                        "Bad Request: message is not modified: specified new message content and reply markup are "
                        "exactly the same as a current content and reply markup of the message"
                    ),
                },
                status=400,
            )
        call.result = self._result(method, params)
        return web.json_response({"ok": True, "result": call.result})

    def _not_modified(self, p: dict) -> bool:
        """Telegram refuses an edit that changes nothing (a double tap, the same page again)."""
        msg = self.messages.get((int(p.get("chat_id") or 0), int(p.get("message_id") or 0)))
        return msg is not None and msg.text == p.get("text", "") and msg.reply_markup == p.get("reply_markup")

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _result(self, method: str, p: dict) -> Any:
        if method == "getMe":
            return self.bot_user
        if method == "sendMessage":
            chat_id = int(p["chat_id"])
            msg = StoredMessage(chat_id, self._next_message_id(chat_id), p.get("text", ""), p.get("reply_markup"))
            self.messages[(chat_id, msg.message_id)] = msg
            return msg.as_dict(self.bot_user)
        if method in ("editMessageText", "editMessageReplyMarkup"):
            key = (int(p["chat_id"]), int(p["message_id"]))
            msg = self.messages.get(key) or StoredMessage(*key, text="")
            if method == "editMessageText":
                msg.text = p.get("text", "")
            msg.reply_markup = p.get("reply_markup")
            self.messages[key] = msg
            return msg.as_dict(self.bot_user)
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method == "getMyCommands":
            return []
        if method == "setChatMenuButton":
            chat = p.get("chat_id")
            self.menu_buttons[int(chat) if chat is not None else None] = p.get("menu_button") or {"type": "default"}
            return True
        if method == "getChatMenuButton":
            chat = p.get("chat_id")
            return self.menu_buttons.get(int(chat) if chat is not None else None, {"type": "default"})
        return True

    async def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        if offset > self.offset:
            self.offset = offset
            self._offset_changed.set()
        self._pending = [u for u in self._pending if u["update_id"] >= offset]
        if not self._pending:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout=min(float(params.get("timeout") or 0), 2.0))
            except asyncio.TimeoutError:
                pass
        return [u for u in self._pending if u["update_id"] >= offset][:100]

    # -- playing the user -----------------------------------------------------------------------
    def push(self, update: dict) -> int:
        update_id = update.setdefault("update_id", next(self._update_ids))
        self._pending.append(update)
        self._new_update.set()
        return update_id

    def message_update(self, user: TgUser, text: str) -> dict:
        msg_id = self._next_message_id(user.id)
        message = {
            "message_id": msg_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.as_dict(),
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self.messages[(user.id, msg_id)] = StoredMessage(user.id, msg_id, text, from_bot=False)
        return {"update_id": next(self._update_ids), "message": message}

    def callback_update(self, user: TgUser, message: StoredMessage, data: str) -> dict:
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._callback_ids)),
                "from": user.as_dict(),
                "chat_instance": str(message.chat_id),
                "message": message.as_dict(self.bot_user),
                "data": data,
            },
        }

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:
        """Until the bot asked for updates after this one (with handle_as_tasks=False: it is handled)."""
        deadline = time.monotonic() + timeout
        while self.offset <= update_id:
            self._offset_changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"update {update_id} was not processed in {timeout}s")
            try:
                await asyncio.wait_for(self._offset_changed.wait(), timeout=remaining)
            except asyncio.TimeoutError:
                pass

    async def wait_for_call(self, predicate, timeout: float = 10.0, start: int = 0) -> ApiCall:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in self.calls[start:]:
                if predicate(call):
                    return call
            await asyncio.sleep(0.05)
        raise AssertionError(
            "expected API call not seen; calls: " + "; ".join(f"{c.method} {c.text[:60]!r}" for c in self.calls[-10:])
        )

    async def wait_in_chat(self, chat_id: int, predicate, since: int, timeout: float = 10.0) -> ApiCall:
        """The first answered call to this chat, from index `since` of by_chat[chat_id] on, matching `predicate`;
        woken by each new call to the chat (no polling, so a hundred waiting students cost nothing)."""
        deadline = time.monotonic() + timeout
        seen = since
        while True:
            calls = self.by_chat.get(chat_id, [])
            for call in calls[seen:]:
                if predicate(call):
                    return call
            seen = len(calls)
            event = self._chat_changed.setdefault(chat_id, asyncio.Event())
            event.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"expected call to chat {chat_id} not seen; last: "
                    + "; ".join(f"{c.method} {c.text[:60]!r}" for c in calls[-5:])
                )
            try:
                await asyncio.wait_for(event.wait(), timeout=remaining)
            except asyncio.TimeoutError:
                pass

    # -- reading what the bot did ------------------------------------------------------------------
    def sent_to(self, chat_id: int, since: int = 0) -> list[ApiCall]:
        return [
            c
            for c in self.calls[since:]
            if c.method in ("sendMessage", "editMessageText") and c.chat_id == chat_id and c.error is None
        ]

    def last_message(self, chat_id: int) -> StoredMessage:
        """The newest message in this chat that the bot sent or edited."""
        calls = [
            c
            for c in self.calls
            if c.method in ("sendMessage", "editMessageText", "editMessageReplyMarkup")
            and c.chat_id == chat_id
            and c.error is None
        ]
        if not calls:
            raise AssertionError(f"the bot sent nothing to {chat_id}")
        result = calls[-1].result
        return self.messages[(chat_id, result["message_id"])]

    def message_with(self, chat_id: int, needle: str) -> StoredMessage:
        """The newest bot message in this chat whose text contains `needle`."""
        for (chat, _mid), msg in sorted(self.messages.items(), key=lambda kv: -kv[0][1]):
            if chat == chat_id and msg.from_bot and needle in msg.plain_text:
                return msg
        raise AssertionError(f"no message with {needle!r} in chat {chat_id}")

    def answers(self, since: int = 0) -> list[str]:
        return [c.params.get("text", "") for c in self.calls[since:] if c.method == "answerCallbackQuery"]
