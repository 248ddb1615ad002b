"""ScanWriter: batches from the stream made durable at once, stored or spooled, never lost."""

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
FAST: dict[str, Any] = {"retry_initial": 0.02, "retry_max": 0.2}


class FlakyStore:
    """The real store, but failing until `down_until`, or losing the reply."""

    def __init__(self, store: ScanStore, *, down_for: float = 0.0) -> None:
        self._store = store
        self.down_until = time.monotonic() + down_for
        self.lose_replies = 0  # insert, then pretend it failed: the retry must not duplicate
        self.attempts = 0

    def insert(self, rows: Sequence[ScanRow], *, token: str | None = None) -> None:
        self.attempts += 1
        if time.monotonic() < self.down_until:
            raise ConnectionError("store is down")
        self._store.insert(rows, token=token)
        if self.lose_replies:
            self.lose_replies -= 1
            raise TimeoutError("reply lost")


async def _wait_until(predicate: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def _names(directory: Path, pattern: str = "*") -> list[str]:
    return sorted(path.name for path in directory.glob(pattern))


async def test_an_outage_during_a_burst_loses_nothing(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    flaky = FlakyStore(store, down_for=0.5)
    writer = ScanWriter(flaky, tmp_path, **FAST)
    await writer.start()
    for batch in range(40):  # 20,000 rows in 40 batches, arriving during and after the outage
        rows = [make_row(qr_id, visitor=f"v{batch}-{n}") for n in range(500)]
        await writer.persist(rows, token=f"{qr_id}-{batch}")
        await asyncio.sleep(0.02)
    await _wait_until(lambda: writer.stats().pending == 0)
    await writer.aclose()
    stats = writer.stats()
    assert count_scans(qr_id) == 20_000
    assert stats.failures > 0
    assert stats.spooled > 0
    assert stats.replayed == stats.spooled
    assert stats.written == 20_000
    assert not _names(tmp_path, "*.scans")


async def test_spool_is_replayed_after_a_restart(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    first = ScanWriter(FlakyStore(store, down_for=3600), tmp_path, **FAST)
    await first.start()
    for batch in range(10):
        await first.persist([make_row(qr_id, visitor=f"v{batch}-{n}") for n in range(100)])
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


async def test_lost_reply_does_not_duplicate(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    flaky = FlakyStore(store)
    flaky.lose_replies = 1
    writer = ScanWriter(flaky, tmp_path, **FAST)
    await writer.start()
    await writer.persist([make_row(qr_id, visitor=f"v{n}") for n in range(100)], token="t" * 32)
    assert writer.stats().spooled == 100  # stored, but the writer could not know: spooled
    await _wait_until(lambda: writer.stats().pending == 0)
    await writer.aclose()
    assert flaky.attempts == 2
    assert count_scans(qr_id) == 100


async def test_bad_and_unfinished_spool_files_do_not_block(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int],
    tmp_path: Path,
) -> None:  # fmt: skip
    first = ScanWriter(FlakyStore(store, down_for=3600), tmp_path, **FAST)
    await first.start()
    await first.persist([make_row(qr_id)])
    await first.aclose()
    (tmp_path / "00000000000000000001-2-deadbeef.scans").write_text('{"qr_id": "x"}\n')
    (tmp_path / "00000000000000000002-1-cafe.scans.part").write_text("{")
    second = ScanWriter(store, tmp_path, **FAST)
    await second.start()
    await _wait_until(lambda: second.stats().pending == 0)
    await second.aclose()
    assert count_scans(qr_id) == 1
    assert _names(tmp_path) == ["00000000000000000001-2-deadbeef.scans.bad"]


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
