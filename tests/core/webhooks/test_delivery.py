from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from datetime import UTC, datetime, timedelta

import httpcore
import pytest
from standardwebhooks import Webhook

from core.models import ScanEndpoint, WebhookDelivery
from core.tiers import load_tiers
from core.webhooks import (
    DeliveryWorker,
    WebhookOutbox,
    list_endpoints,
    register_endpoint,
    verify_signature,
)
from core.webhooks.backoff import MAX_ATTEMPTS, SCHEDULE
from core.webhooks.queue import purge_finished
from core.webhooks.sender import PinnedBackend

from .conftest import FakeClock, FakeResolver, ZeroRng, commit_scans, new_account, scan_row

MEGA = load_tiers()["mega"]


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def worker(db, clock, resolver):
    w = DeliveryWorker(db, clock=clock, rng=ZeroRng(), resolver=resolver, timeout=0.5)
    yield w
    await w.aclose()


async def _setup(db, resolver, receiver, clock, scans=1):
    account = await new_account()
    registered = await register_endpoint(db, MEGA, account, receiver.url, None, resolver=resolver)
    outbox = WebhookOutbox(clock=clock)
    await commit_scans(outbox, [scan_row(account, qr_id=f"qr_{index}") for index in range(scans)])
    return registered


async def test_delivers_signed_request_over_https(db, resolver, receiver, clock, worker, caplog):
    caplog.set_level(logging.DEBUG)
    registered = await _setup(db, resolver, receiver, clock)
    assert await worker.run_once() == 1
    [request] = receiver.requests
    delivery = await WebhookDelivery.get()
    assert request.path == "/hook"
    assert request.body == delivery.payload.encode()
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-qrmint-event-id"] == delivery.event_id
    assert request.headers["webhook-id"] == delivery.event_id
    assert request.headers["webhook-timestamp"] == str(int(clock.now.timestamp()))
    assert Webhook(registered.secret).verify(request.body, request.headers)
    signature = request.headers["x-qrmint-signature"]
    assert verify_signature(registered.secret, signature, request.body, now=clock.now.timestamp())
    assert delivery.status == "delivered"
    assert delivery.attempts == 1
    assert delivery.delivered_at == clock.now
    assert delivery.locked_until is None
    assert await worker.run_once() == 0
    for secret_like in (registered.secret, signature, request.headers["webhook-signature"]):
        assert secret_like not in caplog.text
    account = (await ScanEndpoint.get(id=registered.id)).account_id
    views = await list_endpoints(account)
    assert len(views) == 1
    assert registered.secret not in repr(views)


async def test_retries_after_500_and_timeout_with_the_same_event_id(
    db, resolver, receiver, clock, worker
):
    receiver.script.extend([500, "hang", 200])
    await _setup(db, resolver, receiver, clock)
    start = clock.now
    assert await worker.run_once() == 1
    delivery = await WebhookDelivery.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    assert delivery.next_attempt_at == start + SCHEDULE[0]
    assert await worker.run_once() == 0  # not due yet
    clock.now = delivery.next_attempt_at
    assert await worker.run_once() == 1
    delivery = await WebhookDelivery.get()
    assert (delivery.attempts, delivery.last_error) == (2, "timeout")
    assert delivery.next_attempt_at == clock.now + SCHEDULE[1]
    clock.now = delivery.next_attempt_at
    assert await worker.run_once() == 1
    delivery = await WebhookDelivery.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert len(receiver.requests) == 3
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert [json.loads(r.body)["id"] for r in receiver.requests] == [delivery.event_id] * 3


async def test_full_backoff_schedule_then_failed(db, resolver, receiver, clock, worker):
    receiver.default = 503
    await _setup(db, resolver, receiver, clock)
    start, waits = clock.now, []
    for _ in range(MAX_ATTEMPTS):
        assert await worker.run_once() == 1
        delivery = await WebhookDelivery.get()
        if delivery.status == "failed":
            break
        waits.append(delivery.next_attempt_at - clock.now)
        clock.now = delivery.next_attempt_at
    assert waits == list(SCHEDULE)
    assert delivery.status == "failed"
    assert delivery.attempts == MAX_ATTEMPTS >= 6
    assert clock.now - start >= timedelta(hours=24)  # as Standard Webhooks senders do
    assert len(receiver.requests) == MAX_ATTEMPTS
    clock.advance(hours=24)
    assert await worker.run_once() == 0


async def test_jitter_only_lengthens_waits(db, resolver, receiver, clock):
    class HighRng:
        def random(self):
            return 0.999

    receiver.default = 500
    await _setup(db, resolver, receiver, clock)
    worker = DeliveryWorker(db, clock=clock, rng=HighRng(), resolver=resolver, timeout=0.5)
    await worker.run_once()
    await worker.aclose()
    wait = (await WebhookDelivery.get()).next_attempt_at - clock.now
    assert SCHEDULE[0] < wait <= SCHEDULE[0] * 1.2


async def test_redirects_are_not_followed(db, resolver, receiver, clock, worker):
    receiver.script.append(302)
    await _setup(db, resolver, receiver, clock)
    await worker.run_once()
    delivery = await WebhookDelivery.get()
    assert delivery.status == "pending"
    assert delivery.last_error == "HTTP 302"
    assert len(receiver.requests) == 1


async def test_untrusted_certificate_is_a_failed_attempt(db, resolver, receiver, clock):
    await _setup(db, resolver, receiver, clock)
    no_ca = dataclasses.replace(db, webhook_ca_bundle=None)
    worker = DeliveryWorker(no_ca, clock=clock, rng=ZeroRng(), resolver=resolver, timeout=2)
    await worker.run_once()
    await worker.aclose()
    delivery = await WebhookDelivery.get()
    assert delivery.status == "pending"
    assert "ConnectError" in (delivery.last_error or "")
    assert receiver.requests == []


async def test_survives_a_worker_dying_mid_flight(db, resolver, receiver, clock):
    receiver.script.append("hang")
    await _setup(db, resolver, receiver, clock)
    doomed = DeliveryWorker(db, clock=clock, rng=ZeroRng(), resolver=resolver, timeout=60)
    task = asyncio.create_task(doomed.run_once())
    await asyncio.wait_for(receiver.wait_for_requests(1), 5)
    task.cancel()  # the worker dies holding the lease
    with pytest.raises(asyncio.CancelledError):
        await task
    await doomed.aclose()
    leased = await WebhookDelivery.get()
    assert leased.status == "pending"
    assert leased.locked_until is not None
    successor = DeliveryWorker(db, clock=clock, rng=ZeroRng(), resolver=resolver, timeout=0.5)
    assert await successor.run_once() == 0  # the lease still holds
    clock.now = leased.locked_until
    clock.advance(seconds=1)
    assert await successor.run_once() == 1
    await successor.aclose()
    delivery = await WebhookDelivery.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.event_id] * 2


async def test_dns_rebinding_after_registration_is_refused(db, receiver, clock):
    strict = dataclasses.replace(db, webhook_allow_private=False)
    public = FakeResolver({"hooks.test": ["93.184.216.34"]})
    await _setup(strict, public, receiver, clock)
    rebound = FakeResolver({"hooks.test": ["127.0.0.1"]})
    worker = DeliveryWorker(strict, clock=clock, rng=ZeroRng(), resolver=rebound, timeout=0.5)
    await worker.run_once()
    await worker.aclose()
    delivery = await WebhookDelivery.get()
    assert delivery.status == "pending"
    assert delivery.last_error.startswith("unsafe_url")
    assert receiver.requests == []
    assert rebound.lookups == ["hooks.test"]


async def test_backend_refuses_unpinned_connections():
    with pytest.raises(httpcore.ConnectError):
        await PinnedBackend().connect_tcp("hooks.test", 443)


async def test_two_workers_never_send_twice(db, resolver, receiver, clock):
    await _setup(db, resolver, receiver, clock, scans=30)
    workers = [
        DeliveryWorker(db, clock=clock, rng=ZeroRng(), resolver=resolver, batch_size=4)
        for _ in range(2)
    ]

    async def drain(worker):
        while await worker.run_once():
            pass

    await asyncio.gather(*(drain(w) for w in workers))
    for w in workers:
        await w.aclose()
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 30
    assert await WebhookDelivery.filter(status="delivered").count() == 30


async def test_run_forever_stops_on_event(db, resolver, receiver, clock):
    await _setup(db, resolver, receiver, clock, scans=3)
    worker = DeliveryWorker(db, clock=clock, resolver=resolver, poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    await asyncio.wait_for(receiver.wait_for_requests(3), 5)
    worker.wake()
    stop.set()
    await asyncio.wait_for(task, 2)
    await worker.aclose()
    assert await WebhookDelivery.filter(status="delivered").count() == 3


async def test_finished_deliveries_are_forgotten_after_a_week(db, resolver):
    account = await new_account()
    [endpoint_id] = [
        (
            await register_endpoint(
                db, MEGA, account, "https://hooks.test/x", None, resolver=resolver
            )
        ).id
    ]
    now = datetime(2026, 11, 25, tzinfo=UTC)
    for status, age in (("delivered", 8), ("failed", 9), ("pending", 30), ("delivered", 1)):
        row = await WebhookDelivery.create(
            event_id=f"evt_{status}_{age}", endpoint_id=endpoint_id, payload="{}",
            status=status, next_attempt_at=now,
        )  # fmt: skip
        await WebhookDelivery.filter(id=row.id).update(created_at=now - timedelta(days=age))
    assert await purge_finished(now - timedelta(days=7)) == 2
    left = sorted(row.event_id for row in await WebhookDelivery.all())
    assert left == ["evt_delivered_1", "evt_pending_30"]
