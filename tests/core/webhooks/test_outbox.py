from __future__ import annotations

import json
import time

from core.models import ScanEndpoint, WebhookDelivery
from core.tiers import load_tiers
from core.webhooks import WebhookOutbox, delete_endpoint, register_endpoint
from core.webhooks.cache import EndpointCache

from .conftest import FakeClock, new_account, scan_row

MEGA = load_tiers()["mega"]
URL = "https://hooks.test/scan"


async def _endpoints(db, resolver, account, count):
    return [
        (await register_endpoint(db, MEGA, account, URL, None, resolver=resolver)).id
        for _ in range(count)
    ]


async def test_one_delivery_per_endpoint_with_one_event_per_scan(db, resolver):
    account = await new_account()
    endpoint_ids = await _endpoints(db, resolver, account, 3)
    clock = FakeClock()
    outbox = WebhookOutbox(clock=clock)
    outbox.submit(scan_row(account))
    await outbox.flush()
    rows = await WebhookDelivery.all()
    assert sorted(r.endpoint_id for r in rows) == sorted(endpoint_ids)
    assert len({r.event_id for r in rows}) == 1
    assert len({r.payload for r in rows}) == 1
    body = json.loads(rows[0].payload)
    assert body["id"] == rows[0].event_id
    assert body["id"].startswith("evt_")
    assert body["type"] == "qr.scanned"
    assert body["created_at"].endswith("Z")
    assert len(body["created_at"]) == 24
    assert body["data"] == {
        "qr_id": "qr_1", "short_code": "abc123", "scanned_at": "2026-11-25T18:00:00.123Z",
        "destination": "https://example.com/landing", "country": "DE", "city": "Berlin",
        "device": "mobile", "browser": "Chrome", "os": "Android", "is_unique": True,
    }  # fmt: skip
    assert all(r.status == "pending" and r.next_attempt_at == clock.now for r in rows)


async def test_bots_and_accounts_without_endpoints_enqueue_nothing(db, resolver):
    with_endpoint, without = await new_account(), await new_account()
    await _endpoints(db, resolver, with_endpoint, 1)
    outbox = WebhookOutbox()
    outbox.submit(scan_row(with_endpoint, is_bot=True))
    outbox.submit(scan_row(without))
    await outbox.flush()
    assert await WebhookDelivery.all().count() == 0


async def test_disabled_endpoints_are_skipped(db, resolver):
    account = await new_account()
    enabled, disabled = await _endpoints(db, resolver, account, 2)
    await ScanEndpoint.filter(id=disabled).update(disabled_at=FakeClock().now)
    outbox = WebhookOutbox(cache=EndpointCache())
    outbox.submit(scan_row(account))
    await outbox.flush()
    assert [r.endpoint_id for r in await WebhookDelivery.all()] == [enabled]


async def test_cache_is_invalidated_by_register_and_delete(db, resolver):
    account = await new_account()
    first = (await _endpoints(db, resolver, account, 1))[0]
    outbox = WebhookOutbox()
    outbox.submit(scan_row(account))
    await outbox.flush()  # caches [first]
    second = (await _endpoints(db, resolver, account, 1))[0]
    await delete_endpoint(account, first)
    outbox.submit(scan_row(account, qr_id="qr_2"))
    await outbox.flush()
    latest = await WebhookDelivery.filter(payload__contains="qr_2")
    assert [r.endpoint_id for r in latest] == [second]


async def test_started_outbox_writes_in_background_and_drains_on_close(db, resolver):
    account = await new_account()
    await _endpoints(db, resolver, account, 2)
    written = []
    outbox = WebhookOutbox(on_written=lambda: written.append(1))
    await outbox.start()
    for index in range(50):
        outbox.submit(scan_row(account, qr_id=f"qr_{index}"))
    await outbox.aclose()
    assert await WebhookDelivery.all().count() == 100
    assert written


async def test_submit_is_cheap_and_bounded(db):
    outbox = WebhookOutbox(max_pending=10)
    row = scan_row("acc_nobody")
    started = time.perf_counter()
    for _ in range(1000):
        outbox.submit(row)
    assert time.perf_counter() - started < 0.1
    assert outbox.dropped == 990
    await outbox.flush()


async def test_a_failed_batch_is_retried_not_lost(db, resolver, monkeypatch):
    account = await new_account()
    await _endpoints(db, resolver, account, 1)
    outbox = WebhookOutbox()
    real_insert = outbox._insert
    failures: list[int] = []

    async def flaky(deliveries):
        if len(failures) < 2:  # the database is away for two attempts
            failures.append(len(deliveries))
            raise ConnectionError("database unavailable")
        await real_insert(deliveries)

    monkeypatch.setattr(outbox, "_insert", flaky)
    for _ in range(3):
        outbox.submit(scan_row(account))
    await outbox.flush()
    assert failures == [3, 3]
    assert await WebhookDelivery.all().count() == 3
