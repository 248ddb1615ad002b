"""No answered redirect is lost: `qrmint serve` killed with SIGKILL in the middle of a burst
of real redirects, then restarted, has every scan the client saw, each exactly once, in
the store and as a webhook delivery."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tests.qrmint.processes import stored_by_referer, total_scans
from tests.qrmint.serving import Served
from tests.support import Burst, HttpsReceiver

CONNECTIONS = 16


@pytest.mark.slow
async def test_a_sigkill_under_a_burst_loses_no_scan_and_counts_none_twice(
    tmp_path: Path,
) -> None:
    receiver = await HttpsReceiver(tmp_path).__aenter__()
    served = Served(
        tmp_path / "var",
        env={
            "QRMINT_WEBHOOK_ALLOW_PRIVATE": "true",
            "QRMINT_WEBHOOK_CA_BUNDLE": str(receiver.ca_path),
        },
    )
    await asyncio.to_thread(served.start)
    try:
        key = await asyncio.to_thread(served.key, "mega")
        qr_id, code = await asyncio.to_thread(_dynamic_qr_with_endpoint, served, key, receiver)
        burst = Burst("127.0.0.1", served.redirect_port, code)
        running = asyncio.create_task(burst.run(range(100_000), connections=CONNECTIONS))
        while len(burst.seen) < 3000:  # well into the burst, with scans in every stage
            assert not running.done(), "the burst ended before the kill"
            await asyncio.sleep(0.01)
        served.kill()
        seen = await running
        await asyncio.to_thread(served.start)  # adopts the journal and sends what it holds
        with served.api(key) as client:
            total = await asyncio.to_thread(total_scans, client, qr_id, len(seen), 120)
        assert total >= len(seen)
        await asyncio.to_thread(served.stop)
    finally:
        if served.process and served.process.poll() is None:
            served.kill()
        await receiver.__aexit__()
    stored = await asyncio.to_thread(stored_by_referer, served.env, qr_id)
    assert set(stored.values()) == {1}  # nothing twice
    missing = [n for n in seen if stored.get(f"r{n}.example") != 1]
    assert missing == []  # nothing the client saw is missing
    # At most the requests in flight at the kill are stored without the client seeing them.
    assert len(stored) - len(seen) <= CONNECTIONS
    deliveries = _deliveries(tmp_path / "var" / "qrmint.sqlite3")
    print(f"seen {len(seen)}, stored {len(stored)}, deliveries {deliveries}")
    assert deliveries == (len(stored), len(stored))  # one per scan, each with its own event


def _dynamic_qr_with_endpoint(served: Served, key: str, receiver: HttpsReceiver) -> tuple[str, str]:
    with served.api(key) as client:
        created = client.post("/qr/generate", json={"type": "dynamic", "data": "https://e.x/"})
        assert created.status_code == 201, created.text
        endpoint = client.post("/webhooks/scan-endpoints", json={"url": receiver.url()})
        assert endpoint.status_code == 201, endpoint.text
    body = created.json()
    return body["id"], body["short_code"]


def _deliveries(database: Path) -> tuple[int, int]:
    with sqlite3.connect(database) as connection:
        count, events = connection.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM webhook_deliveries"
        ).fetchone()
    return int(count), int(events)
