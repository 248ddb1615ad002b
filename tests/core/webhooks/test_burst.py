"""A burst of real redirects far beyond the consumer's batch: every scan becomes a webhook
event, and every event reaches a real HTTPS receiver."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.bus import LocalBus
from core.models import Account, QrCode, new_id
from core.tiers import load_tiers
from core.webhooks import DeliveryWorker, WebhookOutbox, register_endpoint
from redirector.wiring import open_redirector
from tests.redirector.conftest import serve
from tests.support import Burst

from .conftest import ZeroRng

MEGA = load_tiers()["mega"]
SCANS = 1500
BATCH = 100  # the consumer's batch: the only bound on scans in memory


@pytest.mark.slow
async def test_every_scan_of_a_burst_is_delivered(db, resolver, receiver) -> None:
    account = await Account.create(id=new_id("acc"), tier="mega")
    await register_endpoint(db, MEGA, account.id, receiver.url, None, resolver=resolver)
    await QrCode.create(
        id=new_id("qr"), account=account, type="dynamic", data="x", short_code="burstcode1",
        destination="https://example.com/", format="png", size=256, margin=4,
        error_correction="M",
    )  # fmt: skip
    worker = DeliveryWorker(db, rng=ZeroRng(), resolver=resolver, poll_interval=0.1)
    stop = asyncio.Event()
    delivering = asyncio.create_task(worker.run_forever(stop))
    outbox = WebhookOutbox(on_written=worker.wake)
    try:
        async with (
            open_redirector(
                db,
                redis=None,
                bus=LocalBus(),
                sinks=[outbox],
                max_batch=BATCH,
                geo_locator=lambda ip: ("DE", "Berlin"),
            ) as app,  # fmt: skip
            serve(app) as base,
        ):
            port = int(base.rsplit(":", 1)[1])
            seen = await Burst("127.0.0.1", port, "burstcode1").run(range(SCANS))
            assert len(seen) == SCANS
            deadline = time.monotonic() + 240
            while len({r.headers["webhook-id"] for r in receiver.requests}) < SCANS:
                assert time.monotonic() < deadline, len(receiver.requests)
                await asyncio.sleep(0.2)
            assert app.state.consumer.stats().batches >= SCANS // BATCH
    finally:
        stop.set()
        await delivering
        await worker.aclose()
    events = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(set(events)) == SCANS
