"""The scan store as a durable sink of the journal consumer.

One insert per batch, from a worker thread, carrying the batch's token as ClickHouse's
insert deduplication token: the same journal range sent again (a retry after a lost
reply, a replay after a crash) is stored once, in `scans` and in the daily rollup its
materialized view feeds (`analytics.store.ScanStore.insert` asks for both). A failure
raises: the consumer retries with backoff while the scans wait in the journal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anyio

from analytics.spool import Batch, Spool, SpoolCorrupt
from analytics.writer import BatchInserter
from core.scans import ScanBatch, ScanSink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreSinkStats:
    written: int  # rows stored (a replayed batch counts again; the store keeps one copy)
    failures: int


class StoreSink:
    def __init__(self, store: BatchInserter) -> None:
        self._store = store
        self.written = 0
        self.failures = 0

    async def commit(self, batch: ScanBatch) -> None:
        insert = partial(self._store.insert, batch.rows, token=batch.token)
        try:
            await anyio.to_thread.run_sync(insert)
        except Exception:
            self.failures += 1
            raise
        self.written += len(batch.rows)

    def stats(self) -> StoreSinkStats:
        return StoreSinkStats(self.written, self.failures)


async def forward_old_stream_spool(root: Path, sink: ScanSink) -> None:
    """Send on the scans an earlier version's redirector kept on disk (under `root`) when
    Redis was down at its stop; each spooled batch keeps its token. Left for the next
    start if the sink fails now."""
    for entry in await anyio.to_thread.run_sync(_old_spool_batches, root):
        path, batch = entry
        try:
            await sink.commit(ScanBatch(batch.token, batch.rows, ()))
        except Exception as exc:
            log.warning("scans kept by an earlier version wait for the next start: %s", exc)
            return
        await anyio.to_thread.run_sync(partial(path.unlink, missing_ok=True))


def _old_spool_batches(root: Path) -> list[tuple[Path, Batch]]:
    found = []
    for directory in sorted(root.glob("*")) if root.is_dir() else []:
        spool = Spool(directory)
        for entry in spool.recover():
            try:
                found.append((entry.path, spool.read(entry)))
            except SpoolCorrupt:
                spool.quarantine(entry)
    return found
