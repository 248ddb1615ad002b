"""The /graphql endpoint itself: auth, GraphiQL, abuse limits, error masking, the SDL file."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import httpx
from graphql import get_introspection_query

from api.app import create_api_app
from core.qrcodes import QrService
from schema.app import graphql_routes
from schema.export import SDL_PATH, sdl
from tests.schema.conftest import error_of

if TYPE_CHECKING:
    from tests.schema.conftest import Gql


async def test_no_key_is_unauthenticated(gql: Gql) -> None:
    for headers in ({}, {"Authorization": "Bearer qm_nope"}):
        response = await gql.client.post(
            "/graphql", json={"query": "{ me { tier } }"}, headers=headers
        )
        assert response.status_code == 401
        [error] = response.json()["errors"]  # the GraphQL shape, even from the gate
        assert error["extensions"]["code"] == "unauthenticated"
        assert "X-RateLimit-Limit" in response.headers


async def test_x_api_key_and_rate_limit_headers(gql: Gql) -> None:
    headers = {"X-API-Key": await gql.key("mega")}
    response = await gql.client.post("/graphql", json={"query": "{ me { tier } }"}, headers=headers)
    assert response.json() == {"data": {"me": {"tier": "mega"}}}
    assert response.headers["X-RateLimit-Limit"] == "10"


async def test_graphiql_on_get_in_a_browser(gql: Gql) -> None:
    response = await gql.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_get_never_executes(gql: Gql) -> None:
    # The gate leaves GET /graphql open for the GraphiQL page: it must not run operations.
    response = await gql.client.get("/graphql", params={"query": "{ me { tier } }"})
    assert response.status_code in (400, 405), response.text
    assert "tier" not in response.text


async def test_introspection_works(gql: Gql) -> None:
    result = await gql.run(get_introspection_query(descriptions=True), key=await gql.key())
    assert "errors" not in result
    names = {t["name"] for t in result["data"]["__schema"]["types"]}
    assert {"QrCode", "GenerateQrInput", "ScanCount"} <= names


async def test_too_many_aliases_is_refused(gql: Gql) -> None:
    query = "{ " + " ".join(f"a{i}: me {{ tier }}" for i in range(16)) + " }"
    result = await gql.run(query, key=await gql.key())
    assert error_of(result)["extensions"]["code"] == "query_too_complex"
    assert result.get("data") is None


async def test_too_deep_is_refused(gql: Gql) -> None:
    # Our types do not nest ten deep; an abusive client would try (fields checked after depth).
    inner = "id"
    for _ in range(11):
        inner = f"node {{ {inner} }}"
    result = await gql.run(f"{{ qrs {{ edges {{ {inner} }} }} }}", key=await gql.key())
    codes = {error["extensions"]["code"] for error in result["errors"]}
    assert "query_too_complex" in codes
    assert result.get("data") is None


async def test_too_many_tokens_is_refused(gql: Gql) -> None:
    query = "{ me { " + " ".join(["tier"] * 2100) + " } }"
    result = await gql.run(query, key=await gql.key())
    assert error_of(result)["extensions"]["code"] == "query_too_complex"


async def test_bad_syntax_is_invalid_query(gql: Gql) -> None:
    result = await gql.run("{ me { tier ", key=await gql.key())
    assert error_of(result)["extensions"]["code"] == "invalid_query"


class _Broken:
    async def get(self, *args: Any) -> Any:
        raise RuntimeError("password=hunter2 in /srv/internal/path.py")


async def test_unexpected_errors_are_masked(gql: Gql) -> None:
    services = replace(gql.services, qr=cast(QrService, _Broken()))
    app = create_api_app(services, extra_routes=graphql_routes(services))
    key = await gql.key()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        response = await client.post(
            "/graphql",
            json={"query": '{ qr(id: "qr_x") { id } }'},
            headers={"Authorization": f"Bearer {key}"},
        )
    error = error_of(response.json())
    assert error["extensions"] == {"code": "internal_error", "details": []}
    assert "hunter2" not in response.text
    assert "internal" not in error["message"]


def test_committed_sdl_matches_the_schema() -> None:
    assert SDL_PATH.read_text() == sdl(), (
        "schema/schema.graphql is out of date; regenerate it with: python -m schema.export"
    )
