"""WebSocket floods and odd messages over a real server: bounded answers, the protocol's
close codes, no traceback; a bad key spends the anonymous bucket like REST."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from starlette.routing import Route, WebSocketRoute
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from api.app import create_api_app
from core import accounts
from core.accounts import authenticate
from core.db import close_database, migrate_database, open_database
from core.qrcodes import GenerateSpec
from core.ratelimit import LocalRateLimiter
from core.services import Services
from schema import ws_limits
from schema.app import PATH, GraphQLView
from tests.schema.conftest import build_services, settings_in
from tests.support import RecordingLinks, free_port

PROTOCOL = [Subprotocol("graphql-transport-ws")]
SCAN_COUNT = "subscription($id: ID!) { scanCount(qrId: $id) { totalScans } }"


@dataclass
class Server:
    url: str
    services: Services
    view: GraphQLView
    clock: list[float]

    async def key(self, tier: str = "pro") -> str:
        _, raw = await accounts.create_account(self.services.tiers, tier, "ws limits")
        return raw

    def refill(self) -> None:
        self.clock[0] += 10.0  # every bucket is full again


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    settings = settings_in(tmp_path_factory.mktemp("ws-limits"))
    await migrate_database(settings)
    await open_database(settings)
    clock = [0.0]
    services = build_services(
        settings, RecordingLinks(), limiter=LocalRateLimiter(lambda: clock[0])
    )
    saved = ws_limits.CONNECTION_INIT_TIMEOUT
    ws_limits.CONNECTION_INIT_TIMEOUT = timedelta(seconds=0.5)
    view = GraphQLView(services)
    ws_limits.CONNECTION_INIT_TIMEOUT = saved
    routes = [Route(PATH, view, methods=["GET", "POST"]), WebSocketRoute(PATH, view)]
    app = create_api_app(services, extra_routes=routes)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", ws="websockets-sansio",
        log_level="warning",
    )  # fmt: skip
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    async with asyncio.timeout(10):
        while not uv.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
            await asyncio.sleep(0.01)
    yield Server(f"ws://127.0.0.1:{port}/graphql", services, view, clock)
    uv.should_exit = True
    await task
    await close_database()


async def _receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return message


async def _send(ws: ClientConnection, message: Any) -> None:
    await ws.send(json.dumps(message))


async def _closed_with(ws: ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        await _drain(ws)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def _drain(ws: ClientConnection) -> None:
    for _ in range(100):
        await asyncio.wait_for(ws.recv(), 10)


async def _bad_key_code(server: Server) -> int:
    async with connect(server.url, subprotocols=PROTOCOL) as ws:
        await _send(ws, {"type": "connection_init", "payload": {"apiKey": "qm_wrong"}})
        return await _closed_with(ws)


async def test_bad_keys_spend_the_anonymous_bucket_then_get_4429(server: Server) -> None:
    server.refill()
    codes = [await _bad_key_code(server) for _ in range(12)]
    assert codes == [4403] * 10 + [4429] * 2
    server.refill()
    assert await _bad_key_code(server) == 4403  # the bucket refills, as on REST


async def test_connection_init_must_come_in_time(server: Server) -> None:
    async with connect(server.url, subprotocols=PROTOCOL) as ws:
        assert await _closed_with(ws) == 4408


@pytest.mark.parametrize(
    "message",
    [
        [1, 2],
        "text",
        {"type": 5},
        {"type": "subscribe", "id": "1", "payload": "x"},
        {"type": "subscribe", "id": 7, "payload": {"query": "{ me { tier } }"}},
        {"type": "subscribe", "id": "1", "payload": {"query": 3}},
        {"type": "subscribe", "id": "1", "payload": {"query": "{ me { tier } }", "variables": 3}},
        {"type": "complete"},
        {"type": "connection_init", "payload": [1]},
        {"type": "what"},
    ],
)
async def test_odd_messages_close_4400_without_a_traceback(
    server: Server, message: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server.refill()
    key = await server.key()
    async with connect(server.url, subprotocols=PROTOCOL) as ws:
        if message.__class__ is dict and message.get("type") != "connection_init":
            await _send(ws, {"type": "connection_init", "payload": {"apiKey": key}})
            assert (await _receive(ws))["type"] == "connection_ack"
        await _send(ws, message)
        assert await _closed_with(ws) == 4400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_deep_json_messages_close_4400(server: Server) -> None:
    async with connect(server.url, subprotocols=PROTOCOL) as ws:
        await ws.send('{"type": "connection_init", "payload": ' + '{"a":' * 5000 + "1" + "}" * 5001)
        assert await _closed_with(ws) == 4400


async def test_a_subscribe_flood_gets_one_bounded_answer_each(server: Server) -> None:
    server.refill()
    key = await server.key()
    async with connect(server.url, subprotocols=PROTOCOL) as ws:
        await _send(ws, {"type": "connection_init", "payload": {"apiKey": key}})
        await _receive(ws)
        for index in range(200):
            payload = {"query": "{ me { tier } }"}
            await _send(ws, {"id": f"op{index}", "type": "subscribe", "payload": payload})
        answers: dict[str, set[str]] = {}
        while sum(len(kinds & {"complete", "error"}) for kinds in answers.values()) < 200:
            message = await _receive(ws)
            answers.setdefault(message["id"], set()).add(message["type"])
        refused = [op for op, kinds in answers.items() if kinds == {"error"}]
        assert len(refused) == 190  # ten tokens in the bucket
        await _send(ws, {"type": "ping"})
        assert (await _receive(ws))["type"] == "pong"  # still serving


async def _open_subscriptions(server: Server, ws: ClientConnection, key: str, count: int) -> str:
    principal = await authenticate(server.services.tiers, key)
    spec = GenerateSpec(data="https://shop.example/", type="dynamic")
    qr_id = (await server.services.qr.generate(principal, spec)).qr.id
    await _send(ws, {"type": "connection_init", "payload": {"apiKey": key}})
    await _receive(ws)
    for index in range(count):
        server.refill()
        payload = {"query": SCAN_COUNT, "variables": {"id": qr_id}}
        await _send(ws, {"id": f"s{index}", "type": "subscribe", "payload": payload})
        assert (await _receive(ws))["type"] == "next"
    return qr_id


async def test_subscriptions_per_connection_are_capped(server: Server) -> None:
    key = await server.key()
    async with connect(server.url, subprotocols=PROTOCOL) as ws:
        qr_id = await _open_subscriptions(server, ws, key, ws_limits.MAX_PER_CONNECTION)
        server.refill()
        payload = {"query": SCAN_COUNT, "variables": {"id": qr_id}}
        await _send(ws, {"id": "over", "type": "subscribe", "payload": payload})
        refusal = await _receive(ws)
        assert (refusal["id"], refusal["type"]) == ("over", "error")
        assert refusal["payload"][0]["extensions"]["code"] == "subscription_limit"
        await _send(ws, {"id": "s0", "type": "complete"})
        await asyncio.sleep(0.1)
        await _send(ws, {"id": "again", "type": "subscribe", "payload": payload})
        assert (await _receive(ws))["type"] == "next"  # a slot was freed


async def test_subscriptions_per_key_are_capped_across_connections(server: Server) -> None:
    key = await server.key()
    principal = await authenticate(server.services.tiers, key)
    server.view.ledger.limit = 3
    try:
        async with connect(server.url, subprotocols=PROTOCOL) as first:
            qr_id = await _open_subscriptions(server, first, key, 3)
            async with connect(server.url, subprotocols=PROTOCOL) as second:
                await _send(second, {"type": "connection_init", "payload": {"apiKey": key}})
                await _receive(second)
                server.refill()
                payload = {"query": SCAN_COUNT, "variables": {"id": qr_id}}
                await _send(second, {"id": "x", "type": "subscribe", "payload": payload})
                refusal = await _receive(second)
                assert refusal["payload"][0]["extensions"]["code"] == "subscription_limit"
        for _ in range(100):  # closing the connections releases their subscriptions
            if server.view.ledger.open_for(principal.key_id) == 0:
                break
            await asyncio.sleep(0.02)
        assert server.view.ledger.open_for(principal.key_id) == 0
    finally:
        server.view.ledger.limit = ws_limits.MAX_PER_KEY
