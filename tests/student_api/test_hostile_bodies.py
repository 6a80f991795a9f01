"""Every JSON endpoint against hostile bodies, on SQLite and PostgreSQL (issue 20, #5 to #8).

Each endpoint is taken from the app's url_map (a new one is covered by itself) and called with valid credentials:
init data for the students' API, an owner's token for /api/admin, the secret for the SMS webhook. Deep nesting,
an oversized body, 400-digit numbers and huge exponents must each get a 4xx with the usual envelope, change no
money and log no error; the ledger check holds after all of them.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
from sqlalchemy import func, select

from core.models import AdminRole, Transaction, Transfer, User
from core.services import admins, api_tokens, wallet
from core.services.common import Actor
from tests.student_api.conftest import OTHER_TOKEN, TOKEN, build_api, sign, tg_user  # noqa: F401

SMS_SECRET = "hostile-sms-secret-0123456789"
PASSWORD = "correct horse battery staple 42"
STUDENT = 558000001
LITERALS = {"400-digit": "9" * 400, "1e999999999999999999": "1e999999999999999999", "1e100000000": "1e100000000"}
FIELDS = (
    "amount",
    "walletNumber",
    "platformId",
    "mentorId",
    "duration",
    "rating",
    "hourlyRate",
    "status",
    "expectedPrice",
    "expectedCost",
    "sessionDate",
    "from",
    "text",
)


def deep_objects(n: int = 20_000) -> bytes:
    return ('{"a":' * n + "1" + "}" * n).encode()


def deep_arrays(n: int = 100_000) -> bytes:
    return ("[" * n + "]" * n).encode()


def too_large() -> bytes:
    return json.dumps({"text": "x" * (1024 * 1024 + 16)}).encode()


def number_everywhere(literal: str, *, quoted: bool) -> bytes:
    value = f'"{literal}"' if quoted else literal
    return ("{" + ", ".join(f'"{f}": {value}' for f in FIELDS) + "}").encode()


BODIES = {
    "20k nested objects": deep_objects,
    "100k nested arrays": deep_arrays,
    "over 1 MiB": too_large,
    **{f"{name} number": (lambda lit=lit: number_everywhere(lit, quoted=False)) for name, lit in LITERALS.items()},
    **{f"{name} string": (lambda lit=lit: number_everywhere(lit, quoted=True)) for name, lit in LITERALS.items()},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def web(request, tmp_path):
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    api = build_api(url, tmp_path, sms_webhook_secret=SMS_SECRET)
    api.app.extensions["student_limiter"].enabled = False
    with api.session() as s:
        owner = admins.create_admin(s, "hostile_owner", PASSWORD, AdminRole.OWNER)
        secret, _ = api_tokens.create_token(s, owner.id, "probe", actor=Actor("qa"))
    api.admin_token = secret
    api.as_student(STUDENT).get("/api/me")
    yield api
    api.db.dispose()


def json_endpoints(app) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH"}):
            if rule.rule.startswith("/api/"):
                found.append((method, re.sub(r"<[^>]+>", "1", rule.rule)))
    return sorted(found)


def headers_for(api, path: str) -> dict:
    if path.startswith("/api/admin/"):
        return {"Authorization": f"Bearer {api.admin_token}"}
    if path == "/api/sms/webhook":
        return {"Authorization": f"Bearer {SMS_SECRET}"}
    return {"Authorization": "tma " + sign(tg_user(STUDENT, "ar")), "Idempotency-Key": "hostile-key-0001"}


def money(api) -> tuple:
    with api.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Transaction)),
            s.scalar(select(func.sum(User.balance))),
            s.scalar(select(func.count()).select_from(Transfer)),
        )


def test_every_json_endpoint_is_covered(web):
    endpoints = json_endpoints(web.app)
    assert ("POST", "/api/wallet/topup") in endpoints and ("PUT", "/api/admin/topup-requests/1") in endpoints
    assert ("POST", "/api/sms/webhook") in endpoints and len(endpoints) >= 10


@pytest.mark.parametrize("case", list(BODIES))
def test_a_hostile_body_gets_a_4xx_envelope_and_changes_nothing(web, case, caplog):
    before = money(web)
    body = BODIES[case]()
    client = web.app.test_client()
    with caplog.at_level(logging.ERROR):
        for method, path in json_endpoints(web.app):
            r = client.open(
                path, method=method, data=body, headers={**headers_for(web, path), "Content-Type": "application/json"}
            )
            answer = r.get_json(silent=True)
            if path == "/api/sms/webhook" and r.status_code == 200:  # the forwarder's plain refusal
                assert answer == {"stored": False, "ignored": "SENDER"}, answer
                continue
            assert 400 <= r.status_code < 500, (method, path, r.status_code, r.get_data(as_text=True)[:300])
            assert answer and answer["error"]["code"] and answer["error"]["message"], (method, path, r.data[:300])
            assert "Traceback" not in r.get_data(as_text=True)
    assert [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR] == []
    assert money(web) == before
    with web.session() as s:
        assert wallet.check_ledger(s) == []


@pytest.mark.parametrize("user_id", [2**63, 2**63 - 1 + 2**10, 2**64, 0, -5])
def test_signed_init_data_with_an_impossible_user_id_is_refused(web, user_id, caplog):
    before = money(web)
    client = web.app.test_client()
    with caplog.at_level(logging.ERROR):
        r = client.get("/api/me", headers={"Authorization": "tma " + sign(tg_user(user_id))})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "AUTH_FAILED"
    assert [rec for rec in caplog.records if rec.levelno >= logging.ERROR] == []
    assert money(web) == before


@pytest.mark.parametrize("amount", ["1e999999999999999999", "1e100000000", "9" * 400, "1" + "0" * 30])
def test_a_hostile_top_up_amount_is_a_clear_refusal(web, amount):
    before = money(web)
    student = web.as_student(STUDENT, "ar")
    for body in (
        f'{{"amount": "{amount}", "walletNumber": "01012345678"}}',
        f'{{"amount": {amount}, "walletNumber": "01012345678"}}',
    ):
        r = student.client.post(
            "/api/wallet/topup",
            data=body,
            headers={**student.headers("amount-key-0001"), "Content-Type": "application/json"},
        )
        assert r.status_code in (400, 422), (body[:60], r.status_code, r.get_json())
        message = r.get_json()["error"]["message"]
        assert message and "Traceback" not in message
    assert money(web) == before


def sms(amount: str, ref: str = "022799990077") -> str:
    return (
        f"تم استلام مبلغ {amount} جنيه من رقم 01012345678 المسجل باسم Probe على رقم محفظتك 01099998888.\n"
        f"رصيدك الحالي: {amount} جنيه.\nرقم العملية: {ref}"
    )


@pytest.mark.parametrize("amount", ["1" + "0" * 30, "9" * 400, "1,000,000,000,000.00"])
def test_an_sms_with_an_impossible_amount_is_kept_out_and_said(web, amount, caplog):
    before = money(web)
    client = web.app.test_client()
    with caplog.at_level(logging.WARNING):
        r = client.post(
            "/api/sms/webhook",
            json={"from": "VF-Cash", "text": sms(amount)},
            headers=headers_for(web, "/api/sms/webhook"),
        )
    assert r.status_code == 200 and r.get_json()["problem"] == "AMOUNT_TOO_LARGE" and not r.get_json()["stored"]
    assert [rec for rec in caplog.records if rec.levelno >= logging.ERROR] == []
    assert any("AMOUNT_TOO_LARGE" in rec.getMessage() for rec in caplog.records)  # in the log for the admins
    assert money(web) == before


def test_an_sms_above_the_top_up_maximum_is_stored_for_the_admins_but_settles_nothing(web):
    client = web.app.test_client()
    r = client.post(
        "/api/sms/webhook",
        json={"from": "VF-Cash", "text": sms("60,000.00", "022799990078")},
        headers=headers_for(web, "/api/sms/webhook"),
    )
    assert r.status_code == 200 and r.get_json()["stored"] and r.get_json()["settled_request"] is None
    with web.session() as s:
        assert s.scalar(select(Transfer.amount).where(Transfer.reference == "022799990078")) == 60000


@pytest.mark.parametrize(
    "sender",
    [
        "VF-Caſh",
        "V-F-C-A-S-H",
        "VF-\tCash",
        "VF-Cash\n",
        "VF-\nCash",
        "ＶＦ-Cash",
        "VF\u200b-Cash",
        "VFCash",
        "VF Cash",
    ],
)
def test_look_alike_sender_ids_are_refused(web, sender):
    before = money(web)
    r = web.app.test_client().post(
        "/api/sms/webhook",
        json={"from": sender, "text": sms("100.00", "022799990079")},
        headers=headers_for(web, "/api/sms/webhook"),
    )
    assert r.status_code == 200 and r.get_json() == {"stored": False, "ignored": "SENDER"}
    assert money(web) == before


@pytest.mark.parametrize("sender", ["VF-Cash", "vf-cash", "  VF-CASH  "])
def test_the_wallet_sender_id_is_compared_after_one_normalisation(web, sender):
    r = web.app.test_client().post(
        "/api/sms/webhook",
        json={"from": sender, "text": sms("100.00", "022799990080")},
        headers=headers_for(web, "/api/sms/webhook"),
    )
    assert r.status_code == 200 and r.get_json()["stored"]
