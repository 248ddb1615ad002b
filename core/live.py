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
        self._pending.put(row)

    async def aclose(self) -> None:
        await drain_then_cancel(self._queue, self._task)
        self._task = None

    async def _run(self) -> None:
        published = 0
        while True:
            row = await self._queue.get()
            try:
                await self._bus.publish(scans_channel(row.qr_id), live_event(row))
            except Exception as exc:
                log.warning("live scan event for %s not published (%s)", row.qr_id, exc)
            finally:
                self._queue.task_done()
            published += 1
            if published % _YIELD_EVERY == 0:
                # An in-process bus never suspends, and neither does get() on a busy queue:
                # give the request handlers their turn now and then.
                await asyncio.sleep(0)
