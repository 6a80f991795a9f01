"""Student API fixtures: the panel's app with the tests' school (tests/factories.py), and clients that sign
Telegram init data."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from admin_panel import create_app
from core.models import Transaction, User
from core.services import wallet
from tests.factories import STUDENTS, seed_school
from tests.helpers import make_settings

TOKEN = "123456789:TEST-api-token-abcdefghijklmnopqrstuvwxyz"
OTHER_TOKEN = "987654321:ANOTHER-bot-token-abcdefghijklmnopqrstu"
MARIAM, OMAR = STUDENTS[0][0], STUDENTS[1][0]  # the tests' school's students' Telegram ids (ar, en)


def sign(user: dict | None, *, token: str = TOKEN, auth_date: int | None = None, **extra) -> str:
    """Init data as Telegram builds it: sorted k=v lines, HMAC keyed by HMAC("WebAppData", token)."""
    fields = {"auth_date": str(int(time.time()) if auth_date is None else auth_date), **extra}
    if user is not None:
        fields["user"] = json.dumps(user, separators=(",", ":"), ensure_ascii=False)
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def tg_user(telegram_id: int, language: str = "en", first_name: str = "Test", **extra) -> dict:
    return {"id": telegram_id, "first_name": first_name, "language_code": language, **extra}


@dataclass
class Student:
    """A test client speaking as one Telegram user."""

    client: object
    telegram_id: int
    language: str = "en"

    def headers(self, key: str | None = None, **extra) -> dict:
        h = {"Authorization": "tma " + sign(tg_user(self.telegram_id, self.language))}
        if key:
            h["Idempotency-Key"] = key
        return {**h, **extra}

    def get(self, path: str, **kw):
        return self.client.get(path, headers=self.headers(), **kw)

    def post(self, path: str, json=None, key: str | None = "auto", **kw):
        if key == "auto":
            key = str(uuid.uuid4())
        return self.client.post(path, json=json, headers=self.headers(key), **kw)


@dataclass
class Api:
    app: object
    db: object

    def as_student(self, telegram_id: int, language: str = "en") -> Student:
        return Student(self.app.test_client(), telegram_id, language)

    def session(self):
        return self.db.sessions()

    def user_id(self, telegram_id: int) -> int:
        with self.session() as s:
            return s.scalar(select(User.id).where(User.telegram_id == telegram_id))

    def balance(self, telegram_id: int):
        with self.session() as s:
            return wallet.balance(s, self.user_id(telegram_id))

    def rows(self, telegram_id: int, *where) -> int:
        with self.session() as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(Transaction)
                    .where(Transaction.user_id == self.user_id(telegram_id), *where)
                )
                or 0
            )

    def ledger_ok(self) -> bool:
        with self.session() as s:
            return wallet.check_ledger(s) == []


def build_api(url: str, tmp_path, **overrides) -> Api:
    app = create_app(make_settings(url, tmp_path, bot_token=TOKEN, **overrides))
    app.config["TESTING"] = True
    db = app.extensions["codehub"].db
    with db.sessions() as s:
        seed_school(s)
    return Api(app, db)


@pytest.fixture
def api(sqlite_url, tmp_path):
    a = build_api(sqlite_url, tmp_path)
    a.app.extensions["student_limiter"].enabled = False  # tests/student_api/test_rate_limits.py turns it on
    yield a
    a.db.dispose()


@pytest.fixture
def omar(api) -> Student:
    return api.as_student(OMAR, "en")


@pytest.fixture
def mariam(api) -> Student:
    return api.as_student(MARIAM, "ar")


NEWCOMER = 555000222


@pytest.fixture
def newcomer(api) -> Student:
    """A Telegram user the bot has never seen (registered by the first call, 500.00 welcome credit), in Arabic."""
    return api.as_student(NEWCOMER, "ar")
