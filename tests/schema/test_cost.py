"""A request's cost is its work: every rendering, stats or writing field spends a token, a
refused one fails alone, and X-RateLimit-* count exactly what was spent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.app import create_api_app
from core import accounts
from core.models import QrCode
from core.ratelimit import LocalRateLimiter
from schema.app import graphql_routes
from tests.schema.conftest import Gql, build_services
from tests.support import RecordingLinks


@pytest.fixture
async def frozen(gql: Gql) -> AsyncIterator[httpx.AsyncClient]:
    """The same app with a stopped clock: buckets never refill, so counts are exact."""
    services = build_services(
        gql.services.settings, RecordingLinks(), limiter=LocalRateLimiter(lambda: 0.0)
    )
    app = create_api_app(services, extra_routes=graphql_routes(services))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


async def _run(client: httpx.AsyncClient, key: str, query: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    return response


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def test_aliased_generations_return_what_succeeded(
    gql: Gql, frozen: httpx.AsyncClient
) -> None:
    key = await gql.key("mega")
    aliases = " ".join(
        f'g{n}: generateQr(input: {{data: "item {n}", size: 64}}) {{ id }}' for n in range(15)
    )
    response = await _run(frozen, key, f"mutation {{ {aliases} }}")
    body = response.json()
    made = [value["id"] for value in body["data"].values() if value is not None]
    # The request's own token and the nine left in the bucket: ten codes, each reported.
    assert len(made) == 10
    assert _codes(body) == ["rate_limited"] * 5
    refused = {error["path"][0] for error in body["errors"]}
    assert refused == {name for name, value in body["data"].items() if value is None}
    principal = await accounts.authenticate(gql.services.tiers, key)
    stored = await QrCode.filter(account_id=principal.account_id).values_list("id", flat=True)
    assert sorted(stored) == sorted(made)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["Retry-After"] == "1"


async def test_aliased_stats_each_cost_a_token(gql: Gql, frozen: httpx.AsyncClient) -> None:
    key = await gql.key("pro")
    principal = await accounts.authenticate(gql.services.tiers, key)
    qr = await gql.services.qr.generate(principal, _spec())
    stats = " ".join(f'{alias}: qrStats(id: "{qr.qr.id}") {{ totalScans }}' for alias in "abc")
    three = await _run(frozen, key, f"{{ {stats} }}")
    assert "errors" not in three.json()
    assert three.headers["X-RateLimit-Remaining"] == "7"  # 10 - 3, exactly
    many = " ".join(f'a{n}: qrStats(id: "{qr.qr.id}") {{ totalScans }}' for n in range(15))
    flood = (await _run(frozen, key, f"{{ {many} }}")).json()
    answered = [value for value in flood["data"].values() if value is not None]
    assert len(answered) == 7  # the request's token pays one, the six left the rest
    assert _codes(flood) == ["rate_limited"] * 8


async def test_cheap_fields_cost_only_the_request(gql: Gql, frozen: httpx.AsyncClient) -> None:
    key = await gql.key()
    reads = await _run(frozen, key, "{ a: me { tier } b: me { tier } c: qrs { edges { cursor } } }")
    assert reads.headers["X-RateLimit-Remaining"] == "9"
    one = await _run(frozen, key, 'mutation { generateQr(input: {data: "x", size: 64}) { id } }')
    assert one.headers["X-RateLimit-Remaining"] == "8"
    assert one.json()["data"]["generateQr"]["id"]


def _spec():  # type: ignore[no-untyped-def]
    from core.qrcodes import GenerateSpec

    return GenerateSpec(data="https://shop.example/", type="dynamic")
