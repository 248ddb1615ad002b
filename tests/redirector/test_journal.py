"""The scan journal on disk: appends, segments, ids, checkpoints, what a restart finds."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import anyio
import pytest

import redirector.journal as journal_module
from redirector.journal import Checkpoint, Journal, Position
from redirector.journal_format import decode_scan, encode_scan

from .journal_support import raw_scan, wait_until


async def test_records_are_readable_at_once_and_survive_a_restart(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    await journal.start()
    for n in range(5):
        journal.record(raw_scan(n))
    position = Position(journal.current.segment, 0)
    data = journal.read(position, journal.readable_end(position.segment) or 0)
    assert decode_scan(data, 0)[0].referer == "https://r0.example/"
    journal_id, segment = journal.id, journal.current.segment
    await journal.aclose()

    again = Journal(tmp_path)
    await again.start()
    assert again.id == journal_id  # keys stay the same for the scans left here
    assert again.current == Position(segment + 1, 0)  # an old segment is never appended to
    assert again.is_sealed(segment)
    assert again.readable_end(segment) == len(data)
    assert again.next_segment(segment) == segment + 1
    assert again.stats().backlog_rows == 5
    await again.aclose()


async def test_segments_rotate_by_size_and_are_removed_once_committed(tmp_path: Path) -> None:
    size = len(encode_scan(raw_scan(0)))
    journal = Journal(tmp_path, segment_bytes=3 * size)
    await journal.start()
    for n in range(10):
        journal.record(raw_scan(n))
    first = journal.current.segment - 3
    assert [journal.readable_end(first + i) for i in range(4)] == [3 * size] * 3 + [size]
    assert journal.stats().segments == 4
    journal.remove_before(first + 2)
    segments = sorted(name for name in os.listdir(tmp_path) if name.endswith(".log"))
    assert segments == [f"{first + 2:012d}.log", f"{first + 3:012d}.log"]
    await journal.aclose()


async def test_segments_rotate_by_age(tmp_path: Path) -> None:
    journal = Journal(tmp_path, segment_seconds=0.0, sync_interval=0.01)
    await journal.start()
    journal.record(raw_scan())
    first = journal.current.segment
    await wait_until(lambda: journal.current.segment != first)
    assert journal.is_sealed(first)
    await journal.aclose()


async def test_a_failed_write_is_counted_and_never_raises(tmp_path: Path, caplog) -> None:
    journal = Journal(tmp_path)
    await journal.start()
    fd = journal._fd
    os.close(fd)
    journal._fd = os.open(os.devnull, os.O_RDONLY)  # every write now fails
    journal.record(raw_scan())
    assert journal.stats().write_errors == 1
    assert "scan journal write failed" in caplog.text
    os.close(journal._fd)
    journal._fd = -1


async def test_open_forgets_segments_the_checkpoint_is_past(tmp_path: Path) -> None:
    journal = Journal(tmp_path, segment_bytes=1)
    await journal.start()
    for n in range(3):
        journal.record(raw_scan(n))
    last = journal.current.segment
    await journal.save_checkpoint(Checkpoint(Position(last - 1, 0), 0), durable=True)
    await journal.aclose()
    again = Journal(tmp_path)
    checkpoint = await anyio.to_thread.run_sync(again.open)
    assert checkpoint.committed == Position(last - 1, 0)
    assert not again.segment_path(last - 2).exists()
    assert again.stats().backlog_rows == 1
    os.close(again._fd)


async def test_a_growing_backlog_is_logged(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    journal = Journal(tmp_path, sync_interval=0.01, warn_rows=3)
    await journal.start()
    for n in range(5):
        journal.record(raw_scan(n))
    await wait_until(lambda: "scan journal backlog: 5 scans" in caplog.text)
    stats = journal.stats()
    assert (stats.recorded, stats.backlog_rows) == (5, 5)
    assert stats.backlog_bytes == 5 * len(encode_scan(raw_scan(0)))
    await journal.aclose()


def test_a_checkpoint_of_another_version_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "checkpoint").write_text("9 1 2 3\n")
    with pytest.raises(OSError, match="version 9"):
        Journal(tmp_path).open()


async def test_a_sealed_segment_is_closed_once_however_many_syncs_race(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Closing a descriptor twice can close one the store opened meanwhile (same number).
    closed: list[int] = []
    real = journal_module._sync_and_close

    def recording(fd: int) -> None:
        closed.append(fd)
        real(fd)

    monkeypatch.setattr(journal_module, "_sync_and_close", recording)
    journal = Journal(tmp_path, segment_bytes=1, sync_interval=0.001)
    await journal.start()
    for n in range(200):
        journal.record(raw_scan(n))  # every record seals a segment
        await asyncio.gather(*(journal.sync_through(Position(0, 0)) for _ in range(3)))
    await journal.aclose()
    assert len(closed) == 200
