"""Wallet endpoints: balance, paged history with receipts, top-up requests (seed field names, money as strings)."""
from __future__ import annotations

from core.models import Transaction, TransactionStatus, TransactionType
from tests.api.conftest import MARIAM, OMAR


def test_balance_and_history_pages(api, omar):
    assert omar.get("/api/wallet/balance").get_json() == {"balance": "100.00", "currency": "EGP"}
    first = omar.get("/api/wallet/transactions?page=1&limit=2").get_json()
    assert first["pagination"] == {"page": 1, "limit": 2, "total": 4, "pages": 2}
    assert [t["type"] for t in first["transactions"]] == ["MENTORSHIP_PAYMENT", "TOP_UP"]
    tx = first["transactions"][0]
    assert tx["amount"] == "-300.00" and tx["balanceAfter"] == "100.00" and tx["status"] == "APPROVED"
    assert set(tx) >= {"id", "type", "amount", "description", "status", "walletNumber", "createdAt"}
    second = omar.get("/api/wallet/transactions?page=2&limit=2").get_json()
    assert [t["type"] for t in second["transactions"]] == ["PLATFORM_PURCHASE", "SIGNUP_BONUS"]
    assert omar.get("/api/wallet/transactions?page=9&limit=2").get_json()["transactions"] == []


def test_bad_paging_is_400_not_500(api, omar):
    for query in ("page=0", "limit=51", "page=abc", "limit=-1"):
        r = omar.get(f"/api/wallet/transactions?{query}")
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "INVALID_INPUT", query


def test_receipt_of_my_transaction_but_not_of_anothers(api, omar, mariam):
    mine = omar.get("/api/wallet/transactions").get_json()["transactions"][1]
    r = omar.get(f"/api/wallet/transactions/{mine['id']}")
    assert r.status_code == 200 and r.get_json()["walletNumber"] == "010****5678"
    assert r.get_json()["decidedAt"] is not None
    r = mariam.get(f"/api/wallet/transactions/{mine['id']}")
    assert r.status_code == 404 and r.get_json()["error"]["message"] == "غير موجود."


def test_topup_request_is_pending_and_shown(api, omar):
    info = omar.get("/api/wallet/topup-info").get_json()
    assert info["walletNumber"] == "01099998888" and info["pending"] == []
    r = omar.post("/api/wallet/topup", {"amount": "150.50", "walletNumber": "010 1234 5678",
                                        "description": "From my brother's phone"})
    assert r.status_code == 201, r.text
    body = r.get_json()
    assert body["amount"] == "150.50" and body["status"] == "PENDING" and body["walletNumber"] == "010****5678"
    assert body["balance"] == "100.00"  # nothing credited before an admin approves
    pending = omar.get("/api/wallet/topup-info").get_json()["pending"]
    assert [(p["id"], p["description"]) for p in pending] == [(body["id"], "From my brother's phone")]
    assert api.rows(OMAR, Transaction.type == TransactionType.TOP_UP,
                    Transaction.status == TransactionStatus.PENDING) == 1


def test_json_numbers_are_read_exactly(api, omar):
    r = omar.client.post("/api/wallet/topup", data='{"amount": 150.10, "walletNumber": "01012345678"}',
                         headers=omar.headers("exact-number-1", **{"Content-Type": "application/json"}))
    assert r.status_code == 201 and r.get_json()["amount"] == "150.10"
    r = omar.client.post("/api/wallet/topup", data='{"amount": 1.005, "walletNumber": "01012345678"}',
                         headers=omar.headers("exact-number-2", **{"Content-Type": "application/json"}))
    assert r.status_code == 400 and r.get_json()["error"]["reason"] == "TOO_MANY_DECIMALS"


def test_bad_topups_are_explained_in_english_and_arabic(api, omar, mariam):
    cases = [({"amount": "0", "walletNumber": "01012345678"}, "INVALID_AMOUNT", "more than zero", "أكبر من صفر"),
             ({"amount": "5", "walletNumber": "01012345678"}, "INVALID_AMOUNT", "minimum top-up is 10.00",
              "أقل مبلغ للشحن هو 10.00"),
             ({"amount": "100", "walletNumber": "0101234"}, "INVALID_WALLET_NUMBER", "Vodafone Cash", "فودافون كاش"),
             ({"amount": True, "walletNumber": "01012345678"}, "INVALID_INPUT", "check what you entered", "راجع"),
             ({"amount": "100"}, "INVALID_INPUT", "check", "راجع"),
             ({"amount": "100", "walletNumber": "01012345678", "extra": 1}, "INVALID_INPUT", "check", "راجع")]
    for body, code, english, arabic in cases:
        for student, words in ((omar, english), (mariam, arabic)):
            r = student.post("/api/wallet/topup", body)
            assert r.status_code == 400, (body, r.text)
            error = r.get_json()["error"]
            assert error["code"] == code and words in error["message"], (body, error)
    assert api.rows(OMAR, Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.PENDING) == 0


def test_not_json_is_400(api, omar):
    for data in ("", "nope", "[1, 2]", '{"amount": NaN, "walletNumber": "01012345678"}'):
        r = omar.client.post("/api/wallet/topup", data=data,
                             headers=omar.headers("not-json-key", **{"Content-Type": "application/json"}))
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "INVALID_INPUT", data


def test_topup_limits_come_from_the_service(api, mariam):
    for _ in range(3):
        assert mariam.post("/api/wallet/topup", {"amount": "20", "walletNumber": "01012345678"}).status_code == 201
    r = mariam.post("/api/wallet/topup", {"amount": "20", "walletNumber": "01012345678"})
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "TOO_MANY_PENDING_TOPUPS"
    assert "3" in r.get_json()["error"]["message"] and api.rows(MARIAM, Transaction.type == TransactionType.TOP_UP) == 3
