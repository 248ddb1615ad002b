"""The webhook outbox: a durable sink of the journal consumer; scans in, delivery rows out.

For each batch of scans, every non-bot scan of an account with enabled endpoints becomes
one `WebhookDelivery` row per endpoint, written in bulk; from there on the database is
the queue. Nothing waits in memory: until the rows are written, the scans wait in the
journal, and a failed write raises so the consumer retries it. The event id is derived
from the scan's journal key, and (event_id, endpoint_id) is unique, so a batch written
again after a crash or a lost reply adds nothing (inserts ignore conflicts): every scan
becomes its deliveries at least once, and exactly once as rows.

Bot scans are skipped: analytics leaves them out too, and a webhook per crawler hit is
noise a receiver would have to filter anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from core.models import WebhookDelivery
from core.scans import ScanBatch
from core.webhooks.cache import EndpointCache, shared_cache
from core.webhooks.events import event_id_for, scan_event

log = logging.getLogger("qrmint.webhooks.outbox")
Clock = Callable[[], datetime]
_INSERT_CHUNK = 1000
_YIELD_EVERY = 128


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OutboxStats:
    batches: int
    deliveries: int  # delivery rows offered to the database (duplicates of a replay included)


class WebhookOutbox:
    """A `core.scans.ScanSink` that enqueues webhook deliveries."""

    def __init__(
        self,
        *,
        clock: Clock = utcnow,
        cache: EndpointCache | None = None,
        on_written: Callable[[], None] | None = None,
    ) -> None:
        self._clock = clock
        self._cache = cache or shared_cache
        self._on_written = on_written
        self.batches = 0
        self.deliveries = 0

    def stats(self) -> OutboxStats:
        return OutboxStats(self.batches, self.deliveries)

    async def commit(self, batch: ScanBatch) -> None:
        deliveries = await self._deliveries_for(batch)
        if deliveries:
            try:
                await self._insert(deliveries)
            except IntegrityError:
                # An endpoint was deleted since it was cached: ask again, then write.
                self._cache.clear()
                await self._insert(await self._deliveries_for(batch))
            if self._on_written is not None:
                self._on_written()
        self.batches += 1
        self.deliveries += len(deliveries)

    async def _deliveries_for(self, batch: ScanBatch) -> list[WebhookDelivery]:
        now = self._clock()
        deliveries = []
        for index, (row, key) in enumerate(zip(batch.rows, batch.keys, strict=True)):
            if index % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)  # the redirect handler shares this event loop
            if row.is_bot or not row.counted:  # links: refused requests are not scans
                continue
            endpoint_ids = await self._cache.enabled_endpoints(row.account_id)
            if not endpoint_ids:
                continue
            event_id = event_id_for(key)
            payload = scan_event(event_id, row, now)
            deliveries += [
                WebhookDelivery(
                    event_id=event_id, endpoint_id=eid, payload=payload, next_attempt_at=now
                )
                for eid in endpoint_ids
            ]
        return deliveries

    async def _insert(self, deliveries: list[WebhookDelivery]) -> None:
        await WebhookDelivery.bulk_create(
            deliveries, batch_size=_INSERT_CHUNK, ignore_conflicts=True
        )
