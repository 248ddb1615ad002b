"""Unknown paths are 404 `not_found`, wrong methods 405 `method_not_allowed`, with or
without a key, and the rate-limit headers stay; request ids come back on every answer."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest

from api.app import create_api_app

if TYPE_CHECKING:
    from tests.api.conftest import Api

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
_CLIENTS = itertools.count(1)


@pytest.fixture
async def client(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A caller of its own (own address, so its own anonymous bucket)."""
    address = (f"192.0.2.{next(_CLIENTS)}", 4000)
    transport = httpx.ASGITransport(app=create_api_app(api.services), client=address)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


async def _headers(api: Api, keyed: bool) -> dict[str, str]:
    return await api.key() if keyed else {}


@pytest.mark.parametrize("keyed", [True, False])
@pytest.mark.parametrize("path", ["/nope", "/qr/x/y/z", "/graphql/more", "/static/none.js"])
async def test_unknown_paths_are_404(
    api: Api, client: httpx.AsyncClient, keyed: bool, path: str
) -> None:
    response = await client.get(path, headers=await _headers(api, keyed))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert all(name in response.headers for name in RATE_HEADERS)


@pytest.mark.parametrize("keyed", [True, False])
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/qr/generate", "POST"),  # not "no QR code with id 'generate'"
        ("DELETE", "/qr/bulk-generate", "POST"),
        ("POST", "/qr/abc", "DELETE, GET, HEAD, PATCH"),
        ("PUT", "/webhooks/scan-endpoints", "GET, HEAD, POST"),
        ("POST", "/openapi.json", "GET, HEAD"),
        ("OPTIONS", "/qr/generate", "POST"),
    ],
)
async def test_wrong_methods_are_405(
    api: Api, client: httpx.AsyncClient, keyed: bool, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path, headers=await _headers(api, keyed))
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == allowed
    assert all(name in response.headers for name in RATE_HEADERS)


async def test_a_keyed_refusal_spends_from_the_key(api: Api) -> None:
    headers = await api.key()
    first = await api.client.get("/nope", headers=headers)
    second = await api.client.get("/nope", headers=headers)
    remaining = int(second.headers["X-RateLimit-Remaining"])
    assert remaining == int(first.headers["X-RateLimit-Remaining"]) - 1


async def test_a_known_route_without_key_is_still_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/qr/generate", json={"data": "x"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_request_id_is_generated_or_echoed(api: Api) -> None:
    headers = await api.key()
    generated = await api.client.get("/qr/nope", headers=headers)
    assert len(generated.headers["X-Request-Id"]) == 32
    echoed = await api.client.get("/qr/nope", headers={**headers, "X-Request-Id": "abc-123.x"})
    assert echoed.headers["X-Request-Id"] == "abc-123.x"
    for insane in ("has space", "x" * 200, "new\tline", "ünïcode"):
        raw = {
            **{k.encode(): v.encode() for k, v in headers.items()},
            b"x-request-id": insane.encode(),
        }
        answered = await api.client.get("/qr/nope", headers=raw)
        assert answered.headers["X-Request-Id"] != insane
        assert len(answered.headers["X-Request-Id"]) == 32


async def test_one_access_line_per_request(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    headers = {**(await api.key()), "X-Request-Id": "req-access-1"}
    caplog.set_level(logging.INFO, logger="ops.requests")
    response = await api.client.post("/qr/generate?secret=1", json={"data": "x"}, headers=headers)
    assert response.status_code == 201
    (line,) = [record for record in caplog.records if record.name == "ops.requests"]
    assert line.getMessage().startswith("POST /qr/generate 201 ")
    assert "secret" not in line.getMessage()  # never the query
    assert line.request_id == "req-access-1"  # type: ignore[attr-defined]
    assert line.route == "/qr/generate"  # type: ignore[attr-defined]
    assert line.key_id.startswith("key_")  # type: ignore[attr-defined]
