"""Readiness: every configured part is asked side by side; one that fails or hangs is named."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette

from ops.readiness import readiness_route, run_checks


async def _fine() -> None:
    return None


async def _refused() -> None:
    raise ConnectionRefusedError("Connection refused")


async def _hanging() -> None:
    await asyncio.sleep(30)


async def test_failing_and_hanging_parts_are_named() -> None:
    results = await run_checks(
        {"database": _fine, "redis": _refused, "clickhouse": _hanging}, limit=0.2
    )
    assert results == {
        "database": "ok",
        "redis": "ConnectionRefusedError: Connection refused",
        "clickhouse": "no answer within 0.2 s",
    }


async def test_readyz_is_200_or_503_naming_the_part() -> None:
    for checks, status in (
        ({"database": _fine}, 200),
        ({"database": _fine, "redis": _refused}, 503),
    ):
        app = Starlette(routes=[readiness_route(checks)])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ops.test") as client:
            response = await client.get("/readyz")
        assert response.status_code == status
        body = response.json()
        assert body["checks"]["database"] == "ok"
        if status == 503:
            assert body["status"] == "unavailable"
            assert body["error"]["code"] == "service_unavailable"
            assert body["error"]["parts"] == ["redis"]
            assert "redis" in body["error"]["message"]
        else:
            assert body["status"] == "ready"
