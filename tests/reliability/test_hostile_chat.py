"""Hostile chat input through the bot's real interface: a corpus of cases, each one a test.

One bot (the real dispatcher polling the fake Bot API server) and one SQLite database serve the whole module,
so the corpus runs in well under two minutes. Every case puts a student or an admin at a step of a flow, sends
one hostile input (text, media, an edited message, a forged button, a group or channel post, a hostile name)
and checks:
- the sender got a clear answer in their language (never the apology, never silence where one is due);
- the money tables (balances, ledger, enrollments, bookings) are exactly as before, or changed exactly as the
  legitimate action says (an admin's reason that rejects a top-up or cancels and refunds a booking);
- every message the bot sent parses as Telegram HTML, and hostile text it repeats reads back literally
  (so it was escaped), in the sender's chat and in the admins' cards and the students' notifications;
- nothing was logged at ERROR and no traceback was logged.
"""

from __future__ import annotations

import html
import itertools
import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
import pytest_asyncio
from sqlalchemy import select

from core.db import Database
from core.models import Enrollment, MentorshipBooking, Task, Transaction, TransactionStatus, TransactionType, User
from core.services import broadcasts, mentorship, students, topups, wallet
from core.services.common import Actor
from core.text import strip_controls
from core.timeutil import utcnow
from tests.bot.fake_api import TOKEN, FakeTelegramAPI, StoredMessage, TgUser, plain
from tests.bot.helpers import ADMIN1, ADMIN2, BotRunner
from tests.factories import seed_catalog
from tests.helpers import context, make_settings

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

EN = TgUser(9301, "Layla", "layla", "en")
AR = TgUser(9302, "ليلى", "layla_ar", "ar")
OTHER = TgUser(9303, "Omar", "omar", "en")  # another student: their booking and top-up are forged at
GROUP_ID = -100555
WALLET = "01012345678"
SOON = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%d")  # a session day within max_session_days_ahead

# -- what the bot says (msgids, translated to the reader's language when checked) --------------------------
AGAIN_AMOUNT = "Please send the amount again, or /cancel."
AGAIN_NUMBER = "Please send the number again, or /cancel."
AGAIN_REFERENCE = "Please send it again, tap Skip, or /cancel."
AMOUNT_OK = "Amount: <b>{amount}</b>.\nNow send the Vodafone Cash number you sent it from (like 01012345678)."
ANSWER_ABOVE = "Please answer the question above, or send /cancel to stop."
NOT_UNDERSTOOD = "I did not understand that. Use the menu below or send /help."
CHECK_BOOKING = "<b>Please check your booking</b>"
TOO_LONG_NOTES = "That is too long (at most 1000 characters). Please shorten it."
INVALID_INPUT = "That input is not valid or too long. Please try again."
TOO_LONG_TEXT = "That is too long: {limit} characters at most."
FEEDBACK_SAVED = "🙏 Thank you! Your feedback was saved:\n<i>{text}</i>"
NOT_YOURS = "That is not yours: nothing was changed."
NOT_FOUND = "That item does not exist (any more)."
ADMINS_ONLY = "⛔ This action is for CodeHub admins only."
STALE = "This button is no longer valid. Please open the menu again."
PRICE_CHANGED = "The price changed from {old} to {new}. Nothing was charged; please look again."
BAD_DURATION = "Please choose one of the offered durations."
BAD_RATING = "Please choose 1 to 5 stars."
LOCKED = "🔒 This content is locked. Enroll to unlock the tasks."
NOT_A_DATE = "I could not read that date. Try <code>2026-12-01 18:00</code> or <code>tomorrow 18:00</code>."
ADD_TIME = "Please add the time of day too, e.g. <code>tomorrow 18:00</code> or <code>2026-12-01 18:00</code>."
PAST = "That time is in the past. Please send a future date and time."
TOO_FAR = "That is too far ahead: a session can be at most {days} days from now. Please send an earlier date and time."
SESSION_ON = (
    "Session on <b>{date}</b> (Cairo time). Any notes for the student, like the meeting link? Send them, or tap Skip."
)
REASON = "Reason: {reason}"
PRIVATE = "Let's talk in private, where your wallet stays yours: open a chat with me and send /start."
EDITED = "✏️ I do not read edited messages. Please send the corrected text as a new message."
APOLOGY = "😔 Sorry, something went wrong on our side. Please try again later. Error reference: <code>{ref}</code>"
HISTORY = "📜 <b>History</b>"
WELCOME = "🎉 Welcome to CodeHub, {name}! Your wallet is ready with a welcome credit of <b>{bonus}</b>."

# -- Telegram's HTML: the tags it knows, every other <, > and & escaped --------------------------------------
_ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
_HTML_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+=\"[^\"<>]*\")*)\s*>"
    r"|&(?:#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|[<>&]"
)


def telegram_html_error(text: str) -> str | None:
    """Why Telegram would refuse this text with parse_mode=HTML, or None when it parses."""
    stack: list[str] = []
    for m in _HTML_TOKEN.finditer(text):
        token = m.group(0)
        if m.group(2) is not None:
            name = m.group(2).lower()
            if name not in _ALLOWED_TAGS:
                return f"unsupported tag {token!r}"
            if m.group(1):
                if not stack or stack[-1] != name:
                    return f"unbalanced {token!r} (open: {stack})"
                stack.pop()
            else:
                stack.append(name)
        elif token in "<>&":
            return f"unescaped {token!r} at {m.start()}: {text[max(0, m.start() - 30) : m.start() + 30]!r}"
    return f"unclosed {stack}" if stack else None


# -- the money tables ---------------------------------------------------------------------------------------
def dump(db: Database) -> dict[str, dict[int, tuple]]:
    """Balances, the ledger, enrollments and bookings: every column that money or access depends on."""
    with db.session() as s:
        return {
            "users": {u.id: (u.telegram_id, u.balance) for u in s.scalars(select(User))},
            "transactions": {
                t.id: (t.user_id, t.type.value, t.status.value, t.amount, t.balance_after)
                for t in s.scalars(select(Transaction))
            },
            "enrollments": {e.id: (e.user_id, e.platform_id, e.expires_at) for e in s.scalars(select(Enrollment))},
            "bookings": {
                b.id: (b.student_id, b.mentor_id, b.duration, b.total_cost, b.status.value)
                for b in s.scalars(select(MentorshipBooking))
            },
        }


def diff(before: dict, after: dict) -> dict[str, dict]:
    out = {}
    for table in before:
        old, new = before[table], after[table]
        changed = {k: (old.get(k), new.get(k)) for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        if changed:
            out[table] = changed
    return out


# -- the world: one bot, one database, the people in it --------------------------------------------------
@dataclass
class World:
    api: FakeTelegramAPI
    runner: BotRunner
    db: Database
    ids: dict
    serial: itertools.count = field(default_factory=lambda: itertools.count(1))

    def user_id(self, tg: TgUser | int) -> int:
        telegram_id = tg if isinstance(tg, int) else tg.id
        with self.db.session() as s:
            return s.scalar(select(User.id).where(User.telegram_id == telegram_id))

    def new_payer(self) -> int:
        """A fresh student (telegram id 700000+) registered through the service, with the welcome credit."""
        n = next(self.serial)
        with self.db.session() as s:
            return students.register(s, 700000 + n, full_name=f"Payer {n}", language="en").user.id

    def pending_topup(self) -> int:
        """A payer's PENDING top-up of 150.00 (one left over from a refused reason, or a new one)."""
        with self.db.session() as s:
            found = s.scalar(
                select(Transaction.id)
                .join(User, User.id == Transaction.user_id)
                .where(
                    Transaction.type == TransactionType.TOP_UP,
                    Transaction.status == TransactionStatus.PENDING,
                    User.telegram_id >= 700000,
                )
                .order_by(Transaction.id)
            )
        if found:
            return found
        uid = self.new_payer()
        with self.db.session() as s:
            return topups.request_topup(s, uid, Decimal("150"), WALLET, idempotency_key=f"hostile:{uid}").transaction_id

    def pending_booking(self) -> int:
        with self.db.session() as s:
            found = s.scalar(
                select(MentorshipBooking.id)
                .join(User, User.id == MentorshipBooking.student_id)
                .where(MentorshipBooking.status == "PENDING", User.telegram_id >= 700000)
                .order_by(MentorshipBooking.id)
            )
        if found:
            return found
        return self.booking(self.new_payer())

    def booking(self, uid: int, *, completed: bool = False) -> int:
        """A 30-minute booking of this student (funds added first so the balance never runs out)."""
        n = next(self.serial)
        with self.db.session() as s:
            wallet.adjust_balance(
                s, uid, Decimal("150"), "hostile test funds", actor=Actor("qa"), idempotency_key=f"funds:{n}"
            )
            bid = mentorship.book(s, uid, self.ids["mentor"], 30, None, idempotency_key=f"book:{n}").booking.id
            if completed:
                mentorship.confirm(s, bid, utcnow() + timedelta(hours=2), actor=Actor("qa"))
                mentorship.complete(s, bid, actor=Actor("qa"), now=utcnow() + timedelta(hours=3))
        return bid

    def msg(self, chat_id: int) -> StoredMessage:
        """A message of the bot in this chat to put a (forged) button under."""
        return self.api.last_message(chat_id)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(sqlite_template, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    shutil.copy(sqlite_template, tmp / "codehub.db")
    url = f"sqlite:///{tmp / 'codehub.db'}"
    api = await FakeTelegramAPI().start()
    settings = make_settings(url, tmp, bot_token=TOKEN, telegram_api_url=api.base_url)
    runner = await BotRunner(api, settings, throttle_limit=1_000_000).start()
    db = Database(url, context())
    w = World(api, runner, db, seed_catalog(db))
    with db.session() as s:
        w.ids["paid_task"] = s.scalar(select(Task.id).where(Task.platform_id == w.ids["paid"]))
    for user in (EN, AR, OTHER, ADMIN1, ADMIN2):
        await runner.send(user, "/start")
    other = w.user_id(OTHER)
    w.ids["other_pending"] = w.booking(other)
    w.ids["other_completed"] = w.booking(other, completed=True)
    with db.session() as s:
        w.ids["other_topup"] = topups.request_topup(
            s, other, Decimal("150"), WALLET, idempotency_key="other"
        ).transaction_id
    decided = w.pending_topup()
    with db.session() as s:
        topups.approve(s, decided, actor=Actor("@hoda_admin"), confirmed=True, reason="checked the statement")
    w.ids["decided_topup"] = decided
    cancelled = w.pending_booking()
    with db.session() as s:
        mentorship.cancel(s, cancelled, "test", actor=Actor("qa"))
    w.ids["cancelled_booking"] = cancelled
    await runner.deliver()
    yield w
    await runner.stop()
    db.dispose()
    await api.stop()


# -- sending hostile things ---------------------------------------------------------------------------------
def message(api: FakeTelegramAPI, user: TgUser, chat: dict | None = None, **content) -> dict:
    chat = chat or {"id": user.id, "type": "private", "first_name": user.first_name}
    msg = {
        "message_id": api._next_message_id(chat["id"]),
        "date": int(time.time()),
        "chat": chat,
        "from": user.as_dict(),
        **content,
    }
    text = content.get("text") or ""
    if text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return msg


MEDIA = {
    "photo": {
        "photo": [{"file_id": "ph1", "file_unique_id": "u1", "width": 90, "height": 90}],
        "caption": "<b>500</b>",
    },
    "sticker": {
        "sticker": {
            "file_id": "st1",
            "file_unique_id": "u2",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "😂",
        }
    },
    "contact": {"contact": {"phone_number": "+201012345678", "first_name": "<b>Me</b>", "user_id": 9301}},
    "location": {"location": {"latitude": 30.0444, "longitude": 31.2357}},
    "voice": {"voice": {"file_id": "vo1", "file_unique_id": "u3", "duration": 3}},
    "document": {"document": {"file_id": "do1", "file_unique_id": "u4", "file_name": "<x>.pdf"}},
    "dice": {"dice": {"emoji": "🎲", "value": 6}},
}


async def send_text(w: World, user: TgUser, text: str) -> None:
    await w.runner.send(user, text)


async def send_media(w: World, user: TgUser, kind: str) -> None:
    await w.runner.feed({"message": message(w.api, user, **MEDIA[kind])})


async def send_edited(w: World, user: TgUser, text: str) -> None:
    msg = message(w.api, user, text=text)
    msg["edit_date"] = int(time.time())
    await w.runner.feed({"edited_message": msg})


async def press(w: World, user: TgUser, data: str) -> None:
    await w.runner.press_data(user, w.msg(user.id), data)


async def press_old(w: World, user: TgUser, data: str) -> None:
    """A (forged) button under an old message of the chat, not the one the flow is waiting on."""
    await w.runner.press_data(user, StoredMessage(user.id, 1, "old"), data)


# -- where a case starts: each returns the details the case may need ------------------------------------------
Where = Callable[[World, TgUser], Awaitable[dict]]


async def idle(w: World, user: TgUser) -> dict:
    return {}


async def at_amount(w: World, user: TgUser) -> dict:
    await w.runner.send(user, "/topup")
    return {}


async def at_wallet(w: World, user: TgUser) -> dict:
    await at_amount(w, user)
    await w.runner.send(user, "150")
    return {}


async def at_reference(w: World, user: TgUser) -> dict:
    """Asked for the optional Vodafone Cash transaction number (with a Skip button)."""
    await at_wallet(w, user)
    await w.runner.send(user, WALLET)
    return {}


async def at_topup_confirm(w: World, user: TgUser) -> dict:
    await at_wallet(w, user)
    await w.runner.send(user, WALLET)
    await to_topup_summary(w, user)
    return {}


async def to_topup_summary(w: World, user: TgUser) -> StoredMessage:
    """From the answer to the sender number to the summary with Confirm, tapping Skip on any optional step
    a later version puts in between (these cases do not depend on one)."""
    for _ in range(3):
        msg = w.msg(user.id)
        data = [b.get("callback_data", "") for row in (msg.reply_markup or {}).get("inline_keyboard", []) for b in row]
        if "tu:confirm" in data:
            return msg
        skip = [d for d in data if "skip" in d.lower()]
        assert skip, f"no top-up summary after the sender number: {msg.plain_text[:200]!r}"
        await w.runner.press_data(user, msg, skip[0])
    raise AssertionError("no top-up summary")


async def at_notes(w: World, user: TgUser) -> dict:
    await w.runner.send(user, "/book")
    await press(w, user, f"m:{w.ids['mentor']}")
    durations = w.msg(user.id)
    await press(w, user, durations.reply_markup["inline_keyboard"][0][0]["callback_data"])  # 30 min
    return {}


async def at_feedback(w: World, user: TgUser) -> dict:
    bid = w.booking(w.user_id(user), completed=True)
    await press(w, user, f"rate:{bid}:5")
    return {"booking": bid}


async def at_reject_reason(w: World, admin: TgUser) -> dict:
    tx = w.pending_topup()
    await press(w, admin, f"at:reject:{tx}")
    with w.db.session() as s:
        payer = s.scalar(
            select(User.telegram_id).join(Transaction, Transaction.user_id == User.id).where(Transaction.id == tx)
        )
    return {"topup": tx, "payer": payer}


async def at_booking_date(w: World, admin: TgUser) -> dict:
    bid = w.pending_booking()
    await press(w, admin, f"ab:confirm:{bid}")
    return {"booking": bid, "payer": booking_payer(w, bid)}


async def at_booking_notes(w: World, admin: TgUser) -> dict:
    ctx = await at_booking_date(w, admin)
    # a day of its own per booking: the world's bookings share one mentor, who is never booked twice at once
    day = (utcnow() + timedelta(days=30 + ctx["booking"] % 100)).strftime("%Y-%m-%d")
    await w.runner.send(admin, f"{day} 18:00")
    return ctx


async def at_cancel_reason(w: World, admin: TgUser) -> dict:
    bid = w.pending_booking()
    await press(w, admin, f"ab:cancel:{bid}")
    await press(w, admin, f"ab:cancel_yes:{bid}")
    return {"booking": bid, "payer": booking_payer(w, bid)}


def booking_payer(w: World, bid: int) -> int:
    with w.db.session() as s:
        return s.scalar(
            select(User.telegram_id)
            .join(MentorshipBooking, MentorshipBooking.student_id == User.id)
            .where(MentorshipBooking.id == bid)
        )


STUDENT_STEPS: dict[str, tuple[Where, str]] = {  # step: (setup, what the bot says to media there)
    "idle": (idle, NOT_UNDERSTOOD),
    "amount": (at_amount, ANSWER_ABOVE),
    "wallet": (at_wallet, ANSWER_ABOVE),
    "reference": (at_reference, ANSWER_ABOVE),
    "topup_confirm": (at_topup_confirm, ANSWER_ABOVE),
    "notes": (at_notes, ANSWER_ABOVE),
    "feedback": (at_feedback, ANSWER_ABOVE),
}
ADMIN_STEPS: dict[str, Where] = {
    "reject_reason": at_reject_reason,
    "booking_date": at_booking_date,
    "booking_notes": at_booking_notes,
    "cancel_reason": at_cancel_reason,
}


# -- the cases ----------------------------------------------------------------------------------------------
@dataclass
class Case:
    id: str
    where: Where
    act: Callable[[World, TgUser, dict], Awaitable[None]]
    says: str | None = None  # a msgid the sender must read (in their language); None: any clear answer
    not_says: str | None = None  # a msgid the sender must not read (the input was fine)
    silent: bool = False  # nothing is answered (a channel post, chatter in a group)
    echo: str | None = None  # hostile text that must read back literally (escaped) ...
    echo_to: tuple[str, ...] = ("sender",)  # ... in these chats: sender, payer, admins
    changes: Callable[[World, dict, dict], None] | None = None  # the legitimate change, checked
    admin: bool = False
    langs: tuple[str, ...] = ("en",)
    params: dict = field(default_factory=dict)  # values for the msgid's placeholders


def text_case(cid, where, text, says=None, **kw) -> Case:
    return Case(cid, where, lambda w, u, ctx, t=text: send_text(w, u, t), says, **kw)


class Html(str):
    """A placeholder value that is already HTML (as the bot renders it), not text to escape."""


BAD_AMOUNTS = {
    "huge-400-digits": "9" * 400,
    "huge-1e400": "1e400",
    "huge-20-digits": "99999999999999999999",
    "above-max": "50000.01",
    "huge-grouped": "1,000,000,000",
    "huge-decimal": "9" * 30 + ".99",
    "negative": "-150",
    "negative-unicode-minus": "−150",
    "negative-zero": "-0",
    "negative-spaced": "- 150",
    "double-minus": "--150",
    "double-plus": "++150",
    "trailing-minus": "150-",
    "exponent-1e3": "1e3",
    "exponent-1E3": "1E3",
    "exponent-small": "1e-2",
    "exponent-15e1": "15e1",
    "exponent-decimal": "1.5e2",
    "nan": "NaN",
    "nan-lower": "nan",
    "snan": "sNaN",
    "infinity": "Infinity",
    "minus-infinity": "-Infinity",
    "inf": "inf",
    "infinity-sign": "∞",
    "zero": "0",
    "zero-decimals": "0.00",
    "below-min": "9.99",
    "three-decimals": "150.555",
    "hex": "0x96",
    "underscore": "1_500",
    "dollar": "$150",
    "usd": "150 USD",
    "empty-ish": " ",
    "letters": "one hundred fifty",
    "html": "<b>150</b>",
    "markdown": "*150*",
    "zero-width": "150\u200b",
    "rtl-override": "\u202e051",
    "spaced-digits": "1 50",
    "bad-grouping": "1,50",
    "bad-grouping-2": "1,5000",
    "fraction": "½",
    "circled": "①⑤⓪",
    "roman": "Ⅽ",
    "emoji-digits": "1️⃣5️⃣0️⃣",
    "control-null": "150\x00",
    "control-bell": "\x07150",
    "newline-inside": "15\n0",
    "two-numbers": "150 200",
    "percent": "150%",
    "sql": "150; DROP TABLE users;--",
    "json": '{"amount": 150}',
    "100k-chars": "1" * 100_000,
    "100k-letters": "x" * 100_000,
    "mixed-script-letters": "١٥o",
    "persian-exponent": "۱e۳",
    "arabic-negative": "-١٥٠",
}
GOOD_AMOUNTS = {  # (typed, read as): Unicode digits of every script are digits
    "arabic-indic-500": ("٥٠٠", "500.00"),
    "persian-500": ("۵۰۰", "500.00"),
    "full-width-500": ("５００", "500.00"),
    "mixed-arabic-ascii": ("٥0٠", "500.00"),
    "mixed-persian-arabic": ("۵٠۰", "500.00"),
    "mixed-full-width-ascii": ("５0０", "500.00"),
    "devanagari": ("५००", "500.00"),
    "arabic-decimal-separator": ("١٥٠٫٥٠", "150.50"),
    "arabic-thousands": ("١٬٥٠٠", "1,500.00"),
    "currency-words-ar": ("١٥٠ جنيه", "150.00"),
    "currency-egp": ("150 EGP", "150.00"),
    "plus-sign": ("+150", "150.00"),
    "leading-zeros": ("00150", "150.00"),
    "nbsp-grouped": ("1\u00a0500", "1,500.00"),
    "max": ("50000", "50,000.00"),
    "min": ("10", "10.00"),
}
BAD_NUMBERS = {
    "ten-digits": "0101234567",
    "twelve-digits": "010123456789",
    "bad-prefix": "01312345678",
    "exponent": "1e10",
    "negative": "-1012345678",
    "nan": "NaN",
    "html": "<b>01012345678</b>",
    "control-null": "01012345678\x00",
    "100k-digits": "0" * 100_000,
    "letter-o": "01O12345678",
    "emoji": "📱",
    "zero-width": "0\u200b1012345678",
    "plus-zero": "+0201012345678",
    "landline": "0223456789",
    "link": "tel:+201012345678",
    "markdown": "`01012345678`",
    "sql": "' OR 1=1 --",
    "mixed-letters": "٠١٠abc",
    "spaces-only": "   ",
    "persian-bad-prefix": "۰۱۳۱۲۳۴۵۶۷۸",
}
GOOD_NUMBERS = {
    "intl-plus": "+201012345678",
    "intl-00": "00201012345678",
    "intl-20": "201012345678",
    "arabic-indic": "٠١٠١٢٣٤٥٦٧٨",
    "persian": "۰۱۰۱۲۳۴۵۶۷۸",
    "full-width": "０１０１２３４５６７８",
    "mixed-scripts": "0١0۱٢٣٤5678",
    "spaced": "010 1234 5678",
    "dashed": "010-1234-5678",
    "bracketed": "(010) 1234 5678",
    "intl-spaced": "+20 10 1234 5678",
    "leading-dash": "-01012345678",
}
BAD_REFERENCES = {  # the optional transaction number: 6 to 20 digits, nothing else
    "five-digits": "02276",
    "21-digits": "1" * 21,
    "100k-digits": "0" * 100_000,
    "letters": "abc",
    "html": "<b>022768543034</b>",
    "control-null": "022768543034\x00",
    "decimal": "0227685430.34",
    "emoji": "🧾",
    "sql": "' OR 1=1 --",
    "spaces-only": "   ",
    "with-words": "رقم العملية: 022768543034",
    "mixed-letters": "٠٢٢٧abc",
}
GOOD_REFERENCES = {
    "plain": "022768543034",
    "arabic-indic": "٠٢٢٧٦٨٥٤٣٠٣٤",
    "persian": "۰۲۲۷۶۸۵۴۳۰۳۴",
    "spaced": "0227 6854 3034",
    "dashed": "0227-6854-3034",
    "zero-width": "0227\u200b68543034",
    "leading-dash": "-022768543034",
}
HOSTILE_TEXTS = {  # for notes, feedback and reasons: accepted, and read back exactly
    "html-bold": "<b>bold</b> & <i>it</i>",
    "html-link": '<a href="https://evil.example">click</a>',
    "html-script": "<script>alert(1)</script>",
    "entities": "&lt;b&gt; &amp;amp; &#60;i&#62; &quot;",
    "markdown-v2": "_*[]()~`>#+-=|{}.!\\",
    "telegram-tags": "<tg-spoiler>x</tg-spoiler><code>y</code><pre>z",
    "unclosed": "</i></b><b><i>",
    "lone-brackets": "a < b > c & d",
    "rtl-override": "\u202eevil\u202c text",
    "arabic-html": "ملاحظة <b>مهمة</b> & شكرا",
    "zalgo": "Z̸̢͉͙a̷l̶g̸o̵ ̷t̸e̷x̵t̸",
    "emoji": "🔥<🙂>🚀",
}
CONTROL_TEXTS = {
    "control-null": "hello\x00world",
    "control-bell": "\x07ring",
    "control-escape": "\x1b[31mred",
    "control-c1": "a\x85b",
    "lone-surrogate-ish": "a\ufffeb",
}


def money_unchanged(w, before, after):
    assert diff(before, after) == {}


def reject_only(w, ctx, d):
    assert set(d) == {"transactions"}, d
    [(old, new)] = d["transactions"].values()
    assert old[2] == "PENDING" and new[2] == "REJECTED" and old[3] == new[3]


def cancel_and_refund(w, ctx, d):
    assert set(d) == {"users", "transactions", "bookings"}, d
    [(old, new)] = d["bookings"].values()
    assert old[4] == "PENDING" and new[4] == "CANCELLED"
    [(none, refund)] = d["transactions"].values()
    assert none is None and refund[1] == "REFUND" and refund[3] == old[3]
    [(b_old, b_new)] = d["users"].values()
    assert b_new[1] - b_old[1] == old[3]


def confirm_only(w, ctx, d):
    assert set(d) == {"bookings"}, d
    [(old, new)] = d["bookings"].values()
    assert old[4] == "PENDING" and new[4] == "CONFIRMED"


def cases() -> list[Case]:
    out: list[Case] = []
    both = ("en", "ar")
    # top-up amount
    for cid, text in BAD_AMOUNTS.items():
        langs = (
            both
            if cid
            in {
                "huge-400-digits",
                "negative",
                "exponent-1e3",
                "nan",
                "infinity",
                "zero",
                "three-decimals",
                "html",
                "100k-chars",
                "control-null",
                "mixed-script-letters",
                "arabic-negative",
            }
            else ("en",)
        )
        out.append(text_case(f"amount-{cid}", at_amount, text, AGAIN_AMOUNT, langs=langs))
    for cid, (text, read) in GOOD_AMOUNTS.items():
        langs = both if cid in {"arabic-indic-500", "persian-500", "full-width-500", "mixed-arabic-ascii"} else ("en",)
        out.append(
            text_case(
                f"amount-{cid}", at_amount, text, AMOUNT_OK, langs=langs, params={"amount": Html(f"<b>{read} EGP</b>")}
            )
        )
    # wallet number
    for cid, text in BAD_NUMBERS.items():
        out.append(
            text_case(
                f"number-{cid}",
                at_wallet,
                text,
                AGAIN_NUMBER,
                langs=both if cid in {"html", "100k-digits", "nan"} else ("en",),
            )
        )
    for cid, text in GOOD_NUMBERS.items():
        out.append(
            text_case(
                f"number-{cid}",
                at_wallet,
                text,
                None,
                not_says=AGAIN_NUMBER,
                langs=both if cid in {"arabic-indic", "persian", "full-width"} else ("en",),
            )
        )
    # the optional transaction number: refused and asked again, or read (and nothing stored before Confirm)
    for cid, text in BAD_REFERENCES.items():
        out.append(
            text_case(
                f"reference-{cid}",
                at_reference,
                text,
                AGAIN_REFERENCE,
                langs=both if cid in {"html", "100k-digits", "with-words"} else ("en",),
            )
        )
    for cid, text in GOOD_REFERENCES.items():
        out.append(
            text_case(
                f"reference-{cid}",
                at_reference,
                text,
                None,
                not_says=AGAIN_REFERENCE,
                langs=both if cid in {"arabic-indic", "persian"} else ("en",),
            )
        )
    # text at the top-up summary, where a button is expected
    for cid, text in {"html": "<b>yes</b>", "amount-again": "500", "100k": "y" * 100_000}.items():
        out.append(text_case(f"topup-confirm-{cid}", at_topup_confirm, text, ANSWER_ABOVE, langs=both))
    # booking notes (shown back on the summary), feedback (shown back when saved)
    for cid, text in HOSTILE_TEXTS.items():
        out.append(
            text_case(
                f"notes-{cid}",
                at_notes,
                text,
                CHECK_BOOKING,
                echo=text,
                langs=both if cid in {"html-bold", "arabic-html"} else ("en",),
            )
        )
        out.append(text_case(f"feedback-{cid}", at_feedback, text, FEEDBACK_SAVED, echo=text, params={"text": text}))
    for cid, text in {"100k": "n" * 100_000, "1001": "n" * 1001}.items():
        out.append(text_case(f"notes-{cid}", at_notes, text, TOO_LONG_NOTES, langs=both))
        out.append(text_case(f"feedback-{cid}", at_feedback, text, TOO_LONG_TEXT, langs=both))
    for cid, text in CONTROL_TEXTS.items():
        out.append(text_case(f"notes-{cid}", at_notes, text, INVALID_INPUT, langs=both))
        out.append(text_case(f"feedback-{cid}", at_feedback, text, INVALID_INPUT))
    # admins' reasons, dates and notes: hostile text in the admin's reply and in the student's notification
    for cid, text in HOSTILE_TEXTS.items():
        out.append(
            text_case(
                f"reject-reason-{cid}",
                at_reject_reason,
                text,
                REASON,
                echo=text.strip(),
                echo_to=("sender", "payer"),
                changes=reject_only,
                admin=True,
                params={"reason": text},
            )
        )
        out.append(
            text_case(
                f"cancel-reason-{cid}",
                at_cancel_reason,
                text,
                REASON,
                echo=text.strip(),
                echo_to=("sender", "payer"),
                changes=cancel_and_refund,
                admin=True,
                params={"reason": text},
            )
        )
    for cid, text in {**CONTROL_TEXTS, "too-long": "r" * 100_000}.items():
        says = TOO_LONG_TEXT if cid == "too-long" else INVALID_INPUT  # a length says its limit
        out.append(text_case(f"reject-reason-{cid}", at_reject_reason, text, says, admin=True))
        out.append(text_case(f"cancel-reason-{cid}", at_cancel_reason, text, says, admin=True))
    for cid, text in {
        "html": "<b>tomorrow 18:00</b>",
        "exponent": "1e3",
        "nan": "NaN",
        "100k": "t" * 100_000,
        "control": "tomorrow\x00 18:00",
        "huge-year": "99999-12-01 18:00",
        "year-9999": "9999-12-31 23:59",
        "negative": "-1 day 18:00",
        "far-relative": "in 100000 years 18:00",
        "markdown": "*tomorrow* 18:00",
        "digits-only": "9" * 30,
    }.items():
        out.append(text_case(f"booking-date-{cid}", at_booking_date, text, None, admin=True))
    out.append(text_case("booking-date-year-1", at_booking_date, "0001-01-01 10:00", PAST, admin=True))
    out.append(
        text_case("booking-date-first-minute-of-year-1", at_booking_date, "0001-01-01 00:30", NOT_A_DATE, admin=True)
    )
    out.append(
        text_case(
            "booking-date-last-minute-of-9999",
            at_booking_date,
            "9999-12-31 23:59",
            TOO_FAR,
            admin=True,
            params={"days": "180"},
        )
    )
    out.append(
        text_case(
            "booking-date-year-2099", at_booking_date, "2099-01-01 10:00", TOO_FAR, admin=True, params={"days": "180"}
        )
    )
    out.append(text_case("booking-date-control-null", at_booking_date, "tomorrow\x00 18:00", NOT_A_DATE, admin=True))
    arabic_soon = SOON.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    out.append(text_case("booking-date-arabic-digits", at_booking_date, f"{arabic_soon} ١٨:٠٠", SESSION_ON, admin=True))
    for cid, text in HOSTILE_TEXTS.items():
        if cid in {"html-bold", "html-link", "entities", "markdown-v2", "unclosed", "arabic-html"}:
            out.append(
                text_case(
                    f"booking-notes-{cid}",
                    at_booking_notes,
                    text,
                    None,
                    echo=text.strip(),
                    echo_to=("payer",),
                    changes=confirm_only,
                    admin=True,
                )
            )
    # commands with hostile arguments, from any step
    big = "9" * 25
    for cid, text in {
        "start-huge-platform": f"/start platform_{big}",
        "start-superscript-platform": "/start platform_²",
        "start-arabic-digit-platform": "/start platform_٣",
        "start-negative-platform": "/start platform_-1",
        "start-html": "/start <b>x</b>",
        "start-100k": "/start " + "a" * 100_000,
        "start-unknown-platform": "/start platform_999999",
        "other-bots-command": "/topup@other_bot",
        "unknown-command-html": "/<b>x</b>",
        "command-with-args": "/balance <i>1e3</i>",
        "cancel-addressed": "/cancel@codehub_test_bot",
    }.items():
        for step in ("idle", "amount"):
            out.append(
                text_case(
                    f"command-{cid}-at-{step}",
                    STUDENT_STEPS[step][0],
                    text,
                    None,
                    langs=both if cid == "start-huge-platform" else ("en",),
                )
            )
    # media mid-flow, for students and admins
    for step, (where, says) in STUDENT_STEPS.items():
        for kind in MEDIA:
            out.append(
                Case(
                    f"media-{kind}-at-{step}",
                    where,
                    lambda w, u, ctx, k=kind: send_media(w, u, k),
                    says,
                    langs=("en", "ar") if kind in ("sticker", "contact") else ("en",),
                )
            )
    for step, where in ADMIN_STEPS.items():
        for kind in ("sticker", "photo", "contact", "location"):
            out.append(
                Case(
                    f"admin-media-{kind}-at-{step}",
                    where,
                    lambda w, u, ctx, k=kind: send_media(w, u, k),
                    ANSWER_ABOVE,
                    admin=True,
                )
            )
    # edited messages
    for step, (where, _says) in STUDENT_STEPS.items():
        out.append(
            Case(f"edited-at-{step}", where, lambda w, u, ctx: send_edited(w, u, "<b>1e3</b>"), EDITED, langs=both)
        )
    for step, where in ADMIN_STEPS.items():
        out.append(
            Case(f"admin-edited-at-{step}", where, lambda w, u, ctx: send_edited(w, u, "<i>no</i>"), EDITED, admin=True)
        )
    out += forged_callbacks() + groups_and_channels() + names() + booked_notes()
    out.sort(key=lambda c: c.id == "admin-pending-lists-everything")  # last: every hostile card is waiting
    return out


def forged(
    cid: str,
    data: Callable[[World], str] | str,
    says: str | None,
    *,
    where: Where = idle,
    then: tuple[str, ...] = (),
    admin: bool = False,
    langs=("en",),
) -> Case:
    async def act(w: World, user: TgUser, ctx: dict) -> None:
        await press_old(w, user, data(w) if callable(data) else data)
        for label in then:  # the next buttons of the flow the forged one started
            msg = w.msg(user.id)
            await w.runner.press_data(
                user, msg, msg.reply_markup["inline_keyboard"][0][0]["callback_data"] if label == "first" else label
            )

    return Case(f"forged-{cid}", where, act, says, admin=admin, langs=langs)


def forged_callbacks() -> list[Case]:
    big = "9" * 25
    out = [
        forged(
            "cancel-others-booking", lambda w: f"s:cancel_yes:{w.ids['other_pending']}", NOT_YOURS, langs=("en", "ar")
        ),
        forged("ask-cancel-others-booking", lambda w: f"s:cancel:{w.ids['other_pending']}", NOT_YOURS),
        forged("rate-others-booking", lambda w: f"rate:{w.ids['other_completed']}:5", NOT_YOURS, langs=("en", "ar")),
        forged("ask-rate-others-booking", lambda w: f"s:rate:{w.ids['other_completed']}", NOT_YOURS),
        forged("skip-feedback-others", lambda w: f"s:skip_feedback:{w.ids['other_completed']}", None),
        forged("rate-six-stars", lambda w: f"rate:{w.ids['other_completed']}:6", BAD_RATING),
        forged("rate-zero-stars", lambda w: f"rate:{w.ids['other_completed']}:0", BAD_RATING),
        forged("rate-negative-stars", lambda w: f"rate:{w.ids['other_completed']}:-1", BAD_RATING),
        forged("rate-huge-stars", lambda w: f"rate:{w.ids['other_completed']}:{big}", BAD_RATING),
        forged("rate-unknown-booking", "rate:999999:5", NOT_FOUND),
        forged("rate-huge-booking", f"rate:{big}:5", STALE),
        forged("cancel-unknown-booking", "s:cancel_yes:999999", NOT_FOUND),
        forged("cancel-huge-booking", f"s:cancel_yes:{big}", STALE),
        forged("cancel-negative-booking", "s:cancel_yes:-1", STALE),
        forged("cancel-4000-digit-booking", "s:cancel_yes:" + "9" * 4000, None),
        forged(
            "student-approves-topup", lambda w: f"at:approve:{w.ids['other_topup']}", ADMINS_ONLY, langs=("en", "ar")
        ),
        forged("student-rejects-topup", lambda w: f"at:reject:{w.ids['other_topup']}", ADMINS_ONLY),
        forged("student-confirms-booking", lambda w: f"ab:confirm:{w.ids['other_pending']}", ADMINS_ONLY),
        forged("student-admin-cancels-booking", lambda w: f"ab:cancel_yes:{w.ids['other_pending']}", ADMINS_ONLY),
        forged("student-completes-booking", lambda w: f"ab:complete:{w.ids['other_pending']}", ADMINS_ONLY),
        forged(
            "duration-cost-one-piastre",
            lambda w: f"md:{w.ids['mentor']}:30:0.01",
            PRICE_CHANGED,
            then=("first", "bk:confirm"),
        ),
        forged(
            "duration-cost-zero", lambda w: f"md:{w.ids['mentor']}:30:0", PRICE_CHANGED, then=("first", "bk:confirm")
        ),
        forged(
            "duration-seven-minutes",
            lambda w: f"md:{w.ids['mentor']}:7:150.00",
            BAD_DURATION,
            then=("first", "bk:confirm"),
        ),
        forged(
            "duration-huge-minutes",
            lambda w: f"md:{w.ids['mentor']}:{big}:150.00",
            BAD_DURATION,
            then=("first", "bk:confirm"),
        ),
        forged("duration-negative", lambda w: f"md:{w.ids['mentor']}:-30:-150", INVALID_INPUT),
        forged("duration-cost-nan", lambda w: f"md:{w.ids['mentor']}:30:NaN", INVALID_INPUT),
        forged("duration-cost-infinity", lambda w: f"md:{w.ids['mentor']}:30:Infinity", INVALID_INPUT),
        forged("duration-cost-exponent", lambda w: f"md:{w.ids['mentor']}:30:1e3", INVALID_INPUT),
        forged("duration-cost-html", lambda w: f"md:{w.ids['mentor']}:30:<b>1</b>", INVALID_INPUT),
        forged("duration-unknown-mentor", "md:999999:30:150.00", NOT_FOUND),
        forged("duration-zero", lambda w: f"md:{w.ids['mentor']}:0:0", BAD_DURATION, then=("first", "bk:confirm")),
        forged("mentor-unknown", "m:999999", NOT_FOUND),
        forged("mentor-huge", f"m:{big}", STALE),
        forged("enroll-price-one-piastre", lambda w: f"pe:{w.ids['paid']}:0.01", None, langs=("en", "ar")),
        forged("enroll-price-zero", lambda w: f"pe:{w.ids['paid']}:0", None),
        forged("enroll-price-negative", lambda w: f"pe:{w.ids['paid']}:-250", None),
        forged("enroll-price-nan", lambda w: f"pe:{w.ids['paid']}:NaN", None),
        forged("enroll-price-exponent", lambda w: f"pe:{w.ids['paid']}:2.5e2", None),
        forged("enroll-price-html", lambda w: f"pe:{w.ids['paid']}:<b>", None),
        forged("enroll-unknown-platform", "pe:999999:250.00", NOT_FOUND),
        forged("enroll-huge-platform", f"pe:{big}:250.00", STALE),
        forged("enroll-free-at-a-price", lambda w: f"pe:{w.ids['free']}:250.00", None),
        forged("renew-not-enrolled-cheap", lambda w: f"pr:{w.ids['paid']}:1.00", None),
        forged("open-unknown-platform", "p:open:999999", NOT_FOUND),
        forged("open-huge-platform", f"p:open:{big}", STALE),
        forged("tasks-not-enrolled", lambda w: f"p:tasks:{w.ids['paid']}", LOCKED),
        forged("task-open-not-enrolled", lambda w: f"t:open:{w.ids['paid_task']}", LOCKED),
        forged("task-done-not-enrolled", lambda w: f"t:done:{w.ids['paid_task']}", LOCKED),
        forged("task-unknown", "t:open:999999", NOT_FOUND),
        forged("task-huge", f"t:done:{big}", STALE),
        forged("renew-unknown", "renew:999999", NOT_FOUND),
        forged("history-negative-page", "h:-5:ALL", HISTORY),
        forged("history-huge-page", f"h:{big}:ALL", HISTORY),
        forged("history-unknown-type", "h:1:DROP TABLE users", HISTORY),
        forged("history-html-type", "h:1:<b>x</b>", HISTORY),
        forged("language-unknown", "lang:xx", STALE),
        forged("topup-confirm-without-flow", "tu:confirm", STALE),
        forged("booking-confirm-without-flow", "bk:confirm", STALE),
        forged("booking-skip-without-flow", "bk:skip", STALE),
        forged("wallet-unknown-action", "w:steal", STALE),
        forged("empty-data", "", STALE),
        forged("colon-only", ":", STALE),
        forged("many-colons", "::::::", STALE),
        forged("prefix-only", "md:", STALE),
        forged("too-few-parts", "md:1", STALE),
        forged("letters-for-ids", "at:approve:abc", STALE),
        forged("too-many-parts", "rate:1:5:9", STALE),
        forged("arabic-digit-ids", "s:cancel_yes:١٢", None),
        forged("64-bytes", "x" * 64, STALE),
        forged("1000-bytes", "y" * 1000, STALE),
        forged("html-data", "<b>s:cancel_yes:1</b>", STALE),
        forged("control-data", "s:cancel_yes:\x001", STALE),
        forged("topup-confirm-foreign-summary", "tu:confirm", STALE, where=at_topup_confirm),
        forged("booking-confirm-foreign-summary", "bk:confirm", STALE, where=at_notes),
        # admins: unknown, decided and wrong-state subjects
        forged("admin-approve-unknown", "at:approve:999999", NOT_FOUND, admin=True),
        forged("admin-approve-huge", f"at:approve:{big}", STALE, admin=True),
        forged("admin-approve-decided", lambda w: f"at:approve:{w.ids['decided_topup']}", None, admin=True),
        forged("admin-reject-decided", lambda w: f"at:reject:{w.ids['decided_topup']}", None, admin=True, then=()),
        forged("admin-confirm-cancelled", lambda w: f"ab:confirm:{w.ids['cancelled_booking']}", None, admin=True),
        forged("admin-cancel-cancelled", lambda w: f"ab:cancel_yes:{w.ids['cancelled_booking']}", None, admin=True),
        forged("admin-complete-pending", lambda w: f"ab:complete:{w.ids['other_pending']}", None, admin=True),
        forged("admin-confirm-unknown", "ab:confirm:999999", NOT_FOUND, admin=True),
        forged("admin-skip-notes-without-flow", "ab:skip_notes:1", STALE, admin=True),
        forged("admin-unknown-action", "at:steal:1", STALE, admin=True),
    ]
    return out


async def group_message(w: World, user: TgUser, ctx: dict, **content) -> None:
    chat = {"id": GROUP_ID, "type": "supergroup", "title": "<b>CS</b> students"}
    await w.runner.feed({"message": message(w.api, user, chat, **content)})


STRANGER = TgUser(9399, "<b>Stranger</b>", None, "en")


def groups_and_channels() -> list[Case]:
    out = []
    for cid, text in {
        "start": "/start",
        "topup": "/topup",
        "balance": "/balance@codehub_test_bot",
        "start-deep-link": "/start topup",
    }.items():
        for who, user in (("student", EN), ("stranger", STRANGER)):
            out.append(
                Case(
                    f"group-{who}-{cid}",
                    idle,
                    lambda w, u, ctx, t=text, x=user: group_message(w, x, ctx, text=t),
                    PRIVATE,
                    params={},
                )
            )
    for cid, content in {
        "amount": {"text": "150"},
        "html": {"text": "<b>hi</b>"},
        "sticker": MEDIA["sticker"],
        "contact": MEDIA["contact"],
    }.items():
        for who, user in (("student", EN), ("stranger", STRANGER)):
            out.append(
                Case(
                    f"group-{who}-{cid}",
                    idle,
                    lambda w, u, ctx, c=content, x=user: group_message(w, x, ctx, **c),
                    None,
                    silent=True,
                )
            )
    out.append(
        Case(
            "group-student-text-while-in-a-private-flow",
            at_amount,
            lambda w, u, ctx: group_message(w, u, ctx, text="150"),
            None,
            silent=True,
        )
    )

    async def stranger_callback(w, u, ctx, data="w:topup"):
        msg = StoredMessage(GROUP_ID, 1, "hi")
        update = w.api.callback_update(STRANGER, msg, data)
        update["callback_query"]["message"]["chat"] = {"id": GROUP_ID, "type": "supergroup", "title": "g"}
        await w.runner.feed(update)

    out.append(Case("group-stranger-button-topup", idle, stranger_callback, None))
    out.append(
        Case(
            "group-stranger-button-cancel-booking",
            idle,
            lambda w, u, ctx: stranger_callback(w, u, ctx, f"s:cancel_yes:{w.ids['other_pending']}"),
            None,
        )
    )

    async def inline_callback(w, u, ctx, data):
        update = w.api.callback_update(u, w.msg(u.id), data)
        del update["callback_query"]["message"]
        update["callback_query"]["inline_message_id"] = "AAAA"
        await w.runner.feed(update)

    for cid, data in {"balance-topup": "w:topup", "cancel-booking": "s:cancel:1", "history": "h:1:ALL"}.items():
        out.append(
            Case(f"inline-message-button-{cid}", idle, lambda w, u, ctx, d=data: inline_callback(w, u, ctx, d), None)
        )

    async def channel(w, u, ctx, text, key="channel_post"):
        post = {
            "message_id": w.api._next_message_id(-100666),
            "date": int(time.time()),
            "text": text,
            "chat": {"id": -100666, "type": "channel", "title": "<i>News</i>"},
            "sender_chat": {"id": -100666, "type": "channel", "title": "<i>News</i>"},
        }
        if key.startswith("edited"):
            post["edit_date"] = int(time.time())
        await w.runner.feed({key: post})

    for cid, text in {"start": "/start", "amount": "150", "html": "<b>x</b>", "100k": "z" * 100_000}.items():
        out.append(
            Case(f"channel-post-{cid}", idle, lambda w, u, ctx, t=text: channel(w, u, ctx, t), None, silent=True)
        )
    out.append(
        Case(
            "channel-post-edited",
            idle,
            lambda w, u, ctx: channel(w, u, ctx, "/topup", "edited_channel_post"),
            None,
            silent=True,
        )
    )

    async def anonymous_admin(w, u, ctx):
        anon = TgUser(1087968824, "Group", "GroupAnonymousBot", None)
        msg = message(w.api, anon, {"id": GROUP_ID, "type": "supergroup", "title": "g"}, text="/topup")
        msg["from"]["is_bot"] = True
        msg["sender_chat"] = {"id": GROUP_ID, "type": "supergroup", "title": "g"}
        await w.runner.feed({"message": msg})

    out.append(Case("group-anonymous-admin-command", idle, anonymous_admin, PRIVATE))

    async def added_to_group(w, u, ctx):
        await w.runner.feed(
            {
                "my_chat_member": {
                    "chat": {"id": GROUP_ID, "type": "supergroup", "title": "<b>g</b>"},
                    "from": STRANGER.as_dict(),
                    "date": int(time.time()),
                    "old_chat_member": {"status": "left", "user": w.api.bot_user},
                    "new_chat_member": {"status": "member", "user": w.api.bot_user},
                }
            }
        )

    out.append(Case("bot-added-to-a-group", idle, added_to_group, None, silent=True))
    return out


NAMES = {
    "html-bold": "<b>Bold</b>",
    "html-link": '<a href="tg://user?id=1">x</a>',
    "entities": "&lt;s&gt; &amp;",
    "brackets": "a < b > c & d",
    "markdown-v2": "*_[]()~`>#+-=|{}.!",
    "control": "\x00Mo\x07na\x1b[31m",
    "line-break": "Mo\nna",
    "rtl-override": "\u202eanoM",
    "100k": "N" * 100_000,
    "empty": "",
    "emoji": "😀" * 40,
    "zalgo": "Z̸̢͉͙a̷l̶g̸o̵",
    "telegram-tags": "</code><tg-spoiler>",
    "arabic-html": "منى <i>",
}


def booked_notes() -> list[Case]:
    """A student with a hostile name books with hostile notes: the admins' card shows both escaped, and so does
    the admin's question before cancelling; the only change is the student, their credit and the paid booking."""
    out = []
    picks = ("html-bold", "html-link", "entities", "markdown-v2", "unclosed", "lone-brackets", "arabic-html")
    for n, cid in enumerate(picks):
        notes, name = HOSTILE_TEXTS[cid], list(NAMES.values())[n]

        async def act(w, u, ctx, notes=notes, name=name, n=n):
            user = TgUser(650000 + n, name, None, "en")
            ctx["user"] = user
            await w.runner.send(user, "/start")
            await at_notes(w, user)
            await w.runner.send(user, notes)
            await w.runner.press_data(user, w.msg(user.id), "bk:confirm")
            await w.runner.deliver()
            card = w.api.message_with(ADMIN1.id, f"Notes: {notes.strip()}")
            shown = strip_controls(name)[:200].strip()
            assert shown in card.plain_text, card.plain_text
            bid = int(re.search(r"New booking #(\d+)", card.plain_text)[1])
            mark = len(w.api.calls)
            await w.runner.press_data(ADMIN1, card, f"ab:cancel:{bid}")
            [ask] = [c.text for c in w.api.calls[mark:] if c.method == "sendMessage" and c.chat_id == ADMIN1.id]
            assert f"to {shown}?" in ask, ask

        def booked(w, ctx, d):
            assert set(d) == {"users", "transactions", "bookings"}, d
            [(none, user)] = d["users"].values()
            assert none is None and user[1] == Decimal("350.00")
            kinds = sorted((new[1], new[3]) for old, new in d["transactions"].values() if old is None)
            assert kinds == [("MENTORSHIP_PAYMENT", Decimal("-150.00")), ("SIGNUP_BONUS", Decimal("500.00"))], kinds
            [(none, booking)] = d["bookings"].values()
            assert none is None and booking[3:] == (Decimal("150.00"), "PENDING")

        out.append(
            Case(
                f"booked-notes-{cid}", idle, act, None, echo=notes.strip(), echo_to=("actor", "admins"), changes=booked
            )
        )
    return out


def names() -> list[Case]:
    """A student with a hostile name registers and asks for a top-up: the welcome, the admins' card and
    /pending repeat the name, escaped; the only change is the new student, their credit and the request."""
    out = []
    for n, (cid, name) in enumerate(NAMES.items()):

        async def act(w, u, ctx, name=name, n=n):
            user = TgUser(
                600000 + n,
                name,
                "<b>user</b>" if n % 2 else None,
                "ar" if n % 3 == 0 else "en",
                last_name="<i>L</i>" if n % 4 == 0 else None,
            )
            ctx["user"] = user
            await w.runner.send(user, "/start")
            await w.runner.send(user, "/topup")
            await w.runner.send(user, "150")
            await w.runner.send(user, WALLET)
            await w.runner.press_data(user, await to_topup_summary(w, user), "tu:confirm")

        def registered(w, ctx, d, name=name):
            assert set(d) == {"users", "transactions"}, d
            assert all(old is None for old, _new in d["users"].values())
            kinds = sorted((new[1], new[2]) for old, new in d["transactions"].values() if old is None)
            assert kinds == [("SIGNUP_BONUS", "APPROVED"), ("TOP_UP", "PENDING")], kinds

        shown = strip_controls(name)[:200].strip()
        out.append(
            Case(f"name-{cid}", idle, act, None, echo=shown or None, echo_to=("actor", "admins"), changes=registered)
        )

    async def admin_named(w, u, ctx):
        tx = w.pending_topup()
        hostile = TgUser(ADMIN1.id, "<b>Amr</b> & <i>co", None, "en")
        await press(w, hostile, f"at:reject:{tx}")
        await w.runner.send(hostile, "no <transfer>")

    out.append(
        Case(
            "admin-name-html-decides",
            idle,
            admin_named,
            REASON,
            echo="<b>Amr</b> & <i>co",
            echo_to=("admins",),
            changes=reject_only,
            admin=True,
            params={"reason": "no <transfer>"},
        )
    )

    async def broadcast(w, u, ctx, text):
        with w.db.session() as s:
            broadcasts.create_broadcast(s, text, "all", actor=Actor("qa"))

    for cid, text in {
        "html": "<b>Sale</b> & <a href='x'>link</a>",
        "markdown": "*_[]()~`>#+-=|{}.!",
        "entities": "&lt;&amp;",
        "long-brackets": "<" * 3990,
    }.items():
        out.append(
            Case(
                f"broadcast-{cid}",
                idle,
                lambda w, u, ctx, t=text: broadcast(w, u, ctx, t),
                None,
                silent=True,
                echo=text,
                echo_to=("actor",),
            )
        )

    out.append(
        Case("admin-pending-lists-everything", idle, lambda w, u, ctx: send_text(w, u, "/pending"), None, admin=True)
    )
    return out


CASES = [(case, lang) for case in cases() for lang in case.langs]


def phrase(w: World, msgid: str, lang: str, params: dict) -> str:
    """The translated text, placeholders filled where the case knows them; the longest fixed part otherwise."""
    text = w.runner.i18n.gettext(msgid, locale=lang)
    try:
        if lang != "en" and any(isinstance(v, Html) for v in params.values()):
            raise KeyError("amounts read differently in Arabic")
        filled = text.format(
            **{k: v if isinstance(v, Html) else html.escape(v, quote=False) for k, v in params.items()}
        )
    except (KeyError, IndexError):
        parts = re.split(r"\{[^}]*\}", text)
        filled = max(parts, key=len)
    return plain(filled).strip()


# -- the test -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case,lang", CASES, ids=[f"{c.id}-{lang}" for c, lang in CASES])
async def test_hostile_input(world: World, case: Case, lang: str, caplog):
    w = world
    caplog.set_level("WARNING")
    if case.admin:
        sender = ADMIN1
    else:
        sender = EN if lang == "en" else AR
    ctx = await case.where(w, sender)
    await w.runner.deliver()
    before, mark = dump(w.db), len(w.api.calls)
    caplog.clear()
    try:
        await case.act(w, sender, ctx)
        await w.runner.deliver()
        after = dump(w.db)
        calls = w.api.calls[mark:]
        chat = ctx.get("user", sender).id
        replies = [
            c.text for c in calls if c.method in ("sendMessage", "editMessageText") and c.chat_id in (chat, GROUP_ID)
        ]
        alerts = [c.params.get("text") or "" for c in calls if c.method == "answerCallbackQuery"]
        heard = replies + [a for a in alerts if a]

        # Every message the bot sent parses as Telegram HTML.
        for c in calls:
            if c.method in ("sendMessage", "editMessageText") and c.params.get("parse_mode", "HTML") == "HTML":
                error = telegram_html_error(c.params.get("text", ""))
                assert error is None, f"{c.method} to {c.chat_id}: {error}"
            assert c.error is None or c.method == "editMessageText" and c.error == 400, (c.method, c.error)
        # A clear answer (or, for chatter and channel posts, none), never the apology.
        apology = phrase(w, APOLOGY, lang, {})
        assert not any(apology in t or "Error reference" in t for t in heard), heard
        if case.silent:
            assert not [
                c
                for c in calls
                if c.method in ("sendMessage", "answerCallbackQuery") and c.chat_id in (GROUP_ID, -100666, STRANGER.id)
            ], [c.text for c in calls]
        else:
            assert heard, f"no answer to {case.id}; calls: {[(c.method, c.text[:60]) for c in calls]}"
            if case.says:
                expected = phrase(w, case.says, "en" if case.admin else lang, case.params)
                assert any(expected in t for t in heard), (expected, heard)
            if case.not_says:
                refused = phrase(w, case.not_says, lang, {})
                assert not any(refused in t for t in heard), heard
            if lang == "ar" and not case.admin:
                assert all(re.search("[\u0621-\u064a]", t) for t in heard), heard
        # Hostile text repeated by the bot reads back exactly: it was escaped, not interpreted.
        if case.echo:
            for where in case.echo_to:
                chats = {
                    "sender": [sender.id],
                    "actor": [chat],
                    "payer": [ctx.get("payer")],
                    "admins": [ADMIN1.id, ADMIN2.id],
                }[where]
                texts = [c.text for c in calls if c.method in ("sendMessage", "editMessageText") and c.chat_id in chats]
                if where == "actor" and case.id.startswith("broadcast"):
                    texts = [c.text for c in calls if c.method == "sendMessage"]
                assert any(case.echo in t for t in texts), (where, case.echo[:80], [t[:200] for t in texts])
        # The money tables: unchanged, or changed exactly as the legitimate action says.
        if case.changes is None:
            assert diff(before, after) == {}
        else:
            case.changes(w, ctx, diff(before, after))
        # Nothing logged at ERROR, no traceback.
        bad = [r for r in caplog.records if r.levelno >= 40 or r.exc_info]
        assert not bad, [(r.levelname, r.getMessage()) for r in bad]
    finally:
        for user in (sender, ADMIN1):
            await w.runner.send(user, "/cancel")
        await w.runner.deliver()
