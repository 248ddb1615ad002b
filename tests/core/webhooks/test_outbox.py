from __future__ import annotations

import json

import pytest

from core.models import ScanEndpoint, WebhookDelivery
from core.scans import ScanBatch
from core.tiers import load_tiers
from core.webhooks import WebhookOutbox, delete_endpoint, queue, register_endpoint
from core.webhooks.cache import EndpointCache
from core.webhooks.events import event_id_for

from .conftest import FakeClock, commit_scans, new_account, scan_row

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
    batch = await commit_scans(WebhookOutbox(clock=clock), [scan_row(account)])
    rows = await WebhookDelivery.all()
    assert sorted(r.endpoint_id for r in rows) == sorted(endpoint_ids)
    assert {r.event_id for r in rows} == {event_id_for(batch.keys[0])}
    assert len({r.payload for r in rows}) == 1
    body = json.loads(rows[0].payload)
    assert body["id"] == rows[0].event_id
    assert body["id"].startswith("evt_")
    assert len(body["id"]) == 28
    assert body["type"] == "qr.scanned"
    assert body["created_at"].endswith("Z")
    assert len(body["created_at"]) == 24
    assert body["data"] == {
        "qr_id": "qr_1", "short_code": "abc123", "scanned_at": "2026-11-25T18:00:00.123Z",
        "destination": "https://example.com/landing", "country": "DE", "city": "Berlin",
        "device": "mobile", "browser": "Chrome", "os": "Android", "is_unique": True,
    }  # fmt: skip
    assert all(r.status == "pending" and r.next_attempt_at == clock.now for r in rows)


async def test_a_batch_committed_again_adds_nothing(db, resolver):
    account = await new_account()
    await _endpoints(db, resolver, account, 2)
    rows = [scan_row(account, qr_id=f"qr_{n}") for n in range(30)]
    first = await commit_scans(WebhookOutbox(), rows)
    # A replay after a crash: the same keys, so the same event ids, and later times.
    again = ScanBatch(first.token, rows, first.keys, replayed=True)
    await WebhookOutbox(clock=FakeClock()).commit(again)
    assert await WebhookDelivery.all().count() == 60
    assert len(set(await WebhookDelivery.all().values_list("event_id", flat=True))) == 30


def test_event_ids_are_derived_from_the_scan_key():
    assert event_id_for("j1-3-100") == event_id_for("j1-3-100")
    assert event_id_for("j1-3-100") != event_id_for("j1-3-101")


async def test_bots_and_accounts_without_endpoints_enqueue_nothing(db, resolver):
    with_endpoint, without = await new_account(), await new_account()
    await _endpoints(db, resolver, with_endpoint, 1)
    await commit_scans(WebhookOutbox(), [scan_row(with_endpoint, is_bot=True), scan_row(without)])
    assert await WebhookDelivery.all().count() == 0


async def test_disabled_endpoints_are_skipped(db, resolver):
    account = await new_account()
    enabled, disabled = await _endpoints(db, resolver, account, 2)
    await ScanEndpoint.filter(id=disabled).update(disabled_at=FakeClock().now)
    await commit_scans(WebhookOutbox(cache=EndpointCache()), [scan_row(account)])
    assert [r.endpoint_id for r in await WebhookDelivery.all()] == [enabled]


async def test_cache_is_invalidated_by_register_and_delete(db, resolver):
    account = await new_account()
    first = (await _endpoints(db, resolver, account, 1))[0]
    outbox = WebhookOutbox()
    await commit_scans(outbox, [scan_row(account)])  # caches [first]
    second = (await _endpoints(db, resolver, account, 1))[0]
    await delete_endpoint(account, first)
    await commit_scans(outbox, [scan_row(account, qr_id="qr_2")])
    latest = await WebhookDelivery.filter(payload__contains="qr_2")
    assert [r.endpoint_id for r in latest] == [second]


async def test_an_endpoint_deleted_behind_the_cache_costs_only_its_own_deliveries(db, resolver):
    account = await new_account()
    first, second = await _endpoints(db, resolver, account, 2)
    cache = EndpointCache(ttl=3600)
    outbox = WebhookOutbox(cache=cache)
    await commit_scans(outbox, [scan_row(account)])  # caches both
    await ScanEndpoint.filter(id=first).delete()  # as another process would: no invalidation
    await commit_scans(outbox, [scan_row(account, qr_id="qr_2")])
    latest = await WebhookDelivery.filter(payload__contains="qr_2")
    assert [r.endpoint_id for r in latest] == [second]


async def test_written_deliveries_wake_the_worker(db, resolver):
    account = await new_account()
    await _endpoints(db, resolver, account, 2)
    woken = []
    outbox = WebhookOutbox(on_written=lambda: woken.append(1))
    await commit_scans(outbox, [scan_row(account, qr_id=f"qr_{n}") for n in range(50)])
    assert await WebhookDelivery.all().count() == 100
    assert woken == [1]
    assert outbox.stats().deliveries == 100


async def test_a_failed_write_raises_so_the_batch_is_retried(db, resolver, monkeypatch):
    account = await new_account()
    await _endpoints(db, resolver, account, 1)
    outbox = WebhookOutbox()

    async def down(deliveries):
        raise ConnectionError("database unavailable")

    monkeypatch.setattr(outbox, "_insert", down)
    rows = [scan_row(account) for _ in range(3)]
    with pytest.raises(ConnectionError):
        await commit_scans(outbox, rows)
    monkeypatch.undo()
    await commit_scans(outbox, rows)
    assert await WebhookDelivery.all().count() == 3


async def test_the_delivery_backlog_is_counted_with_its_age(db, resolver):
    account = await new_account()
    await _endpoints(db, resolver, account, 2)
    clock = FakeClock()
    assert await queue.backlog(clock.now) == queue.Backlog(0, 0.0)
    await commit_scans(WebhookOutbox(clock=clock), [scan_row(account) for _ in range(3)])
    clock.advance(seconds=90)
    waiting = await queue.backlog(clock.now)
    assert waiting.pending == 6
    assert 89 <= waiting.oldest_age <= 91  # created a moment after the (whole-second) clock
