"""Live scan events: a ScanListener that announces each scan on `scans:{qr_id}`.

The GraphQL `scanCount` subscription listens there. `submit` runs on the scan
recorder's task and must not wait for the bus (Redis may be slow), so events go
through a bounded queue to a background publisher; when that queue is full the
event is dropped (and counted): a live counter missing a tick is better than
scans piling up in memory. `aclose` publishes whatever is queued before returning.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from core.bus import EventBus
from core.queues import DroppingQueue, drain_then_cancel
from core.scans import ScanRow
from core.timestamps import iso_millis

log = logging.getLogger(__name__)

_YIELD_EVERY = 128


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
        self._pending: DroppingQueue[ScanRow] = DroppingQueue("live scan queue", max_queue, log)
        self._queue = self._pending.queue
        self._task: asyncio.Task[None] | None = None

    @property
    def dropped(self) -> int:
        return self._pending.dropped

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-scan-publisher")

    def submit(self, row: ScanRow) -> None:
        if row.counted:  # refused requests and orphans are not scans of the link
            self._pending.put(row)

    async def aclose(self) -> None:
        await drain_then_cancel(self._queue, self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            rows = [await self._queue.get()]
            while len(rows) < _YIELD_EVERY and not self._queue.empty():
                rows.append(self._queue.get_nowait())
            try:
                # One round trip for the batch when the bus is Redis.
                await self._bus.publish_many(
                    [(scans_channel(row.qr_id), live_event(row)) for row in rows]
                )
            except Exception as exc:
                log.warning("%d live scan events not published (%s)", len(rows), exc)
            finally:
                for _ in rows:
                    self._queue.task_done()
            # An in-process bus never suspends, and neither does get() on a busy queue:
            # give the request handlers their turn between batches.
            await asyncio.sleep(0)
