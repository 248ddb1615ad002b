"""ScanWriter: batches that arrive from outside this process, made durable at once.

The stream drainer acknowledges a stream entry only once its rows are durable here:
`persist` inserts the batch into the store with the batch's deduplication token, or, when
the store fails, writes it to the on-disk spool (fsynced) and returns. A background task
replays the spool with backoff once the store answers again, and at the next start.
The token travels with the batch through the spool, so a batch stored, spooled after a
lost reply, and replayed is kept once (while the token is inside the table's
deduplication window).

Scans of this process's own redirects do not come here: they wait in the scan journal
and go straight to the store (`analytics.sinks.StoreSink`).
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
from core.retrying import Backoff
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
    spool_rows: int  # rows on disk, not yet stored

    @property
    def pending(self) -> int:
        return self.spool_rows


class ScanWriter:
    def __init__(
        self,
        store: BatchInserter,
        spool_dir: Path,
        *,
        retry_initial: float = 0.25,
        retry_max: float = 30.0,
    ) -> None:
        self._store = store
        self._spool = Spool(spool_dir)
        self._backoff = Backoff(retry_initial, retry_max)
        self._retry_at = 0.0
        self._spool_files: deque[SpoolFile] = deque()
        self._counts = {"written": 0, "spooled": 0, "replayed": 0, "failures": 0, "spool": 0}
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def stats(self) -> WriterStats:
        counts = self._counts
        return WriterStats(
            written=counts["written"],
            spooled=counts["spooled"],
            replayed=counts["replayed"],
            failures=counts["failures"],
            spool_rows=counts["spool"],
        )

    async def start(self) -> None:
        """Pick up batches spooled by an earlier run, then replay them in the background."""
        for entry in await anyio.to_thread.run_sync(self._spool.recover):
            self._add_spool_file(entry)
        self._task = asyncio.create_task(self._replay_loop(), name="scan-spool-replay")

    async def aclose(self) -> None:
        """Stop replaying; what is still spooled is replayed at the next start."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def persist(self, rows: Sequence[ScanRow], *, token: str | None = None) -> None:
        """Make `rows` durable now: stored, or else spooled; raises OSError if neither worked."""
        batch = Batch(token, tuple(rows)) if token else new_batch(tuple(rows))
        if not batch.rows:
            return
        if not self._backing_off() and await self._insert(batch):
            self._counts["written"] += len(batch.rows)
            return
        entry = await anyio.to_thread.run_sync(self._spool.write, batch)
        self._counts["spooled"] += len(batch.rows)
        self._add_spool_file(entry)
        self._wake.set()

    async def _replay_loop(self) -> None:
        while not self._closing:
            if self._spool_files and not self._backing_off():
                await self._replay_one()
                continue
            timeout = max(0.05, self._retry_at - asyncio.get_running_loop().time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()

    async def _replay_one(self) -> None:
        entry = self._spool_files.popleft()
        try:
            batch = await anyio.to_thread.run_sync(self._spool.read, entry)
        except SpoolCorrupt:
            await anyio.to_thread.run_sync(self._spool.quarantine, entry)
            self._counts["spool"] -= entry.rows
            return
        if not await self._insert(batch):
            self._spool_files.appendleft(entry)
            return
        await anyio.to_thread.run_sync(self._spool.remove, entry)
        self._counts["written"] += len(batch.rows)
        self._counts["replayed"] += len(batch.rows)
        self._counts["spool"] -= entry.rows

    async def _insert(self, batch: Batch) -> bool:
        insert = partial(self._store.insert, batch.rows, token=batch.token)
        try:
            await anyio.to_thread.run_sync(insert)
        except Exception as exc:
            self._counts["failures"] += 1
            delay = self._backoff.failed()
            self._retry_at = asyncio.get_running_loop().time() + delay
            log.warning("scan store insert failed (retry in %.2fs): %s", delay, exc)
            return False
        self._backoff.succeeded()
        self._retry_at = 0.0
        return True

    def _backing_off(self) -> bool:
        return asyncio.get_running_loop().time() < self._retry_at

    def _add_spool_file(self, entry: SpoolFile) -> None:
        self._spool_files.append(entry)
        self._counts["spool"] += entry.rows
