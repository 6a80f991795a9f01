"""OpenAPI 3 from the code: each route of the two JSON APIs (the students' and the admins'; not the webhooks)
is declared once with pydantic models, which both validate its query and body and describe them;
/api/openapi.json is built from those declarations.

(spectree does the same but answers validation errors in its own shape and serves its doc pages
from a CDN; this keeps our error body {"error": {code, message}} and works offline.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

MAX_ID = 2_147_483_647
REF = "#/components/schemas/{model}"


class Camel(BaseModel):
    """Responses: snake_case in Python, the seed's camelCase in JSON."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def dump(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


class CamelIn(Camel):
    """Requests: unknown fields are refused, so the schema and the validation agree."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class BodyIn(CamelIn):
    """JSON bodies are strict: "5" is not a number, 1 is not true (exactly what the schema says)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", strict=True)


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


ERROR_TEXT = {  # the students' API; the admin API says its own (admin_api.routes.ADMIN_ERROR_TEXT)
    400: "Bad input or missing Idempotency-Key",
    401: "Missing, wrongly signed or stale init data",
    403: "Blocked student, or not allowed",
    404: "Not found (or not yours)",
    409: "Conflict with the current state (insufficient funds, already done, in flight)",
    422: "Idempotency-Key reused with a different request",
    429: "Rate limit or business limit reached",
}


@dataclass
class Operation:
    method: str
    path: str  # OpenAPI form: /api/x/{id}
    summary: str
    tag: str
    response: type[BaseModel] | None
    status: int = 200
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    path_params: tuple[str, ...] = ()
    idempotent: bool = False
    errors: tuple[int, ...] = (400, 401, 403, 404, 429)
    security: str | tuple[str, ...] | None = "tma"  # a tuple: any one of these schemes
    description: str = ""
    error_text: dict[int, str] = field(default_factory=dict)  # what a status means here, over ERROR_TEXT's


@dataclass
class ApiSpec:
    title: str
    version: str
    description: str
    operations: list[Operation] = field(default_factory=list)
    security_schemes: dict = field(default_factory=dict)

    def add(self, op: Operation) -> Operation:
        self.operations.append(op)
        return op

    def document(self) -> dict:
        schemas: dict = {}

        def ref(model: type[BaseModel], mode: str) -> dict:
            schema = model.model_json_schema(by_alias=True, ref_template=REF, mode=mode)
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
            return {"$ref": REF.format(model=model.__name__)}

        paths: dict = {}
        error_ref = ref(ErrorBody, "serialization")
        for op in self.operations:
            params = [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                }
                for name in op.path_params
            ]
            if op.query is not None:
                query_schema = op.query.model_json_schema(by_alias=True, ref_template=REF)
                required = set(query_schema.get("required", []))
                for name, prop in query_schema.get("properties", {}).items():
                    params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
            if op.idempotent:
                params.append(
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": True,
                        "description": "A new UUID per action; a retry with the same key replays the "
                        "first response. Stored for 30 days.",
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,100}$"},
                    }
                )
            responses = {
                str(op.status): {
                    "description": "OK",
                    "content": {"application/json": {"schema": ref(op.response, "serialization")}},
                }
                if op.response
                else {"description": "OK"}
            }
            codes = (
                set(op.errors)
                | ({400, 409, 422} if op.idempotent else set())
                | ({400} if op.body or op.query else set())
            )
            for status in sorted(codes):
                responses[str(status)] = {
                    "description": op.error_text.get(status) or ERROR_TEXT.get(status, "Error"),
                    "content": {"application/json": {"schema": error_ref}},
                }
            entry = {
                "summary": op.summary,
                "tags": [op.tag],
                "operationId": f"{op.method.lower()}_{op.tag}_"
                + op.path.strip("/").replace("/", "_").replace("{", "").replace("}", "").replace("-", "_"),
                "parameters": params,
                "responses": responses,
            }
            if op.description:
                entry["description"] = op.description
            if op.body is not None:
                entry["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ref(op.body, "validation")}},
                }
            schemes = (op.security,) if isinstance(op.security, str) else (op.security or ())
            entry["security"] = [{scheme: []} for scheme in schemes]
            paths.setdefault(op.path, {})[op.method.lower()] = entry
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": self.version, "description": self.description},
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": self.security_schemes},
        }
