"""scanCount over a real server and a real graphql-transport-ws client.

The server (uvicorn) runs on this test loop, so the scan events published through the
services' LocalBus, as the redirector's LiveScanPublisher does, reach the subscription.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from api.app import create_api_app
from core import accounts
from core.accounts import authenticate
from core.db import close_database, migrate_database, open_database
from core.live import LiveScanPublisher
from core.qrcodes import GenerateSpec
from core.ratelimit import LocalRateLimiter
from core.scans import ScanBatch, ScanRow
from core.services import Services
from schema.app import graphql_routes
from tests.schema.conftest import LAST_SCAN, build_services, settings_in
from tests.support import RecordingLinks, free_port

PROTOCOL = [Subprotocol("graphql-transport-ws")]
SCAN_COUNT = """
subscription($id: ID!) { scanCount(qrId: $id) { qrId totalScans uniqueScans lastScanAt } }
"""


@dataclass
class Live:
    url: str
    services: Services

    async def key(self, tier: str = "pro") -> str:
        _, raw = await accounts.create_account(self.services.tiers, tier, f"ws {tier}")
        return raw

    async def dynamic_qr(self, key: str) -> str:
        principal = await authenticate(self.services.tiers, key)
        spec = GenerateSpec(data="https://shop.example/", type="dynamic")
        return (await self.services.qr.generate(principal, spec)).qr.id


@pytest.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    settings = settings_in(tmp_path_factory.mktemp("graphql-ws"))
    await migrate_database(settings)
    await open_database(settings)
    # A stopped clock: buckets never refill, so the rate-limit test is deterministic.
    services = build_services(settings, RecordingLinks(), limiter=LocalRateLimiter(lambda: 0.0))
    app = create_api_app(services, extra_routes=graphql_routes(services))
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        ws="websockets-sansio",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await _until_started(server, task)
    yield Live(f"ws://127.0.0.1:{port}/graphql", services)
    server.should_exit = True
    await task
    await close_database()


async def _until_started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    async with asyncio.timeout(10):
        while not server.started:  # uvicorn offers a flag, not an event
            if task.done():
                task.result()  # serve() ended early: show why
            await asyncio.sleep(0.01)


async def _receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
    return message


async def _send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def _init(ws: ClientConnection, payload: dict[str, Any]) -> dict[str, Any]:
    await _send(ws, {"type": "connection_init", "payload": payload})
    return await _receive(ws)


async def _subscribe(ws: ClientConnection, op: str, query: str, **variables: Any) -> None:
    payload = {"query": query, "variables": variables}
    await _send(ws, {"id": op, "type": "subscribe", "payload": payload})


def _batch(row: ScanRow) -> ScanBatch:
    return ScanBatch(f"t-{row.scanned_at.timestamp()}", [row], [f"k-{row.scanned_at}"])


def _scan(qr_id: str, at: datetime, *, unique: bool = True, bot: bool = False) -> ScanRow:
    return ScanRow(
        scanned_at=at,
        qr_id=qr_id,
        account_id="acc_x",
        short_code="abc",
        destination="https://shop.example/",
        visitor="v",
        is_unique=unique,
        country="DE",
        city="Berlin",
        device="bot" if bot else "mobile",
        browser="Chrome",
        os="Android",
        referrer_host="",
        is_bot=bot,
    )


async def test_current_value_first_then_one_per_scan(live: Live) -> None:
    key = await live.key()
    qr_id = await live.dynamic_qr(key)
    async with connect(live.url, subprotocols=PROTOCOL) as ws:
        assert (await _init(ws, {"Authorization": f"Bearer {key}"}))["type"] == "connection_ack"
        await _subscribe(ws, "1", SCAN_COUNT, id=qr_id)
        first = await _receive(ws)
        assert first["type"] == "next", first
        current = first["payload"]["data"]["scanCount"]
        assert (current["qrId"], current["totalScans"], current["uniqueScans"]) == (qr_id, 3, 2)
        assert datetime.fromisoformat(current["lastScanAt"]) == LAST_SCAN

        now = datetime.now(UTC)
        publisher = LiveScanPublisher(live.services.bus)
        await publisher.start()
        publisher.submit(_batch(_scan(qr_id, now)))
        publisher.submit(_batch(_scan(qr_id, now, bot=True)))  # bots are not counted
        publisher.submit(
            _batch(_scan(qr_id, LAST_SCAN - timedelta(seconds=1)))
        )  # already in the store
        publisher.submit(_batch(_scan(qr_id, now + timedelta(seconds=1), unique=False)))
        await publisher.aclose()

        counts = []
        for _ in range(2):
            message = await _receive(ws)
            assert message["type"] == "next", message
            counts.append(message["payload"]["data"]["scanCount"])
        assert [(c["totalScans"], c["uniqueScans"]) for c in counts] == [(4, 3), (5, 3)]
        assert datetime.fromisoformat(counts[1]["lastScanAt"]) > now

        await _send(ws, {"id": "1", "type": "complete"})
        await _send(ws, {"type": "ping"})
        assert (await _receive(ws))["type"] == "pong"  # nothing else was pending
        await _until_unsubscribed(live.services.bus, f"scans:{qr_id}")


async def _until_unsubscribed(bus: Any, channel: str) -> None:
    # Completing the operation must release its bus subscription (LocalBus internals).
    for _ in range(200):
        if channel not in bus._queues:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{channel} still has a subscriber after complete")


@pytest.mark.parametrize(
    ("payload", "headers"),
    [
        ({"apiKey": "{key}"}, {}),
        ({"APIKEY": "{key}"}, {}),
        ({"authorization": "bearer {key}"}, {}),
        ({}, {"Authorization": "Bearer {key}"}),
        ({}, {"X-API-Key": "{key}"}),
    ],
)
async def test_key_from_payload_or_upgrade_headers(
    live: Live, payload: dict[str, str], headers: dict[str, str]
) -> None:
    key = await live.key()
    payload = {name: value.format(key=key) for name, value in payload.items()}
    headers = {name: value.format(key=key) for name, value in headers.items()}
    async with connect(live.url, subprotocols=PROTOCOL, additional_headers=headers) as ws:
        assert (await _init(ws, payload))["type"] == "connection_ack"
        await _subscribe(ws, "me", "{ me { tier } }")
        message = await _receive(ws)
        assert message["payload"]["data"] == {"me": {"tier": "pro"}}


@pytest.mark.parametrize("payload", [{}, {"apiKey": "qm_unknown"}, {"Authorization": "Basic x"}])
async def test_unauthenticated_connection_is_closed_4403(
    live: Live, payload: dict[str, str]
) -> None:
    async with connect(live.url, subprotocols=PROTOCOL) as ws:
        await _send(ws, {"type": "connection_init", "payload": payload})
        with pytest.raises(ConnectionClosed) as closed:
            await _receive(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_subscribe_before_init_is_closed_4401(live: Live) -> None:
    async with connect(live.url, subprotocols=PROTOCOL) as ws:
        await _subscribe(ws, "1", "{ me { tier } }")
        with pytest.raises(ConnectionClosed) as closed:
            await _receive(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def _refusal(ws: ClientConnection, op: str) -> dict[str, Any]:
    """A refused operation gets the protocol's `error` message, never a `next`."""
    message = await _receive(ws)
    assert (message["id"], message["type"]) == (op, "error"), message
    error: dict[str, Any] = message["payload"][0]
    return error


async def test_someone_elses_qr_is_not_found(live: Live) -> None:
    qr_id = await live.dynamic_qr(await live.key())
    async with connect(live.url, subprotocols=PROTOCOL) as ws:
        await _init(ws, {"apiKey": await live.key()})
        await _subscribe(ws, "1", SCAN_COUNT, id=qr_id)
        error = await _refusal(ws, "1")
    assert error["extensions"]["code"] == "not_found"
    assert error["path"] == ["scanCount"]


async def test_basic_tier_has_no_live_counts(live: Live) -> None:
    key = await live.key("basic")
    qr_id = await live.dynamic_qr(key)
    async with connect(live.url, subprotocols=PROTOCOL) as ws:
        await _init(ws, {"apiKey": key})
        await _subscribe(ws, "1", SCAN_COUNT, id=qr_id)
        error = await _refusal(ws, "1")
    assert error["extensions"]["code"] == "analytics_not_in_tier"


async def test_revoked_key_opens_no_more_subscriptions(live: Live) -> None:
    key = await live.key()
    qr_id = await live.dynamic_qr(key)
    async with connect(live.url, subprotocols=PROTOCOL) as ws:
        await _init(ws, {"apiKey": key})
        info = next(k for k in await accounts.list_keys() if key.startswith(k.prefix))
        await accounts.revoke_key(info.id)
        await _subscribe(ws, "1", SCAN_COUNT, id=qr_id)
        error = await _refusal(ws, "1")
    assert error["extensions"]["code"] == "unauthenticated"


async def test_operations_are_rate_limited(live: Live) -> None:
    key = await live.key()
    async with connect(live.url, subprotocols=PROTOCOL) as ws:
        await _init(ws, {"apiKey": key})
        for index in range(10):
            await _subscribe(ws, f"ok{index}", "{ me { tier } }")
            assert (await _receive(ws))["type"] == "next"
            assert (await _receive(ws))["type"] == "complete"
        await _subscribe(ws, "over", "{ me { tier } }")
        error = await _refusal(ws, "over")
    assert error["extensions"]["code"] == "rate_limited"


async def test_revoking_the_key_ends_an_open_subscription(live: Live) -> None:
    key = await live.key()
    qr_id = await live.dynamic_qr(key)
    async with connect(live.url, subprotocols=PROTOCOL) as ws:
        await _init(ws, {"apiKey": key})
        await _subscribe(ws, "1", SCAN_COUNT, id=qr_id)
        assert (await _receive(ws))["type"] == "next"
        info = next(k for k in await accounts.list_keys() if key.startswith(k.prefix))
        await accounts.revoke_key(info.id)
        await asyncio.sleep(1.1)  # past the re-check interval
        publisher = LiveScanPublisher(live.services.bus)
        await publisher.start()
        publisher.submit(_batch(_scan(qr_id, datetime.now(UTC))))
        await publisher.aclose()
        message = await _receive(ws)
        assert (await _receive(ws))["type"] == "complete"  # and nothing more after it
    # Once streaming, the protocol carries an error as a final `next` with `errors`.
    [error] = message["payload"]["errors"]
    assert error["extensions"]["code"] == "unauthenticated"
