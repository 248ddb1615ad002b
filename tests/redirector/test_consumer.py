"""The journal consumer: every journalled scan reaches every durable sink, exactly once,
through sink outages, a stop while a sink is down, and a crash with a batch in flight."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from redirector.consumer import ScanConsumer
from redirector.journal import Journal
from redirector.journal_format import encode_scan
from redirector.ledger import LocalLedger

from .journal_support import (
    RecordingListener,
    RecordingSink,
    enricher,
    raw_scan,
    wait_until,
)

FAST: dict[str, Any] = {"max_wait": 0.01, "poll": 0.005, "retry_first": 0.01, "retry_max": 0.05}


async def _journal(path: Path, **options: object) -> Journal:
    journal = Journal(path, **options)  # type: ignore[arg-type]
    await journal.start()
    return journal


async def test_every_scan_reaches_every_sink_once_in_order(tmp_path: Path) -> None:
    journal = await _journal(tmp_path, segment_bytes=4096)
    store, hooks, live = RecordingSink(), RecordingSink(), RecordingListener()
    consumer = ScanConsumer(journal, enricher(), [store, hooks], [live], max_rows=50, **FAST)
    await consumer.start()
    for n in range(500):
        journal.record(raw_scan(n, visitor="same" if n % 2 else None))
        if n % 100 == 0:
            await asyncio.sleep(0)
    await consumer.aclose()
    expected = [f"r{n}.example" for n in range(500)]
    assert store.referers == hooks.referers == expected
    assert [b.token for b in store.batches] == [b.token for b in live.batches]
    assert all(len(b.rows) <= 50 for b in store.batches)
    keys = [key for batch in store.batches for key in batch.keys]
    assert len(set(keys)) == 500
    assert all(key.startswith(journal.id) for key in keys)
    rows = [row for batch in store.batches for row in batch.rows]
    assert [r.is_unique for r in rows[:4]] == [True, True, True, False]  # "same" repeats
    assert (rows[0].country, rows[0].device) == ("DE", "mobile")
    assert journal.stats().backlog_rows == 0
    assert journal.stats().segments == 1  # committed segments were deleted
    await journal.aclose()


async def test_a_sink_that_is_down_holds_the_scans_on_disk(tmp_path: Path) -> None:
    journal = await _journal(tmp_path)
    store, hooks = RecordingSink(), RecordingSink(down=True)
    consumer = ScanConsumer(journal, enricher(), [store, hooks], max_rows=100, **FAST)
    await consumer.start()
    for n in range(300):
        journal.record(raw_scan(n))
    await wait_until(lambda: hooks.attempts >= 5)
    assert journal.checkpoint.inflight  # the first batch waits for the failing sink
    assert journal.stats().backlog_rows == 300
    assert consumer.stats().failing_sinks == ("RecordingSink",)
    attempts_on_store = store.attempts
    hooks.down = False
    await wait_until(lambda: journal.stats().backlog_rows == 0)
    await consumer.aclose()
    assert store.attempts == attempts_on_store + 2  # the healthy sink was not asked again
    assert hooks.referers == store.referers == [f"r{n}.example" for n in range(300)]
    await journal.aclose()


async def test_a_stop_while_a_sink_is_down_leaves_the_scans_for_the_next_start(
    tmp_path: Path,
) -> None:
    journal = await _journal(tmp_path)
    down = RecordingSink(down=True)
    consumer = ScanConsumer(journal, enricher(), [down], close_timeout=0.2, **FAST)
    await consumer.start()
    for n in range(20):
        journal.record(raw_scan(n))
    await consumer.aclose()
    await journal.aclose()
    assert down.batches == []

    journal = await _journal(tmp_path)
    assert journal.stats().backlog_rows == 20
    up = RecordingSink()
    consumer = ScanConsumer(journal, enricher(), [up], **FAST)
    await consumer.start()
    await consumer.aclose()
    assert up.referers == [f"r{n}.example" for n in range(20)]
    assert up.batches[0].replayed
    await journal.aclose()


async def test_a_batch_in_flight_at_a_crash_is_sent_again_identically(tmp_path: Path) -> None:
    ledger = LocalLedger()  # stands for Redis, which outlives the process
    journal = await _journal(tmp_path)
    held = RecordingSink(gate=asyncio.Event())
    consumer = ScanConsumer(journal, enricher(ledger), [held], max_rows=7, **FAST)
    await consumer.start()
    for n in range(10):
        journal.record(raw_scan(n, visitor="v"))
    await wait_until(lambda: held.attempts == 1)
    # The process dies: no aclose, the batch in flight was never confirmed.
    consumer._task.cancel()  # type: ignore[union-attr]
    os.close(journal._fd)
    journal._task.cancel()  # type: ignore[union-attr]
    inflight = journal.checkpoint
    assert inflight.inflight

    journal = await _journal(tmp_path)  # as the next process finds the directory
    sink = RecordingSink()
    consumer = ScanConsumer(journal, enricher(ledger), [sink], max_rows=1000, **FAST)
    await consumer.start()
    journal.record(raw_scan(10, visitor="v"))
    await wait_until(lambda: journal.stats().backlog_rows == 0)
    await consumer.aclose()
    first, *rest = sink.batches
    assert first.replayed
    assert len(first.rows) == 7  # the same cut, although 3 more scans were there to take
    assert first.token.endswith(f"-{inflight.committed.offset}-{inflight.inflight_end}")
    assert [r.is_unique for r in first.rows] == [True] + [False] * 6  # as the first attempt saw
    assert sink.referers == [f"r{n}.example" for n in range(11)]
    assert not any(batch.replayed for batch in rest)
    await journal.aclose()


async def test_a_torn_tail_left_by_a_power_loss_is_skipped(tmp_path: Path) -> None:
    journal = await _journal(tmp_path)
    for n in range(3):
        journal.record(raw_scan(n))
    segment = journal.current.segment
    await journal.aclose()
    with journal.segment_path(segment).open("ab") as handle:
        handle.write(encode_scan(raw_scan(3))[:-4])

    journal = await _journal(tmp_path)
    sink = RecordingSink()
    consumer = ScanConsumer(journal, enricher(), [sink], **FAST)
    await consumer.start()
    journal.record(raw_scan(4))
    await wait_until(lambda: len(sink.referers) == 4)
    await consumer.aclose()
    assert sink.referers == ["r0.example", "r1.example", "r2.example", "r4.example"]
    assert consumer.stats().corrupt == 1
    await journal.aclose()


async def test_a_quiet_redirector_still_sends_each_scan_promptly(tmp_path: Path) -> None:
    journal = await _journal(tmp_path)
    sink = RecordingSink()
    consumer = ScanConsumer(journal, enricher(), [sink], max_rows=10_000, max_wait=0.05)
    await consumer.start()
    journal.record(raw_scan(0))
    await wait_until(lambda: len(sink.referers) == 1, within=10)
    await consumer.aclose()
    await journal.aclose()
