from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from analytics.rowcodec import encode_row
from analytics.spool import Spool
from analytics.store import ScanStore
from analytics.stream import GROUP, STREAM, StreamDrainer, StreamScanSink
from analytics.writer import ScanWriter
from core.scans import ScanRow

pytestmark = pytest.mark.redis

RowFactory = Callable[..., ScanRow]
FAST: dict[str, Any] = {"flush_interval": 0.05, "retry_initial": 0.02, "retry_max": 0.2}


async def _wait_until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_sink_to_drainer_to_store(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    redis_client: aioredis.Redis, tmp_path: Path,
) -> None:  # fmt: skip
    sink = StreamScanSink(redis_client, batch_size=200)
    writer = ScanWriter(store, tmp_path, **FAST)
    drainer = StreamDrainer(redis_client, writer, batch_size=500, block_ms=50)
    await writer.start()
    await drainer.start()
    await sink.start()
    for n in range(3000):
        sink.submit(make_row(qr_id, visitor=f"v{n}"))
    await sink.aclose()
    assert sink.published == 3000
    await _wait_until(lambda: drainer.drained == 3000)
    await drainer.aclose()
    await writer.aclose()
    assert count_scans(qr_id) == 3000
    assert await redis_client.xlen(STREAM) == 0  # acknowledged entries are deleted
    assert (await redis_client.xpending(STREAM, GROUP))["pending"] == 0


async def test_entries_of_a_dead_consumer_are_reclaimed(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    redis_client: aioredis.Redis, tmp_path: Path,
) -> None:  # fmt: skip
    await redis_client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for n in range(50):
        await redis_client.xadd(STREAM, encode_row(make_row(qr_id, visitor=f"v{n}")))  # type: ignore[arg-type]
    # A consumer reads the entries, then dies before acknowledging them.
    taken = await redis_client.xreadgroup(GROUP, "dead-consumer", {STREAM: ">"}, count=100)
    assert len(taken[0][1]) == 50  # type: ignore[index]
    writer = ScanWriter(store, tmp_path, **FAST)
    drainer = StreamDrainer(redis_client, writer, block_ms=50, claim_idle_ms=100)
    await writer.start()
    await drainer.start()
    await _wait_until(lambda: drainer.drained == 50)
    await drainer.aclose()
    await writer.aclose()
    assert count_scans(qr_id) == 50
    assert (await redis_client.xpending(STREAM, GROUP))["pending"] == 0


async def test_own_pending_entries_are_finished_after_a_restart(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    redis_client: aioredis.Redis, tmp_path: Path,
) -> None:  # fmt: skip
    await redis_client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for n in range(20):
        await redis_client.xadd(STREAM, encode_row(make_row(qr_id, visitor=f"v{n}")))  # type: ignore[arg-type]
    await redis_client.xreadgroup(GROUP, "me", {STREAM: ">"}, count=100)
    writer = ScanWriter(store, tmp_path, **FAST)
    drainer = StreamDrainer(redis_client, writer, consumer="me", block_ms=50)
    await writer.start()
    await drainer.start()
    await _wait_until(lambda: drainer.drained == 20)
    await drainer.aclose()
    await writer.aclose()
    assert count_scans(qr_id) == 20


async def test_bad_entries_are_dropped_not_retried(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    redis_client: aioredis.Redis, tmp_path: Path,
) -> None:  # fmt: skip
    await redis_client.xadd(STREAM, {"hello": "world"})
    await redis_client.xadd(STREAM, encode_row(make_row(qr_id)))  # type: ignore[arg-type]
    writer = ScanWriter(store, tmp_path, **FAST)
    drainer = StreamDrainer(redis_client, writer, block_ms=50)
    await writer.start()
    await drainer.start()
    await _wait_until(lambda: drainer.drained == 1)
    await drainer.aclose()
    await writer.aclose()
    assert drainer.rejected == 1
    assert count_scans(qr_id) == 1
    assert await redis_client.xlen(STREAM) == 0


async def test_sink_keeps_rows_while_redis_is_down(make_row: RowFactory) -> None:
    unreachable = aioredis.from_url("redis://127.0.0.1:1/11", socket_connect_timeout=0.2)
    sink = StreamScanSink(unreachable, max_buffered=100, retry_max=0.05)
    await sink.start()
    for n in range(150):
        sink.submit(make_row("qr", visitor=f"v{n}"))
    await asyncio.sleep(0.3)
    assert (sink.buffered, sink.published, sink.dropped) == (100, 0, 50)
    await sink.aclose()
    await unreachable.aclose()


@pytest.mark.redis
async def test_a_stop_while_redis_is_down_keeps_the_rows_on_disk(
    redis_client: aioredis.Redis, tmp_path: Path, make_row: RowFactory
) -> None:
    unreachable = aioredis.from_url("redis://127.0.0.1:1/11", socket_connect_timeout=0.2)
    sink = StreamScanSink(unreachable, retry_max=0.05, spool=Spool(tmp_path))
    await sink.start()
    for n in range(30):
        sink.submit(make_row("qr-kept", visitor=f"v{n}"))
    await sink.aclose()
    await unreachable.aclose()
    assert sink.published == 0
    # The next start, with Redis back, publishes them.
    again = StreamScanSink(redis_client, spool=Spool(tmp_path))
    await again.start()
    await _wait_until(lambda: again.published == 30)
    await again.aclose()
    assert await redis_client.xlen(STREAM) == 30
    assert os.listdir(tmp_path) == []  # taken back, then removed
