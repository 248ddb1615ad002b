"""Scans over the Redis stream: one entry per batch, stored once, never trimmed away."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from analytics.rowcodec import decode_rows, encode_row, encode_rows
from analytics.sinks import forward_old_stream_spool
from analytics.spool import Batch, Spool
from analytics.store import ScanStore
from analytics.stream import GROUP, STREAM, StreamDrainer, StreamFull, StreamSink
from analytics.writer import ScanWriter
from core.scans import ScanBatch, ScanRow

pytestmark = pytest.mark.redis

RowFactory = Callable[..., ScanRow]
FAST: dict[str, Any] = {"retry_initial": 0.02, "retry_max": 0.2}


async def _wait_until(predicate: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def _batches(qr_id: str, make_row: RowFactory, count: int, size: int) -> list[ScanBatch]:
    batches = []
    for b in range(count):
        rows = [make_row(qr_id, visitor=f"v{b}-{n}") for n in range(size)]
        keys = [f"{qr_id}-{b}-{n}" for n in range(size)]
        batches.append(ScanBatch(f"{qr_id}-batch-{b}", rows, keys))
    return batches


async def test_sink_to_drainer_to_store(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    redis_client: aioredis.Redis, tmp_path: Path,
) -> None:  # fmt: skip
    sink = StreamSink(redis_client)
    writer = ScanWriter(store, tmp_path, **FAST)
    drainer = StreamDrainer(redis_client, writer, block_ms=50)
    await writer.start()
    await drainer.start()
    batches = _batches(qr_id, make_row, 6, 500)
    for batch in batches:
        await sink.commit(batch)
    await sink.commit(batches[2])  # a redirector that died before its checkpoint sends again
    assert await redis_client.xlen(STREAM) <= 7  # one entry per batch
    assert sink.published == 3500
    await _wait_until(lambda: drainer.drained == 3500)
    await drainer.aclose()
    await writer.aclose()
    assert count_scans(qr_id) == 3000  # the batch sent twice is stored once
    assert await redis_client.xlen(STREAM) == 0  # acknowledged entries are deleted
    assert (await redis_client.xpending(STREAM, GROUP))["pending"] == 0


async def test_a_full_stream_refuses_instead_of_trimming(
    qr_id: str, make_row: RowFactory, redis_client: aioredis.Redis
) -> None:
    sink = StreamSink(redis_client, max_entries=3)
    batches = _batches(qr_id, make_row, 5, 2)
    for batch in batches[:3]:
        await sink.commit(batch)
    with pytest.raises(StreamFull):
        await sink.commit(batches[3])
    assert (sink.refused, await redis_client.xlen(STREAM)) == (1, 3)  # nothing was cut off
    await redis_client.xtrim(STREAM, maxlen=1, approximate=False)  # as the drainer's XDELs would
    await sink.commit(batches[3])
    assert await redis_client.xlen(STREAM) == 2


async def test_entries_of_a_dead_consumer_are_reclaimed(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    redis_client: aioredis.Redis, tmp_path: Path,
) -> None:  # fmt: skip
    await redis_client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    sink = StreamSink(redis_client)
    for batch in _batches(qr_id, make_row, 5, 10):
        await sink.commit(batch)
    # A consumer reads the entries, then dies before acknowledging them.
    taken = await redis_client.xreadgroup(GROUP, "dead-consumer", {STREAM: ">"}, count=100)
    assert len(taken[0][1]) == 5  # type: ignore[index]
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
    rows = [make_row(qr_id, visitor=f"v{n}") for n in range(20)]
    await redis_client.xadd(STREAM, {"token": "t1", "rows": encode_rows(rows)})
    await redis_client.xreadgroup(GROUP, "me", {STREAM: ">"}, count=100)
    writer = ScanWriter(store, tmp_path, **FAST)
    drainer = StreamDrainer(redis_client, writer, consumer="me", block_ms=50)
    await writer.start()
    await drainer.start()
    await _wait_until(lambda: drainer.drained == 20)
    await drainer.aclose()
    await writer.aclose()
    assert count_scans(qr_id) == 20


async def test_single_row_entries_of_an_older_redirector_are_stored(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    redis_client: aioredis.Redis, tmp_path: Path,
) -> None:  # fmt: skip
    for n in range(3):
        await redis_client.xadd(STREAM, encode_row(make_row(qr_id, visitor=f"v{n}")))  # type: ignore[arg-type]
    writer = ScanWriter(store, tmp_path, **FAST)
    drainer = StreamDrainer(redis_client, writer, block_ms=50)
    await writer.start()
    await drainer.start()
    await _wait_until(lambda: drainer.drained == 3)
    await drainer.aclose()
    await writer.aclose()
    assert count_scans(qr_id) == 3


async def test_bad_entries_are_dropped_not_retried(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    redis_client: aioredis.Redis, tmp_path: Path,
) -> None:  # fmt: skip
    await redis_client.xadd(STREAM, {"hello": "world"})
    await redis_client.xadd(STREAM, {"token": "t", "rows": "{not json"})
    await redis_client.xadd(STREAM, {"token": "t2", "rows": encode_rows([make_row(qr_id)])})
    writer = ScanWriter(store, tmp_path, **FAST)
    drainer = StreamDrainer(redis_client, writer, block_ms=50)
    await writer.start()
    await drainer.start()
    await _wait_until(lambda: drainer.drained == 1)
    await drainer.aclose()
    await writer.aclose()
    assert drainer.rejected == 2
    assert count_scans(qr_id) == 1
    assert await redis_client.xlen(STREAM) == 0


async def test_scans_an_earlier_redirector_kept_on_disk_are_sent_on(
    qr_id: str, make_row: RowFactory, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    spool = Spool(tmp_path / "stream-spool" / "0")
    spool.recover()
    spool.write(Batch("kept-1", tuple(make_row(qr_id, visitor=f"v{n}") for n in range(30))))
    await forward_old_stream_spool(tmp_path / "stream-spool", StreamSink(redis_client))
    entries: Any = await redis_client.xrange(STREAM)
    [(_, fields)] = entries
    assert fields[b"token"] == b"kept-1"
    assert len(decode_rows(fields[b"rows"])) == 30
    assert list((tmp_path / "stream-spool" / "0").glob("*.scans")) == []
