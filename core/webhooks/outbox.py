"""The webhook outbox: scans in, durable delivery rows out.

`submit` runs on the redirect path, so it only appends to an in-memory deque (bounded:
when full, scans are dropped and counted rather than slowing redirects). A background task
turns batches of scans into `WebhookDelivery` rows, one per enabled endpoint of the scan's
account; from there on the database is the queue and deliveries survive restarts. Scans
still in memory when the process dies uncleanly are lost; `aclose` drains them.

Bot scans are skipped: analytics leaves them out too, and a webhook per crawler hit is
noise a receiver would have to filter anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from core.models import WebhookDelivery
from core.scans import ScanRow
from core.webhooks.cache import EndpointCache, shared_cache
from core.webhooks.events import new_event_id, scan_event

log = logging.getLogger("qrmint.webhooks.outbox")
Clock = Callable[[], datetime]
_RETRY_FIRST = 0.1  # seconds
_RETRY_MAX = 5.0
_CLOSING_ATTEMPTS = 3


def utcnow() -> datetime:
    return datetime.now(UTC)


class WebhookOutbox:
    """A `core.scans.ScanListener` that enqueues webhook deliveries."""

    def __init__(
        self,
        *,
        clock: Clock = utcnow,
        cache: EndpointCache | None = None,
        max_pending: int = 10_000,
        batch_size: int = 500,
        on_written: Callable[[], None] | None = None,
    ) -> None:
        self._clock = clock
        self._cache = cache or shared_cache
        self._max_pending = max_pending
        self._batch_size = batch_size
        self._on_written = on_written
        self._pending: deque[ScanRow] = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def submit(self, row: ScanRow) -> None:
        if row.is_bot or not row.counted:  # links: refused requests are not scans
            return
        if len(self._pending) >= self._max_pending:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("webhook outbox full: %d scans' webhooks dropped", self.dropped)
            return
        self._pending.append(row)
        self._wakeup.set()

    async def start(self) -> None:
        if self._task is None:
            self._closing = False
            self._task = asyncio.create_task(self._run(), name="qrmint-webhook-outbox")

    async def aclose(self) -> None:
        """Write everything submitted so far, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def flush(self) -> None:
        """Write everything submitted so far (tests, benchmarks, shutdown).

        A failed batch goes back to the head of the queue and is retried with backoff; only
        a stop that keeps failing gives up, and says how many scans' webhooks it lost."""
        failures = 0
        while self._pending:
            batch = self._take_batch()
            if await self._write(batch):
                failures = 0
                continue
            self._pending.extendleft(reversed(batch))
            failures += 1
            if self._closing and failures >= _CLOSING_ATTEMPTS:
                log.error("webhooks for %d scans lost at shutdown", len(self._pending))
                self._pending.clear()
                return
            await asyncio.sleep(min(_RETRY_MAX, _RETRY_FIRST * 2**failures))

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await self.flush()
            if self._closing:
                return

    def _take_batch(self) -> list[ScanRow]:
        count = min(len(self._pending), self._batch_size)
        return [self._pending.popleft() for _ in range(count)]

    async def _write(self, rows: list[ScanRow]) -> bool:
        try:
            deliveries = await self._deliveries_for(rows)
            if deliveries:
                await self._insert(deliveries)
                if self._on_written is not None:
                    self._on_written()
            return True
        except Exception:
            # The loop must outlive a database hiccup: the batch is retried.
            log.exception("could not enqueue webhooks for %d scans; retrying", len(rows))
            return False

    async def _deliveries_for(self, rows: list[ScanRow]) -> list[WebhookDelivery]:
        now = self._clock()
        deliveries = []
        for row in rows:
            endpoint_ids = await self._cache.enabled_endpoints(row.account_id)
            if not endpoint_ids:
                continue
            event_id = new_event_id()
            payload = scan_event(event_id, row, now)
            deliveries += [
                WebhookDelivery(
                    event_id=event_id, endpoint_id=eid, payload=payload, next_attempt_at=now
                )
                for eid in endpoint_ids
            ]
        return deliveries

    async def _insert(self, deliveries: list[WebhookDelivery]) -> None:
        try:
            await WebhookDelivery.bulk_create(deliveries)
        except IntegrityError:
            # An endpoint was deleted since it was cached: keep every delivery but its own.
            self._cache.clear()
            for delivery in deliveries:
                try:
                    await delivery.save()
                except IntegrityError:
                    continue
