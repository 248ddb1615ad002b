"""/openapi.json (OpenAPI 3.1), built from the table of operations in `api.operations`.

Bodies and responses are the declared pydantic models (`core.generate_input`, `api.bodies`,
`api.responses`); errors share one schema and one example per status; every keyed
operation documents the rate-limit headers. Adding an operation is one entry in
`api.operations.OPERATIONS` (a test fails while an API route has none).
"""

from __future__ import annotations

import re
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.operations import ERROR_EXAMPLES, OPERATIONS, Operation
from api.responses import RESPONSES

_MODE: Literal["validation"] = "validation"
_REF = "#/components/schemas/{model}"
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "stable, snake_case"},
                "message": {"type": "string", "description": "a sentence for a person"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}
_RATE_HEADERS = {
    "X-RateLimit-Limit": "requests per second allowed to this key (or client, without one)",
    "X-RateLimit-Remaining": "requests left in the bucket now",
    "X-RateLimit-Reset": "seconds until the bucket is full again",
    "X-Request-Id": "the request's id: the client's X-Request-Id if sane, else a new one",
}
_DESCRIPTION = (
    "Branded static and dynamic QR codes with scan analytics and signed webhooks.\n\n"
    "Every call carries `Authorization: Bearer KEY` or `X-API-Key: KEY` (create keys with "
    "`qrmint keys create`). Every response carries the `X-RateLimit-*` headers; errors are "
    '`{"error": {"code", "message", "details"?}}`. The same operations exist in GraphQL at '
    "`/graphql` (GraphiQL in a browser), with the same error codes as `extensions.code`."
)
_PARAM = re.compile(r"{(\w+)}")


@cache
def openapi_document() -> dict[str, Any]:
    models = sorted(
        {model for op in OPERATIONS for model in (op.body, op.response) if model} | set(RESPONSES),
        key=lambda model: model.__name__,
    )
    _, schemas = models_json_schema(
        [(model, _MODE) for model in models], ref_template=_REF, by_alias=True
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "qrmint", "version": _version(), "description": _DESCRIPTION},
        "tags": [{"name": tag} for tag in dict.fromkeys(op.tag for op in OPERATIONS)],
        "components": {
            "schemas": {**schemas.get("$defs", {}), "Error": _ERROR_SCHEMA},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API key"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
            "headers": {name: _header(text) for name, text in _RATE_HEADERS.items()},
        },
        "security": [{"bearer": []}, {"apiKey": []}],
        "paths": paths,
    }


def _version() -> str:
    try:
        return version("qrmint")
    except PackageNotFoundError:
        return "0"


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


def _operation(op: Operation) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": {str(op.ok): _success(op), **_errors(op)},
    }
    if op.description:
        spec["description"] = op.description
    parameters = _parameters(op)
    if parameters:
        spec["parameters"] = parameters
    if op.body is not None:
        spec["requestBody"] = _request_body(op)
    if op.open:
        spec["security"] = []
    return spec


def _parameters(op: Operation) -> list[dict[str, Any]]:
    found = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(op.path)
    ]
    for query in op.query:
        schema: dict[str, Any] = {"type": "string"}
        if query.format:
            schema["format"] = query.format
        found.append(
            {
                "name": query.name,
                "in": "query",
                "required": False,
                "description": query.description,
                "schema": schema,
            }
        )
    return found


def _request_body(op: Operation) -> dict[str, Any]:
    assert op.body is not None
    content: dict[str, Any] = {"schema": _ref(op.body)}
    if op.request_examples:
        content["examples"] = {
            name: {"summary": name, "value": value} for name, value in op.request_examples.items()
        }
    return {"required": True, "content": {"application/json": content}}


def _success(op: Operation) -> dict[str, Any]:
    found: dict[str, Any] = {"description": op.ok_description, "headers": _headers()}
    if op.response is None and op.media_type == "application/json":
        return found  # 204: no body
    content: dict[str, Any] = {"schema": _ref(op.response) if op.response else {"type": "string"}}
    if op.response_example is not None:
        content["example"] = op.response_example
    found["content"] = {op.media_type: content}
    return found


def _errors(op: Operation) -> dict[str, Any]:
    statuses = sorted({*op.errors, 429, *(() if op.open else (401,))})
    if op.body is not None:
        statuses = sorted({*statuses, 400, 413, 422})
    found = {}
    for status in statuses:
        code, message = ERROR_EXAMPLES[status]
        example = {"error": {"code": code, "message": message}}
        content = {"schema": {"$ref": "#/components/schemas/Error"}, "example": example}
        found[str(status)] = {
            "description": code,
            "headers": _headers(),
            "content": {"application/json": content},
        }
    return found


def _headers() -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in _RATE_HEADERS}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}
