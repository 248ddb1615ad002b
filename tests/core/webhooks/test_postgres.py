"""The claim path and the endpoint limit on a real PostgreSQL (127.0.0.1:5432, user postgres)."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from datetime import timedelta

import asyncpg
import httpx
import pytest

from core.db import close_database, migrate_database, open_database
from core.errors import Conflict
from core.models import WebhookDelivery
from core.tiers import load_tiers
from core.webhooks import DeliveryWorker, WebhookOutbox, queue, register_endpoint
from core.webhooks.cache import shared_cache

from .conftest import (
    FakeClock,
    FakeResolver,
    ZeroRng,
    commit_scans,
    forget_compiled_queries,
    make_settings,
    new_account,
    scan_row,
)

pytestmark = pytest.mark.postgres
ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
MEGA = load_tiers()["mega"]
URL = "https://hooks.test/scan"


@pytest.fixture
async def pg(tmp_path):
    name = f"qrmint_test_webhooks_{secrets.token_hex(6)}"
    try:
        admin = await asyncpg.connect(ADMIN)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    await admin.execute(f'CREATE DATABASE "{name}"')
    settings = make_settings(
        tmp_path,
        database_url=f"postgres://postgres@127.0.0.1:5432/{name}",
        QRMINT_WEBHOOK_ALLOW_PRIVATE="true",
    )
    try:
        forget_compiled_queries()
        await migrate_database(settings)
        await open_database(settings)
        shared_cache.clear()
        yield settings
    finally:
        shared_cache.clear()
        await close_database()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.002)  # let the other worker interleave
        self.sent[request.headers["webhook-id"] + request.headers["x-endpoint"]] += 1
        return httpx.Response(204)


async def _enqueue(settings, scans, endpoints=5, clock=None):
    resolver = FakeResolver({"hooks.test": ["127.0.0.1"]})
    account = await new_account()
    for index in range(endpoints):
        url = f"{URL}?n={index}"
        await register_endpoint(settings, MEGA, account, url, None, resolver=resolver)
    outbox = WebhookOutbox(clock=clock or FakeClock())
    await commit_scans(outbox, [scan_row(account, qr_id=f"qr_{index}") for index in range(scans)])
    return resolver


async def test_two_workers_claim_concurrently_without_double_sending(pg):
    resolver = await _enqueue(pg, scans=40)
    transport = CountingTransport()

    class Tagging(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            request.headers["x-endpoint"] = request.url.query.decode()
            return await transport.handle_async_request(request)

    workers = [
        DeliveryWorker(pg, rng=ZeroRng(), transport=Tagging(), resolver=resolver, batch_size=8)
        for _ in range(2)
    ]
    claimed = [0, 0]

    async def drain(index):
        while count := await workers[index].run_once():
            claimed[index] += count

    await asyncio.gather(drain(0), drain(1))
    for worker in workers:
        await worker.aclose()
    assert sum(transport.sent.values()) == 200
    assert set(transport.sent.values()) == {1}
    assert claimed[0] > 0
    assert claimed[1] > 0
    assert await WebhookDelivery.filter(status="delivered").count() == 200


async def test_expired_lease_is_claimed_again(pg):
    clock = FakeClock()
    resolver = await _enqueue(pg, scans=1, endpoints=1, clock=clock)
    held = await queue.claim_due(clock.now, clock.now + timedelta(seconds=60), 10, postgres=True)
    assert len(held) == 1
    worker = DeliveryWorker(
        pg, clock=clock, rng=ZeroRng(), resolver=resolver, transport=httpx.MockTransport(ok)
    )
    assert await worker.run_once() == 0
    clock.advance(seconds=61)
    assert await worker.run_once() == 1
    await worker.aclose()
    delivery = await WebhookDelivery.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert not await queue.mark_failed(held[0], "stale worker")  # its claim is gone


async def test_concurrent_registrations_stop_at_the_limit(pg):
    resolver = FakeResolver({"hooks.test": ["127.0.0.1"]})
    account = await new_account()
    results = await asyncio.gather(
        *(register_endpoint(pg, MEGA, account, URL, None, resolver=resolver) for _ in range(10)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 5
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200)
