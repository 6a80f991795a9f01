"""The OpenAPI document is generated from the route declarations, and the API keeps to it: Schemathesis
sends generated requests in-process to every student endpoint (signed as a real student, with an
Idempotency-Key where one is required): no 5xx, every status documented, every body matches its schema."""
from __future__ import annotations

import pytest

from tests.api.conftest import OMAR, build_api, sign, tg_user
from tests.admin.helpers import PASSWORD, csrf_from
from core.services.admins import create_admin

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402


@pytest.fixture(scope="module")
def contract(sqlite_template, tmp_path_factory):
    import shutil
    folder = tmp_path_factory.mktemp("contract")
    shutil.copy(sqlite_template, folder / "codehub.db")
    api = build_api(f"sqlite:///{folder / 'codehub.db'}", folder)
    api.app.extensions["student_limiter"].enabled = False
    yield api
    api.db.dispose()


def test_openapi_document_is_served_to_admins(contract):
    with contract.session() as s:
        create_admin(s, "docs_owner", PASSWORD, "owner")
    client = contract.app.test_client()
    page = client.get("/admin/login")
    client.post("/admin/login", data={"username": "docs_owner", "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert {"/api/wallet/balance", "/api/wallet/transactions", "/api/wallet/topup", "/api/platforms",
            "/api/enrollments", "/api/enrollments/my", "/api/enrollments/check/{platform_id}",
            "/api/mentorship/info", "/api/mentorship/book", "/api/mentorship/my-bookings",
            "/api/mentorship/feedback/{booking_id}"} <= set(doc["paths"])
    topup = doc["components"]["schemas"]["TopupIn"]
    assert set(topup["properties"]) == {"amount", "walletNumber", "description", "transactionNumber"}
    assert doc["components"]["schemas"]["Balance"]["properties"]["balance"]["type"] == "string"
    header = [p for p in doc["paths"]["/api/wallet/topup"]["post"]["parameters"] if p["name"] == "Idempotency-Key"]
    assert header and header[0]["required"] is True
    assert "GET /api/wallet/balance" in client.get("/api-docs").get_data(as_text=True).replace("<code>", "").replace("</code>", "")


def _schema(contract):
    doc = contract.app.extensions["student_api_spec"].document()
    schema = schemathesis.openapi.from_dict(doc)
    schema.app = contract.app
    return schema


def test_every_endpoint_keeps_to_the_contract(contract):
    from hypothesis import HealthCheck, given, settings
    schema = _schema(contract)
    failures = []
    auth = {"Authorization": "tma " + sign(tg_user(OMAR))}
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=25, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            headers = {**(case.headers or {}), **auth}
            # business rules (an Egyptian mobile number, a minimum amount) refuse some schema-valid input
            # with 400 by design, so "positive data acceptance" is not a contract here; all else is
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:1500])
        checked += 1
    assert checked >= 17
    assert not failures, "\n\n".join(failures)
