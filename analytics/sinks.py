"""The scan store as a durable sink of the journal consumer.

One insert per batch, from a worker thread, carrying the batch's token as ClickHouse's
insert deduplication token: the same journal range sent again (a retry after a lost
reply, a replay after a crash) is stored once, in `scans` and in the daily rollup its
materialized view feeds (`analytics.store.ScanStore.insert` asks for both). A failure
raises: the consumer retries with backoff while the scans wait in the journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import anyio

from analytics.writer import BatchInserter
from core.scans import ScanBatch


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
