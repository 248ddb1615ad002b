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
    def __init__(self, bus: EventBus, *, max_batches: int = 64) -> None:
        self._bus = bus
        self._pending: DroppingQueue[ScanBatch] = DroppingQueue(
            "live scan queue", max_batches, log, on_drop=self._resync_later
        )
        self._queue = self._pending.queue
        self._resync: set[str] = set()  # channels owed an overflow marker
        self._task: asyncio.Task[None] | None = None

    @property
    def dropped(self) -> int:
        """Batches whose events were replaced by overflow markers (the scans are stored)."""
        return self._pending.dropped

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-scan-publisher")

    def submit(self, batch: ScanBatch) -> None:
        if batch.replayed:  # its events may have gone out before the crash
            self._resync_later(batch)
            batch = ScanBatch(batch.token, (), ())
        self._pending.put(batch)

    async def aclose(self) -> None:
        await drain_then_cancel(self._queue, self._task)
        self._task = None

    def _resync_later(self, batch: ScanBatch) -> None:
        for row in batch.rows:
            if len(self._resync) >= _MAX_RESYNC:
                return
            self._resync.add(row.qr_id)

    async def _run(self) -> None:
        while True:
            batch = await self._queue.get()
            try:
                await self._publish(batch)
            finally:
                self._queue.task_done()

    async def _publish(self, batch: ScanBatch) -> None:
        rows = batch.rows
        for first in range(0, max(len(rows), 1), _YIELD_EVERY):
            chunk = rows[first : first + _YIELD_EVERY]
            # Refused requests and orphans are not scans of the link (docs/links.md).
            messages = [(scans_channel(r.qr_id), live_event(r)) for r in chunk if r.counted]
            resync, self._resync = self._resync, set()
            messages += [(scans_channel(qr_id), OVERFLOW_EVENT) for qr_id in resync]
            try:
                if messages:  # one round trip per chunk when the bus is Redis
                    await self._bus.publish_many(messages)
            except Exception as exc:
                log.warning("%d live scan events not published (%s)", len(messages), exc)
                self._resync_later(ScanBatch(batch.token, chunk, ()))
                self._resync |= resync
            # An in-process bus never suspends: give the request handlers their turn.
            await asyncio.sleep(0)
