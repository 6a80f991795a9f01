"""Every request is Telegram's signed init data: wrong, stale, future, user-less or absent gives 401."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from core.models import Transaction, TransactionType, User
from core.services import students
from core.services.common import Actor
from tests.student_api.conftest import OMAR, OTHER_TOKEN, TOKEN, sign, tg_user


def call(api, init_data: str | None, path: str = "/api/wallet/balance", scheme: str = "tma", **headers):
    if init_data is not None:
        headers["Authorization"] = f"{scheme} {init_data}"
    return api.app.test_client().get(path, headers=headers)


def test_signed_init_data_is_accepted_and_sets_no_cookie(api):
    r = call(api, sign(tg_user(OMAR)))
    assert r.status_code == 200 and r.get_json() == {"balance": "100.00", "currency": "EGP"}
    assert "Set-Cookie" not in r.headers


@pytest.mark.parametrize(
    "case",
    [
        "no header",
        "other scheme",
        "other bot's token",
        "tampered",
        "no hash",
        "not init data",
        "no user",
        "future",
        "bot user",
    ],
)
def test_bad_init_data_is_401(api, case):
    good = sign(tg_user(OMAR))
    init, scheme = {
        "no header": (None, "tma"),
        "other scheme": (good, "Bearer"),
        "other bot's token": (sign(tg_user(OMAR), token=OTHER_TOKEN), "tma"),
        "tampered": (good.replace("900000002", "900000001"), "tma"),
        "no hash": ("&".join(p for p in good.split("&") if not p.startswith("hash=")), "tma"),
        "not init data": ("hello", "tma"),
        "no user": (sign(None), "tma"),
        "future": (sign(tg_user(OMAR), auth_date=int(time.time()) + 3600), "tma"),
        "bot user": (sign(tg_user(OMAR, is_bot=True)), "tma"),
    }[case]
    r = call(api, init, scheme=scheme)
    assert r.status_code == 401, r.text
    assert r.get_json()["error"]["code"] == "AUTH_FAILED"


def test_stale_auth_date_is_401_with_a_reason_in_the_callers_language(api):
    old = int(time.time()) - 24 * 3600 - 60
    r = call(api, sign(tg_user(OMAR), auth_date=old), **{"Accept-Language": "ar"})
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "AUTH_EXPIRED"
    assert "انتهت صلاحية" in r.get_json()["error"]["message"]
    assert call(api, sign(tg_user(OMAR), auth_date=int(time.time()) - 23 * 3600)).status_code == 200


def test_no_bot_token_configured_refuses_everyone(api):
    api.app.extensions["codehub"].settings.bot_token = None
    assert call(api, sign(tg_user(OMAR))).status_code == 401


def test_an_unknown_telegram_user_is_registered_like_start(api):
    r = call(api, sign(tg_user(555000111, "ar", "Hana", last_name="Samir", username="hana_s")), "/api/me")
    assert r.status_code == 200
    me = r.get_json()
    assert me["fullName"] == "Hana Samir" and me["language"] == "ar" and me["balance"] == "500.00"
    with api.session() as s:
        user = s.scalar(select(User).where(User.telegram_id == 555000111))
        rows = s.scalars(select(Transaction).where(Transaction.user_id == user.id)).all()
    assert [(t.type, t.amount) for t in rows] == [(TransactionType.SIGNUP_BONUS, me and rows[0].amount)]
    assert str(rows[0].amount) == "500.00"
    call(api, sign(tg_user(555000111, "ar", "Hana")), "/api/me")  # a second visit: no second bonus
    with api.session() as s:
        assert len(s.scalars(select(Transaction).where(Transaction.user_id == user.id)).all()) == 1


def test_a_blocked_student_gets_403_in_their_language(api):
    with api.session() as s:
        user_id = s.scalar(select(User.id).where(User.telegram_id == OMAR))
        students.set_blocked(s, user_id, True, actor=Actor("test"))
    r = call(api, sign(tg_user(OMAR)))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "USER_BLOCKED"
    assert "blocked" in r.get_json()["error"]["message"]


def test_the_token_is_the_bots_own(api):
    assert api.app.extensions["codehub"].settings.bot_token.get_secret_value() == TOKEN
