"""Live scan events: a ScanListener that announces each stored scan on `scans:{qr_id}`.

The GraphQL `scanCount` subscription listens there. The journal consumer hands over each
batch once every durable sink has it, so an event never announces a scan the store does
not have yet. `submit` must not wait for the bus (Redis may be slow): events go through a
bounded queue to a background publisher. Live counts are best effort but converge: when
events are dropped (queue full, bus down) or a batch is a replay after a crash (its
events may have gone out already), the affected channels get an overflow marker instead,
and subscribers re-read the stored totals. `aclose` publishes whatever is queued.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from core.bus import EventBus
from core.queues import DroppingQueue, drain_then_cancel
from core.scans import ScanBatch, ScanRow
from core.timestamps import iso_millis

log = logging.getLogger(__name__)

_YIELD_EVERY = 128
_MAX_RESYNC = 10_000
OVERFLOW_EVENT: dict[str, Any] = {"overflow": True}


def scans_channel(qr_id: str) -> str:
    return f"scans:{qr_id}"


def live_event(row: ScanRow) -> dict[str, Any]:
    return {
        "qr_id": row.qr_id,
        "scanned_at": iso_millis(row.scanned_at),
        "is_unique": row.is_unique,
        "is_bot": row.is_bot,
    }


class LiveScanPublisher:
    def __init__(self, bus: EventBus, *, max_queue: int = 10_000) -> None:
        self._bus = bus
        self._pending: DroppingQueue[ScanRow] = DroppingQueue(
            "live scan queue", max_queue, log, on_drop=self._resync_later
        )
        self._queue = self._pending.queue
        self._resync: set[str] = set()  # channels owed an overflow marker
        self._task: asyncio.Task[None] | None = None

    @property
    def dropped(self) -> int:
        return self._pending.dropped

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-scan-publisher")

    def submit(self, batch: ScanBatch) -> None:
        if batch.replayed:
            for row in batch.rows:
                self._resync_later(row)
            self._wake_for_resync()
            return
        for row in batch.rows:
            self._pending.put(row)

    async def aclose(self) -> None:
        await drain_then_cancel(self._queue, self._task)
        self._task = None

    def _resync_later(self, row: ScanRow) -> None:
        if len(self._resync) < _MAX_RESYNC:
            self._resync.add(row.qr_id)

    def _wake_for_resync(self) -> None:
        if self._queue.empty():  # the publisher sends markers with its next batch
            self._queue.put_nowait(_MARKER_ONLY)

    async def _run(self) -> None:
        while True:
            rows = [await self._queue.get()]
            while len(rows) < _YIELD_EVERY and not self._queue.empty():
                rows.append(self._queue.get_nowait())
            messages = [
                (scans_channel(r.qr_id), live_event(r)) for r in rows if r is not _MARKER_ONLY
            ]
            resync, self._resync = self._resync, set()
            messages += [(scans_channel(qr_id), OVERFLOW_EVENT) for qr_id in resync]
            try:
                if messages:  # one round trip for the batch when the bus is Redis
                    await self._bus.publish_many(messages)
            except Exception as exc:
                log.warning("%d live scan events not published (%s)", len(messages), exc)
                for row in rows:
                    if row is not _MARKER_ONLY:
                        self._resync_later(row)
                self._resync |= resync
            finally:
                for _ in rows:
                    self._queue.task_done()
            # An in-process bus never suspends, and neither does get() on a busy queue:
            # give the request handlers their turn between batches.
            await asyncio.sleep(0)


_MARKER_ONLY: Any = object()
