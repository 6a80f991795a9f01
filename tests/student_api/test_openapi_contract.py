"""The OpenAPI document is generated from the route declarations, and the API keeps to it: Schemathesis
sends generated requests in-process to every student endpoint (signed as a real student, with an
Idempotency-Key where one is required) and every /api/admin/* endpoint (with an owner's API token):
no 5xx, every status documented, every body matches its schema."""

from __future__ import annotations

import pytest

from core.services import api_tokens
from core.services.admins import create_admin
from core.services.common import Actor
from tests.panel.helpers import PASSWORD, csrf_from
from tests.student_api.conftest import OMAR, build_api, sign, tg_user

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
    client.post(
        "/admin/login", data={"username": "docs_owner", "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    )
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert {
        "/api/wallet/balance",
        "/api/wallet/transactions",
        "/api/wallet/topup",
        "/api/platforms",
        "/api/enrollments",
        "/api/enrollments/my",
        "/api/enrollments/check/{platform_id}",
        "/api/mentorship/info",
        "/api/mentorship/book",
        "/api/mentorship/my-bookings",
        "/api/mentorship/feedback/{booking_id}",
    } <= set(doc["paths"])
    topup = doc["components"]["schemas"]["TopupIn"]
    assert set(topup["properties"]) == {"amount", "walletNumber", "description", "transactionNumber"}
    assert doc["components"]["schemas"]["Balance"]["properties"]["balance"]["type"] == "string"
    header = [p for p in doc["paths"]["/api/wallet/topup"]["post"]["parameters"] if p["name"] == "Idempotency-Key"]
    assert header and header[0]["required"] is True
    admin_paths = {
        "/api/admin/csrf-token",
        "/api/admin/topup-requests",
        "/api/admin/topup-requests/{tx_id}",
        "/api/admin/mentorship/{booking_id}/confirm",
        "/api/admin/mentorship/settings",
        "/api/admin/analytics/financial",
        "/api/admin/analytics/engagement",
        "/api/admin/analytics/platforms",
    }
    assert admin_paths <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["adminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "chk_...",
        "description": "An admin API token (Owner → API tokens); it has its account's role",
    }
    decide = doc["paths"]["/api/admin/topup-requests/{tx_id}"]["put"]
    assert decide["security"] == [{"adminToken": []}, {"panelSession": []}] and decide["tags"] == ["admin"]
    # the admin API's 401 and 403 say what they mean for an admin, not the students' init data and blocking
    assert "API token" in decide["responses"]["401"]["description"]
    assert "role" in decide["responses"]["403"]["description"]
    assert "X-CSRFToken" in decide["responses"]["400"]["description"]
    admin_texts = " ".join(
        r["description"]
        for path, item in doc["paths"].items()
        if path.startswith("/api/admin/")
        for op in item.values()
        for r in op["responses"].values()
    )
    assert "init data" not in admin_texts and "student" not in admin_texts.lower()
    balance = doc["paths"]["/api/wallet/balance"]["get"]["responses"]
    assert "init data" in balance["401"]["description"] and "Blocked student" in balance["403"]["description"]
    history = {p["name"] for p in doc["paths"]["/api/wallet/transactions"]["get"]["parameters"]}
    assert {"page", "limit", "type", "status", "month"} <= history
    assert set(doc["components"]["schemas"]["TopupDecisionIn"]["properties"]) == {
        "status",
        "adminNotes",
        "confirm",
        "reason",
    }
    assert doc["components"]["schemas"]["FinancialOut"]["properties"]["wallet_float"]["type"] == "string"
    reference = client.get("/api-docs/reference").get_data(as_text=True).replace("<code>", "").replace("</code>", "")
    assert "GET /api/wallet/balance" in reference and "PUT /api/admin/topup-requests/{tx_id}" in reference


def _schema(contract):
    doc = contract.app.extensions["student_api_spec"].document()
    schema = schemathesis.openapi.from_dict(doc)
    schema.app = contract.app
    return schema


def test_every_endpoint_keeps_to_the_contract(contract):
    from hypothesis import HealthCheck, given, settings

    schema = _schema(contract)
    failures = []
    with contract.session() as s:
        owner = create_admin(s, "contract_owner", PASSWORD, "owner")
        secret, _info = api_tokens.create_token(s, owner.id, "contract test", actor=Actor("test"))
    student_auth = {"Authorization": "tma " + sign(tg_user(OMAR))}
    admin_auth = {"Authorization": "Bearer " + secret}
    client = contract.app.test_client()  # the credentials work: the generated requests get past auth
    assert client.get("/api/admin/analytics/financial", headers=admin_auth).status_code == 200
    assert client.get("/api/wallet/balance", headers=student_auth).status_code == 200
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        auth = admin_auth if operation.path.startswith("/api/admin/") else student_auth

        @settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
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
    assert checked >= 17 + 8
    assert not failures, "\n\n".join(failures)


def test_every_route_under_api_is_in_the_document(contract):
    """A new /api/ route without its OpenAPI declaration fails here (the document comes from the code)."""
    import re

    doc = contract.app.extensions["student_api_spec"].document()
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for rule in contract.app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("api", "student_api"):
            path = re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented
