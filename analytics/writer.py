"""ScanWriter: scans from the redirect path into the store in batches, and never lost.

`submit` only appends to memory. A background task seals batches (by count and by time)
and inserts them from a worker thread. When the store fails or is slow, batches wait in
memory up to `max_buffered` rows; beyond that the newest go to the on-disk spool, which is
replayed (interleaved with fresh batches) once the store answers again, and at the next
start. Each batch keeps one insert-deduplication token through retries, spooling and
replay, so a retry after an insert that did land is stored once: delivery is exactly-once
per batch while the token is inside the table's deduplication window, at-least-once beyond.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import anyio

from analytics.spool import Batch, Spool, SpoolCorrupt, SpoolFile, new_batch
from core.scans import ScanRow

log = logging.getLogger(__name__)


class BatchInserter(Protocol):
    """What the writer needs of a store (analytics.store.ScanStore has it)."""

    def insert(self, rows: Sequence[ScanRow], *, token: str | None = None) -> None: ...


@dataclass(frozen=True)
class WriterStats:
    written: int  # rows stored, fresh or replayed from the spool
    spooled: int  # rows written to the spool
    replayed: int  # rows stored from the spool
    failures: int  # failed insert attempts
    buffered: int  # rows in memory, not yet stored
    spool_rows: int  # rows on disk, not yet stored

    @property
    def pending(self) -> int:
        return self.buffered + self.spool_rows


class ScanWriter:
    """A core.scans.ScanListener; call `submit` from the event loop's thread."""

    def __init__(
        self,
        store: BatchInserter,
        spool_dir: Path,
        *,
        batch_size: int = 10_000,
        flush_interval: float = 1.0,
        max_buffered: int = 200_000,
        retry_initial: float = 0.25,
        retry_max: float = 30.0,
    ) -> None:
        self._store = store
        self._spool = Spool(spool_dir)
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._max_buffered = max_buffered
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._delay = retry_initial
        self._retry_at = 0.0
        self._rows: list[ScanRow] = []
        self._ready: deque[Batch] = deque()
        self._spool_files: deque[SpoolFile] = deque()
        self._buffered = 0  # rows in _rows, _ready and in flight
        self._counts = {"written": 0, "spooled": 0, "replayed": 0, "failures": 0, "spool": 0}
        self._replay_turn = False
        self._wake = asyncio.Event()
        self._spill = asyncio.Event()
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []

    def submit(self, row: ScanRow) -> None:
        try:
            self._rows.append(row)
            self._buffered += 1
            if len(self._rows) >= self._batch_size:
                self._wake.set()
            if self._buffered > self._max_buffered:
                self._spill.set()
        except Exception:  # the redirect must answer whatever happens here
            log.exception("could not buffer a scan")

    def stats(self) -> WriterStats:
        counts = self._counts
        return WriterStats(
            written=counts["written"],
            spooled=counts["spooled"],
            replayed=counts["replayed"],
            failures=counts["failures"],
            buffered=self._buffered,
            spool_rows=counts["spool"],
        )

    async def start(self) -> None:
        """Pick up batches spooled by an earlier run, then start writing in the background."""
        for entry in await anyio.to_thread.run_sync(self._spool.recover):
            self._add_spool_file(entry)
        self._tasks = [asyncio.create_task(self._run()), asyncio.create_task(self._spill_loop())]

    async def aclose(self) -> None:
        """Store (or, if the store is down, spool) every buffered row, then stop."""
        self._closing = True
        self._wake.set()
        self._spill.set()
        for task in self._tasks:
            await task
        self._tasks = []

    async def persist(self, rows: Sequence[ScanRow], *, token: str | None = None) -> None:
        """Make `rows` durable now: stored, or else spooled; raises OSError if neither worked."""
        batch = Batch(token, tuple(rows)) if token else new_batch(tuple(rows))
        if not batch.rows:
            return
        if not self._backing_off() and await self._insert(batch):
            self._counts["written"] += len(batch.rows)
            return
        await self._write_spool(batch)

    async def _run(self) -> None:
        while not self._closing:
            await self._wait_for_work()
            self._seal(partial_batch=True)
            await self._drain()
        await self._drain()
        await self._spill_everything()

    async def _wait_for_work(self) -> None:
        timeout = self._flush_interval
        if self._backing_off():
            timeout = max(0.0, self._retry_at - asyncio.get_running_loop().time())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    def _seal(self, *, partial_batch: bool) -> None:
        size = self._batch_size
        while len(self._rows) >= size or (partial_batch and self._rows):
            chunk, self._rows = self._rows[:size], self._rows[size:]
            self._ready.append(new_batch(tuple(chunk)))

    async def _drain(self) -> None:
        while not self._backing_off():
            self._seal(partial_batch=self._closing)
            job = await self._next_job()
            if job is None:
                return
            batch, entry = job
            if not await self._insert(batch):
                self._requeue(batch, entry)
                return
            self._counts["written"] += len(batch.rows)
            if entry is None:
                self._buffered -= len(batch.rows)
            else:
                await anyio.to_thread.run_sync(self._spool.remove, entry)
                self._counts["replayed"] += len(batch.rows)
                self._counts["spool"] -= entry.rows

    async def _next_job(self) -> tuple[Batch, SpoolFile | None] | None:
        # Alternate between fresh and spooled batches so neither starves the other.
        self._replay_turn = not self._replay_turn
        while self._spool_files and (self._replay_turn or not self._ready):
            entry = self._spool_files.popleft()
            try:
                return await anyio.to_thread.run_sync(self._spool.read, entry), entry
            except SpoolCorrupt:
                await anyio.to_thread.run_sync(self._spool.quarantine, entry)
                self._counts["spool"] -= entry.rows
        return (self._ready.popleft(), None) if self._ready else None

    def _requeue(self, batch: Batch, entry: SpoolFile | None) -> None:
        if entry is None:
            self._ready.appendleft(batch)
        else:
            self._spool_files.appendleft(entry)

    async def _insert(self, batch: Batch) -> bool:
        insert = partial(self._store.insert, batch.rows, token=batch.token)
        try:
            await anyio.to_thread.run_sync(insert)
        except Exception as exc:
            self._counts["failures"] += 1
            self._retry_at = asyncio.get_running_loop().time() + self._delay
            log.warning("scan store insert failed (retry in %.2fs): %s", self._delay, exc)
            self._delay = min(self._delay * 2, self._retry_max)
            return False
        self._delay = self._retry_initial
        self._retry_at = 0.0
        return True

    def _backing_off(self) -> bool:
        return asyncio.get_running_loop().time() < self._retry_at

    async def _spill_loop(self) -> None:
        while not self._closing:
            await self._spill.wait()
            self._spill.clear()
            while self._buffered > self._max_buffered and not self._closing:
                self._seal(partial_batch=True)
                if not self._ready or not await self._spill_newest():
                    break

    async def _spill_everything(self) -> None:
        self._seal(partial_batch=True)
        while self._ready:
            if not await self._spill_newest():
                log.error("%d scans could not be stored nor spooled", self._buffered)
                return

    async def _spill_newest(self) -> bool:
        # The newest batch goes to disk: the oldest stays first in line for the store.
        batch = self._ready.pop()
        try:
            await self._write_spool(batch)
        except OSError:
            log.exception("could not spool %d scans", len(batch.rows))
            self._ready.append(batch)
            return False
        self._buffered -= len(batch.rows)
        return True

    async def _write_spool(self, batch: Batch) -> None:
        entry = await anyio.to_thread.run_sync(self._spool.write, batch)
        self._counts["spooled"] += len(batch.rows)
        self._add_spool_file(entry)

    def _add_spool_file(self, entry: SpoolFile) -> None:
        self._spool_files.append(entry)
        self._counts["spool"] += entry.rows
