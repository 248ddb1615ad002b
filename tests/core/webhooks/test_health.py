"""Webhooks follow the tier and the 24-hour rule, against a real HTTPS receiver and a fake
clock: bursts never disable, a downgrade stops deliveries at once, PATCH re-enables."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from core.accounts import set_tier
from core.bus import LocalBus
from core.models import Account, ApiKey, ScanEndpoint, WebhookDelivery, new_id
from core.tiers import load_tiers
from core.webhooks import DeliveryWorker, WebhookOutbox, list_endpoints, register_endpoint
from core.webhooks.backoff import SCHEDULE
from core.webhooks.cache import EndpointCache, TierChanges, announce_tier_change, shared_cache
from core.webhooks.health import DISABLE_AFTER
from core.webhooks.service import set_endpoint_enabled

from .conftest import FakeClock, ZeroRng, commit_scans, new_account, scan_row

TIERS = load_tiers()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def worker(db, clock, resolver):
    w = DeliveryWorker(db, clock=clock, rng=ZeroRng(), resolver=resolver, timeout=0.5)
    yield w
    await w.aclose()


async def _endpoint(db, resolver, receiver) -> tuple[str, str]:
    account = await new_account("mega")
    registered = await register_endpoint(
        db, TIERS["mega"], account, receiver.url, None, resolver=resolver
    )
    return account, registered.id


async def _scans(clock, account: str, count: int = 1) -> None:
    outbox = WebhookOutbox(clock=clock)
    await commit_scans(outbox, [scan_row(account, qr_id=f"qr_{index}") for index in range(count)])


async def _run_due(worker) -> int:
    total = 0
    while claimed := await worker.run_once():
        total += claimed
    return total


async def test_a_burst_of_failures_never_disables(db, resolver, receiver, clock, worker):
    receiver.default = 500
    account, endpoint_id = await _endpoint(db, resolver, receiver)
    await _scans(clock, account, 60)  # ~60 scans of a printed code while the receiver is down
    assert await _run_due(worker) == 60
    for _ in range(3):  # and their first retries
        clock.advance(minutes=10)
        await _run_due(worker)
    endpoint = await ScanEndpoint.get(id=endpoint_id)
    assert endpoint.disabled_at is None
    assert endpoint.failing_since is not None
    assert endpoint.consecutive_failures >= 120
    assert len(receiver.requests) >= 120
    await _scans(clock, account)
    assert await WebhookDelivery.filter(status="pending").count() == 61  # still queued for


async def test_disabled_only_after_24_hours_of_failing(db, resolver, receiver, clock, worker):
    receiver.default = 500
    account, endpoint_id = await _endpoint(db, resolver, receiver)
    started = clock.now
    await _scans(clock, account)
    await _run_due(worker)
    assert (await ScanEndpoint.get(id=endpoint_id)).failing_since == started
    clock.now = started + DISABLE_AFTER - timedelta(seconds=1)
    await _scans(clock, account)
    await _run_due(worker)
    assert (await ScanEndpoint.get(id=endpoint_id)).disabled_at is None
    clock.now = started + DISABLE_AFTER
    await _scans(clock, account)
    await _run_due(worker)
    [view] = await list_endpoints(account)
    assert (view.enabled, view.disabled_reason, view.disabled_at) == (False, "failing", clock.now)
    # No new events are queued for it...
    await _scans(clock, account)
    before = await WebhookDelivery.all().count()
    assert before == 3
    # ...and the ones already queued keep their full schedule (every event gets it).
    sent = len(receiver.requests)
    clock.advance(hours=30)
    await _run_due(worker)
    assert len(receiver.requests) > sent


async def test_a_success_clears_the_failing_time(db, resolver, receiver, clock, worker):
    receiver.script.extend([500])
    account, endpoint_id = await _endpoint(db, resolver, receiver)
    await _scans(clock, account)
    await _run_due(worker)
    assert (await ScanEndpoint.get(id=endpoint_id)).failing_since is not None
    clock.advance(hours=23)
    clock.now += SCHEDULE[0]
    await _scans(clock, account)
    await _run_due(worker)  # both deliveries succeed now
    endpoint = await ScanEndpoint.get(id=endpoint_id)
    assert (endpoint.failing_since, endpoint.consecutive_failures) == (None, 0)
    clock.advance(hours=2)
    receiver.default = 500
    await _scans(clock, account)
    await _run_due(worker)
    assert (await ScanEndpoint.get(id=endpoint_id)).disabled_at is None  # the clock restarted


async def test_patch_enabled_true_re_enables(db, resolver, receiver, clock, worker):
    receiver.default = 500
    account, endpoint_id = await _endpoint(db, resolver, receiver)
    await _scans(clock, account)
    await _run_due(worker)
    clock.advance(hours=25)
    await _scans(clock, account)
    await _run_due(worker)
    assert (await ScanEndpoint.get(id=endpoint_id)).disabled_reason == "failing"
    view = await set_endpoint_enabled(TIERS["mega"], account, endpoint_id, True)
    assert (view.enabled, view.failing_since) == (True, None)
    receiver.default = 204
    await _scans(clock, account)
    await _run_due(worker)
    assert receiver.requests[-1].headers["webhook-id"]
    assert await WebhookDelivery.filter(status="delivered").count() >= 1


async def test_a_manual_disable_stops_queued_events_too(db, resolver, receiver, clock, worker):
    account, endpoint_id = await _endpoint(db, resolver, receiver)
    await _scans(clock, account, 3)
    await set_endpoint_enabled(TIERS["pro"], account, endpoint_id, False)  # any tier may
    assert await _run_due(worker) == 3
    assert receiver.requests == []
    assert (
        await WebhookDelivery.filter(status="failed", last_error="endpoint disabled").count() == 3
    )
    with pytest.raises(Exception, match="need mega"):
        await set_endpoint_enabled(TIERS["pro"], account, endpoint_id, True)


async def _key_of(account: str) -> str:
    key = await ApiKey.create(
        id=new_id("key"), account_id=account, prefix="qm_test", key_hash=new_id("h")
    )
    return key.id


async def test_a_downgrade_stops_queueing_and_sending_at_once(
    db, resolver, receiver, clock, worker
):
    account, _ = await _endpoint(db, resolver, receiver)
    await _scans(clock, account, 2)  # queued while mega
    await set_tier(TIERS, await _key_of(account), "pro")  # as `qrmint keys set-tier` does
    await _scans(clock, account, 2)  # the cache was told (same process)
    assert await WebhookDelivery.all().count() == 2
    assert await _run_due(worker) == 2  # checked again before sending: nothing is sent
    assert receiver.requests == []
    failed = await WebhookDelivery.filter(status="failed").values("last_error")
    assert {row["last_error"] for row in failed} == {
        "the account's tier no longer includes webhooks"
    }
    await Account.filter(id=account).update(tier="mega")
    shared_cache.invalidate(account)
    await _scans(clock, account)
    assert await _run_due(worker) == 1
    assert len(receiver.requests) == 1


async def test_without_an_announcement_the_cache_forgets_within_its_ttl(db, resolver, receiver):
    account, endpoint_id = await _endpoint(db, resolver, receiver)
    now = [0.0]
    cache = EndpointCache(ttl=5, monotonic=lambda: now[0])
    assert await cache.enabled_endpoints(account) == (endpoint_id,)
    await Account.filter(id=account).update(tier="ultra")  # another process, no Redis
    assert await cache.enabled_endpoints(account) == (endpoint_id,)
    now[0] = 5.1
    assert await cache.enabled_endpoints(account) == ()


async def test_tier_changes_reach_every_process_cache_over_the_bus(db, resolver, receiver):
    account, endpoint_id = await _endpoint(db, resolver, receiver)
    bus, cache = LocalBus(), EndpointCache(ttl=3600)
    watcher = TierChanges(bus, cache)
    await watcher.start()
    try:
        assert await cache.enabled_endpoints(account) == (endpoint_id,)
        await Account.filter(id=account).update(tier="pro")
        await announce_tier_change(bus, account)
        for _ in range(100):
            if await cache.enabled_endpoints(account) == ():
                break
            await asyncio.sleep(0.01)
        assert await cache.enabled_endpoints(account) == ()
    finally:
        await watcher.aclose()


async def test_a_tier_file_without_webhooks_for_mega_is_obeyed(db, resolver, receiver):
    account, _ = await _endpoint(db, resolver, receiver)
    cache = EndpointCache()
    no_hooks = dict(TIERS)
    no_hooks["mega"] = dataclasses.replace(TIERS["mega"], webhooks=False)
    cache.use_tiers(no_hooks)
    assert await cache.enabled_endpoints(account) == ()
