"""Requests refused before any operation runs: client errors in the GraphQL shape, never 500."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.schema.conftest import Gql

SUBSCRIPTION = 'subscription { scanCount(qrId: "qr_x") { totalScans } }'


async def _post(gql: Gql, body: bytes, **headers: str) -> tuple[int, dict[str, Any]]:
    key = await gql.key()
    sent = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **headers}
    response = await gql.client.post("/graphql", content=body, headers=sent)
    assert response.headers["content-type"] == "application/json", response.text
    return response.status_code, response.json()


def _code(body: dict[str, Any]) -> str:
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"]
    code: str = error["extensions"]["code"]
    return code


@pytest.mark.parametrize(
    "body",
    [
        b"{nope",
        b"",
        b"\xff\xfe",
        b'"a string"',
        b"[]",
        b'[{"query": "{ me { tier } }"}]',
        b'{"query": "{ me { tier } }", "variables": ' + b'{"a":' * 5000 + b"1" + b"}" * 5001,
        b'{"query": "{ me { tier } }", "variables": {"x": ' + b"[" * 40 + b"]" * 40 + b"}}",
    ],
    ids=["broken", "empty", "not-utf8", "string", "list", "batch", "deep-variables", "deep-list"],
)
async def test_malformed_or_too_deep_json_is_400_malformed_json(gql: Gql, body: bytes) -> None:
    status, answer = await _post(gql, body)
    assert (status, _code(answer)) == (400, "malformed_json")


async def test_wrong_content_type_is_malformed_json(gql: Gql) -> None:
    body = b'{"query": "{ me { tier } }"}'
    status, answer = await _post(gql, body, **{"Content-Type": "text/plain"})
    assert (status, _code(answer)) == (400, "malformed_json")


@pytest.mark.parametrize("accept", ["application/json", "multipart/mixed;subscriptionSpec=1.0"])
async def test_a_subscription_over_http_points_to_websocket(gql: Gql, accept: str) -> None:
    status, answer = await _post(gql, json.dumps({"query": SUBSCRIPTION}).encode(), Accept=accept)
    assert (status, _code(answer)) == (400, "websocket_required")
    assert "graphql-transport-ws" in answer["errors"][0]["message"]


async def test_get_runs_nothing(gql: Gql) -> None:
    query = await gql.client.get("/graphql", params={"query": "{ me { tier } }"})
    assert (query.status_code, _code(query.json())) == (405, "method_not_allowed")
    sub = await gql.client.get("/graphql", params={"query": SUBSCRIPTION})
    assert (sub.status_code, _code(sub.json())) == (400, "websocket_required")
    deep = await gql.client.get(
        "/graphql", params={"query": "{ me { tier } }", "variables": "[" * 100 + "]" * 100}
    )
    assert (deep.status_code, _code(deep.json())) == (400, "malformed_json")


@pytest.mark.parametrize(
    "body",
    [
        {"variables": {}},
        {"query": 5},
        {"query": "{ me { tier } }", "variables": 3},
        {"query": "{ me { tier } }", "extensions": []},
    ],
)
async def test_a_request_without_a_usable_query_is_invalid_query(
    gql: Gql, body: dict[str, Any]
) -> None:
    status, answer = await _post(gql, json.dumps(body).encode())
    assert (status, _code(answer)) == (400, "invalid_query")


async def test_deeply_nested_documents_are_refused(gql: Gql) -> None:
    key = await gql.key()
    for query in (
        "{ me " + "{ tier " * 600 + "}" * 601,
        "{ qr(id: " + "[" * 900 + "]" * 900 + ") { id } }",
        "{ " + "a: me { tier } " * 2000 + "}",
    ):
        result = await gql.run(query, key=key)
        assert result["data"] is None
        assert result["errors"][0]["extensions"]["code"] in ("invalid_query", "query_too_complex")
