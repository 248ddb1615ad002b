"""The scan journal: an append-only log of answered redirects on local disk, per process.

Layout (one claimed directory per redirecting process, `QRMINT_DATA_DIR/journal/N/`):

    .lock                      flock held for the life of the process that owns it
    id                         random id of this journal, written once; part of every key
    checkpoint                 what the consumer committed, and the batch it has in flight
    000000000042.log ...       segments of records (`redirector.journal_format`)

The redirect handler calls `record` before it sends the 302: one `os.write` of one record
to the current segment, opened with O_APPEND. No fsync there: once `write` returned, the
record survives the death of the process; a background task fdatasyncs the segment every
`sync_interval` seconds, which bounds what a power loss can take. A segment is sealed by
size or age; the next process that owns the directory never appends to an old segment,
it starts a new one, so a record's (segment, offset) is never reused, and that position
is what every idempotency key downstream is derived from. The consumer
(`redirector.consumer`) reads segments in order and deletes the ones it has committed past.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import anyio

from redirector.journal_format import RawScan, encode_scan, record_count

log = logging.getLogger(__name__)

SUFFIX = ".log"
_CHECKPOINT = "checkpoint"
_ID = "id"
_READ_CHUNK = 4 << 20


class Position(NamedTuple):
    segment: int
    offset: int


@dataclass(frozen=True)
class Checkpoint:
    """Everything before `committed` is stored by every durable sink. When `inflight_end`
    is past `committed.offset`, the batch [committed, inflight_end) of that segment may
    have reached some sinks: a restart must send exactly that batch again, with the same
    keys, before anything else."""

    committed: Position
    inflight_end: int

    @property
    def inflight(self) -> bool:
        return self.inflight_end > self.committed.offset

    def encode(self) -> str:
        return f"1 {self.committed.segment} {self.committed.offset} {self.inflight_end}\n"


START = Checkpoint(Position(0, 0), 0)


@dataclass(frozen=True)
class JournalStats:
    recorded: int  # records written by this process
    write_errors: int  # scans that could not be written (disk full, I/O error): lost
    backlog_rows: int  # records not yet committed by every durable sink
    backlog_bytes: int
    oldest_age: float  # seconds since the oldest uncommitted record was scanned; 0 if none
    segments: int


class Journal:
    def __init__(
        self,
        directory: Path,
        *,
        segment_bytes: int = 16 << 20,
        segment_seconds: float = 60.0,
        sync_interval: float = 1.0,
        warn_rows: int = 100_000,
        warn_age: float = 30.0,
    ) -> None:
        self.directory = directory
        self._segment_bytes = segment_bytes
        self._segment_seconds = segment_seconds
        self._sync_interval = sync_interval
        self._warn_rows, self._warn_age = warn_rows, warn_age
        self.id = ""
        self.checkpoint = START
        self._sealed: dict[int, int] = {}  # segment -> size, for segments no longer written
        self._segment = 0
        self._fd = -1
        self._end = 0
        self._opened_at = 0.0
        self._synced = 0  # bytes of the current segment known to be on disk
        self._unsynced_fds: list[tuple[int, int]] = []  # sealed segments awaiting fsync+close
        # Every fsync and close of a segment happens under this lock, so a descriptor is
        # never closed twice or synced after its close (its number may be reused by then).
        self._sync_lock = asyncio.Lock()
        self._pending_at_open = 0
        self.recorded = 0
        self.write_errors = 0
        self.consumed = 0
        self.oldest_pending_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._warned_at = 0.0

    # --- setting up (blocking: run in a worker thread) ---

    def open(self) -> Checkpoint:
        """Read the id, the checkpoint and the segments left here; start a new segment."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.id = _journal_id(self.directory / _ID)
        self.checkpoint = _read_checkpoint(self.directory / _CHECKPOINT)
        for segment in _segments(self.directory):
            path = self.segment_path(segment)
            if segment < self.checkpoint.committed.segment:
                path.unlink(missing_ok=True)  # committed past before a crash
                continue
            self._sealed[segment] = _sync_file(path)
            self._pending_at_open += self._count_after_checkpoint(segment)
        newest = max([self.checkpoint.committed.segment, *self._sealed])
        self._start_segment(newest + 1)
        return self.checkpoint

    def _count_after_checkpoint(self, segment: int) -> int:
        data = self.segment_path(segment).read_bytes()
        if segment == self.checkpoint.committed.segment:
            data = data[self.checkpoint.committed.offset :]
        return record_count(data)[0]

    # --- the hot path ---

    def record(self, scan: RawScan) -> None:
        """Append one scan; never raises (a redirect is answered whatever happens here)."""
        try:
            data = encode_scan(scan)
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(f"short write: {written} of {len(data)} bytes")
            self._end += written
            self.recorded += 1
            if self._end >= self._segment_bytes:
                self._rotate()
        except Exception as exc:
            self._write_failed(exc)

    def _write_failed(self, exc: Exception) -> None:
        self.write_errors += 1
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self._end)  # never leave half a record before the next
        if self.write_errors == 1 or self.write_errors % 1000 == 0:
            log.error("scan journal write failed, %d scans lost so far: %s", self.write_errors, exc)

    def _rotate(self) -> None:
        self._sealed[self._segment] = self._end
        self._unsynced_fds.append((self._segment, self._fd))
        self._start_segment(self._segment + 1)

    def _start_segment(self, segment: int) -> None:
        path = self.segment_path(segment)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        self._segment, self._end, self._synced = segment, 0, 0
        self._opened_at = time.monotonic()

    # --- reading, for the consumer ---

    def segment_path(self, segment: int) -> Path:
        return self.directory / f"{segment:012d}{SUFFIX}"

    @property
    def current(self) -> Position:
        return Position(self._segment, self._end)

    def readable_end(self, segment: int) -> int | None:
        """How far `segment` can be read (only whole records); None if it does not exist."""
        if segment == self._segment:
            return self._end
        return self._sealed.get(segment)

    def is_sealed(self, segment: int) -> bool:
        return segment in self._sealed

    def next_segment(self, after: int) -> int | None:
        later = [s for s in self._sealed if s > after]
        if later:
            return min(later)
        return self._segment if self._segment > after else None

    def read(self, position: Position, end: int) -> bytes:
        """The bytes of `position.segment` from its offset up to `end` (at most a chunk)."""
        length = min(end - position.offset, _READ_CHUNK)
        fd = os.open(self.segment_path(position.segment), os.O_RDONLY)
        try:
            return os.pread(fd, length, position.offset)
        finally:
            os.close(fd)

    async def sync_through(self, position: Position) -> None:
        """Make sure every record before `position` is on disk (before it is sent anywhere:
        after a power loss, no key may come back naming another scan)."""
        async with self._sync_lock:
            if position.segment != self._segment:
                await self._sync_sealed()
            elif self._synced < position.offset:
                await self._sync_current()

    async def save_checkpoint(self, checkpoint: Checkpoint, *, durable: bool) -> None:
        self.checkpoint = checkpoint
        path = self.directory / _CHECKPOINT
        await anyio.to_thread.run_sync(_write_atomically, path, checkpoint.encode(), durable)

    def remove_before(self, segment: int) -> None:
        """Delete sealed segments before `segment` (blocking; every sink is past them)."""
        for old in sorted(s for s in self._sealed if s < segment):
            self.segment_path(old).unlink(missing_ok=True)
            del self._sealed[old]

    def mark_consumed(self, rows: int, next_at: float | None) -> None:
        self.consumed += rows
        self.oldest_pending_at = next_at

    def stats(self) -> JournalStats:
        committed = self.checkpoint.committed
        sizes = {**self._sealed, self._segment: self._end}
        backlog_bytes = sum(size for s, size in sizes.items() if s >= committed.segment)
        if committed.segment in sizes:
            backlog_bytes -= committed.offset
        rows = max(0, self._pending_at_open + self.recorded - self.consumed)
        oldest = self.oldest_pending_at
        return JournalStats(
            recorded=self.recorded,
            write_errors=self.write_errors,
            backlog_rows=rows,
            backlog_bytes=max(0, backlog_bytes),
            oldest_age=max(0.0, time.time() - oldest) if rows and oldest else 0.0,
            segments=len(sizes),
        )

    # --- background: fsync, rotation by age, backlog warnings ---

    async def start(self) -> None:
        if not self.id:
            await anyio.to_thread.run_sync(self.open)
        self._task = asyncio.create_task(self._maintain(), name="scan-journal")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        async with self._sync_lock:
            if self._fd >= 0:
                await self._sync_sealed()
                await anyio.to_thread.run_sync(os.fdatasync, self._fd)
                os.close(self._fd)
                self._fd = -1

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self._sync_interval)
            try:
                await self._sync_once()
            except OSError as exc:
                log.error("scan journal sync failed: %s", exc)
            self._warn_about_backlog()

    async def _sync_once(self) -> None:
        age = time.monotonic() - self._opened_at
        if self._end and age >= self._segment_seconds:
            self._rotate()
        async with self._sync_lock:
            await self._sync_sealed()
            if self._synced < self._end:
                await self._sync_current()

    async def _sync_current(self) -> None:
        # The segment may be sealed while this runs: its descriptor then waits, unclosed,
        # in _unsynced_fds until this lock is free.
        segment, end = self._segment, self._end
        await anyio.to_thread.run_sync(os.fdatasync, self._fd)
        if segment == self._segment:
            self._synced = max(self._synced, end)

    async def _sync_sealed(self) -> None:
        while self._unsynced_fds:
            _, fd = self._unsynced_fds[0]
            await anyio.to_thread.run_sync(_sync_and_close, fd)
            self._unsynced_fds.pop(0)

    def _warn_about_backlog(self) -> None:
        stats = self.stats()
        behind = stats.backlog_rows > self._warn_rows or stats.oldest_age > self._warn_age
        now = time.monotonic()
        if behind and now - self._warned_at >= 30.0:
            self._warned_at = now
            log.warning(
                "scan journal backlog: %d scans (%d bytes), oldest %.0f s old; the sinks "
                "are behind or down, scans wait on disk",
                stats.backlog_rows, stats.backlog_bytes, stats.oldest_age,
            )  # fmt: skip
        elif not behind and self._warned_at:
            self._warned_at = 0.0
            log.info("scan journal backlog cleared: %d scans pending", stats.backlog_rows)


def _segments(directory: Path) -> list[int]:
    found = []
    for path in directory.glob(f"*{SUFFIX}"):
        stem = path.name.removesuffix(SUFFIX)
        if stem.isdigit():
            found.append(int(stem))
    return sorted(found)


def _journal_id(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        journal_id = secrets.token_hex(8)
        _write_atomically(path, journal_id + "\n", True)
        return journal_id


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        version, segment, offset, inflight_end = path.read_text().split()
    except FileNotFoundError:
        return START
    except ValueError:
        log.error("scan journal checkpoint %s is unreadable; replaying from the start", path)
        return START
    if version != "1":
        raise OSError(f"scan journal checkpoint {path} has version {version}, expected 1")
    return Checkpoint(Position(int(segment), int(offset)), int(inflight_end))


def _write_atomically(path: Path, text: str, durable: bool) -> None:
    partial = path.with_name(path.name + ".part")
    with partial.open("w") as handle:
        handle.write(text)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(partial, path)


def _sync_file(path: Path) -> int:
    """fsync a segment left by an earlier process (its pages may not be on disk yet)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def _sync_and_close(fd: int) -> None:
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)
