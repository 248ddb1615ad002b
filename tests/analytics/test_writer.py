from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from analytics.spool import claim_directory
from analytics.store import ScanStore
from analytics.writer import ScanWriter
from core.scans import ScanRow

RowFactory = Callable[..., ScanRow]
FAST: dict[str, Any] = {"flush_interval": 0.05, "retry_initial": 0.02, "retry_max": 0.2}


class FlakyStore:
    """The real store, but failing until `down_until`, slow, or losing the reply."""

    def __init__(self, store: ScanStore, *, down_for: float = 0.0, delay: float = 0.0) -> None:
        self._store = store
        self.down_until = time.monotonic() + down_for
        self.delay = delay
        self.lose_replies = 0  # insert, then pretend it failed: the retry must not duplicate
        self.attempts = 0

    def insert(self, rows: Sequence[ScanRow], *, token: str | None = None) -> None:
        self.attempts += 1
        time.sleep(self.delay)
        if time.monotonic() < self.down_until:
            raise ConnectionError("store is down")
        self._store.insert(rows, token=token)
        if self.lose_replies:
            self.lose_replies -= 1
            raise TimeoutError("reply lost")


async def _wait_until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def _names(directory: Path, pattern: str = "*") -> list[str]:
    return sorted(path.name for path in directory.glob(pattern))


async def _submit_over_time(
    writer: ScanWriter, rows: list[ScanRow], chunk: int, pause: float
) -> int:
    most_buffered = 0
    for start in range(0, len(rows), chunk):
        for row in rows[start : start + chunk]:
            writer.submit(row)
        most_buffered = max(most_buffered, writer.stats().buffered)
        await asyncio.sleep(pause)
    return most_buffered


async def test_outage_under_load_loses_nothing(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    flaky = FlakyStore(store, down_for=1.0)
    writer = ScanWriter(flaky, tmp_path, batch_size=500, max_buffered=2000, **FAST)
    await writer.start()
    rows = [make_row(qr_id, visitor=f"v{n}") for n in range(20_000)]
    most_buffered = await _submit_over_time(writer, rows, chunk=500, pause=0.03)
    await _wait_until(lambda: writer.stats().pending == 0)
    await writer.aclose()
    stats = writer.stats()
    assert count_scans(qr_id) == 20_000
    assert stats.failures > 0
    assert stats.spooled > 0
    assert stats.replayed == stats.spooled
    assert stats.written == 20_000
    # The bound is soft (chunks keep arriving while a spill is fsynced), but memory stays
    # far below the 20,000 rows submitted during the outage.
    assert most_buffered <= 2000 + 6 * 500
    assert not _names(tmp_path, "*.scans")


async def test_slow_store_spills_to_disk(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    slow = FlakyStore(store, delay=0.3)
    writer = ScanWriter(slow, tmp_path, batch_size=200, max_buffered=1000, **FAST)
    await writer.start()
    rows = [make_row(qr_id, visitor=f"v{n}") for n in range(5000)]
    most_buffered = await _submit_over_time(writer, rows, chunk=100, pause=0.01)
    slow.delay = 0.0
    await writer.aclose()
    assert writer.stats().spooled > 0
    # A soft bound: rows arriving while a batch is being fsynced wait for the next spill.
    assert most_buffered <= 2 * 1000
    assert count_scans(qr_id) == 5000


async def test_spool_is_replayed_after_a_restart(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    down = FlakyStore(store, down_for=3600)
    first = ScanWriter(down, tmp_path, batch_size=100, **FAST)
    await first.start()
    for n in range(1000):
        first.submit(make_row(qr_id, visitor=f"v{n}"))
    await first.aclose()
    assert (first.stats().spooled, first.stats().written) == (1000, 0)
    assert count_scans(qr_id) == 0

    second = ScanWriter(store, tmp_path, **FAST)
    await second.start()
    assert second.stats().spool_rows == 1000
    await _wait_until(lambda: second.stats().pending == 0)
    await second.aclose()
    assert second.stats().replayed == 1000
    assert count_scans(qr_id) == 1000
    assert not _names(tmp_path)


async def test_aclose_flushes_a_partial_batch(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    writer = ScanWriter(store, tmp_path, batch_size=10_000, flush_interval=60)
    await writer.start()
    for n in range(37):
        writer.submit(make_row(qr_id, visitor=f"v{n}"))
    await writer.aclose()
    assert count_scans(qr_id) == 37
    assert writer.stats().spooled == 0


async def test_batches_are_written_by_time(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    writer = ScanWriter(store, tmp_path, batch_size=10_000, **FAST)
    await writer.start()
    for n in range(3):
        writer.submit(make_row(qr_id, visitor=f"v{n}"))
    await _wait_until(lambda: count_scans(qr_id) == 3)
    await writer.aclose()


async def test_lost_reply_does_not_duplicate(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    flaky = FlakyStore(store)
    flaky.lose_replies = 2
    writer = ScanWriter(flaky, tmp_path, batch_size=50, **FAST)
    await writer.start()
    for n in range(100):
        writer.submit(make_row(qr_id, visitor=f"v{n}"))
    await _wait_until(lambda: writer.stats().pending == 0)
    await writer.aclose()
    assert flaky.attempts >= 4
    assert count_scans(qr_id) == 100


async def test_persist_spools_when_the_store_is_down(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    flaky = FlakyStore(store, down_for=0.3)
    writer = ScanWriter(flaky, tmp_path, **FAST)
    await writer.start()
    await writer.persist([make_row(qr_id, visitor=f"v{n}") for n in range(10)], token="t" * 32)
    assert writer.stats().spooled == 10
    assert len(_names(tmp_path, "*.scans")) == 1
    await _wait_until(lambda: writer.stats().pending == 0)
    await writer.aclose()
    assert count_scans(qr_id) == 10


async def test_bad_and_unfinished_spool_files_do_not_block(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    down = FlakyStore(store, down_for=3600)
    first = ScanWriter(down, tmp_path, **FAST)
    await first.start()
    first.submit(make_row(qr_id))
    await first.aclose()
    (tmp_path / "00000000000000000001-2-deadbeef.scans").write_text('{"qr_id": "x"}\n')
    (tmp_path / "00000000000000000002-1-cafe.scans.part").write_text("{")
    second = ScanWriter(store, tmp_path, **FAST)
    await second.start()
    await _wait_until(lambda: second.stats().pending == 0)
    await second.aclose()
    assert count_scans(qr_id) == 1
    assert _names(tmp_path) == ["00000000000000000001-2-deadbeef.scans.bad"]


class _NoStore:
    def insert(self, rows: Sequence[ScanRow], *, token: str | None = None) -> None:
        raise AssertionError("not reached")


def test_submit_never_raises(tmp_path: Path, make_row: RowFactory) -> None:
    writer = ScanWriter(_NoStore(), tmp_path)
    writer._rows = None  # type: ignore[assignment]  # break it on purpose
    writer.submit(make_row("qr"))


@pytest.mark.parametrize("rows", [0, 1])
async def test_persist_of_nothing_or_one(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path, rows: int,
) -> None:  # fmt: skip
    writer = ScanWriter(store, tmp_path, **FAST)
    await writer.start()
    await writer.persist([make_row(qr_id) for _ in range(rows)])
    await writer.aclose()
    assert count_scans(qr_id) == rows


def test_each_writer_process_claims_its_own_spool_directory(tmp_path: Path) -> None:
    first, first_lock = claim_directory(tmp_path)
    second, second_lock = claim_directory(tmp_path)
    assert (first.name, second.name) == ("0", "1")
    os.close(first_lock)  # the first process ended: the next one takes over its spool
    third, third_lock = claim_directory(tmp_path)
    assert third == first
    for lock in (second_lock, third_lock):
        os.close(lock)
