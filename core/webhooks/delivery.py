"""The delivery worker: claims due deliveries, signs and sends them, records the outcome.

Each round claims up to `batch_size` deliveries and sends them concurrently, at most
`concurrency` in flight overall and `per_endpoint` per endpoint. The lease is long enough
for the slowest round (every delivery waits at most for the ones queued ahead of it, each
bounded by the timeout), so a live worker never loses a lease to another worker. A round
ends when its slowest attempt does (at most the timeout), then all its outcomes are written
in one transaction; a crash before that write means those deliveries are sent again once
their lease expires (at-least-once, same event id).

Before each send the account's tier is read again (a downgrade stops deliveries at once,
whatever was queued) and so is the endpoint: disabled by hand, its deliveries end unsent;
disabled for failing 24 hours, the events already queued keep their schedule.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from cryptography.fernet import InvalidToken
from tortoise.transactions import in_transaction

from core.config import Settings
from core.models import ScanEndpoint, WebhookDelivery
from core.tiers import load_tiers
from core.webhooks import health, queue
from core.webhooks.backoff import Random, retry_delay
from core.webhooks.cache import shared_cache
from core.webhooks.outbox import Clock, utcnow
from core.webhooks.secrets import decrypt_secret
from core.webhooks.sender import DEFAULT_TIMEOUT, Outcome, Sender
from core.webhooks.signing import signed_headers
from core.webhooks.ssrf import Resolver

# Finished deliveries are kept a week for support questions, then forgotten.
KEEP_FINISHED = timedelta(days=7)
PURGE_EVERY = timedelta(hours=1)

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        rng: Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        batch_size: int = 64,
        concurrency: int = 32,
        per_endpoint: int = 4,
        poll_interval: float = 1.0,
    ) -> None:
        self._settings = settings
        self._tiers = load_tiers(settings.tiers_file)
        self._clock = clock
        self._rng = rng or random.Random()
        self._batch_size = batch_size
        self._per_endpoint = per_endpoint
        self._poll_interval = poll_interval
        self._overall = asyncio.Semaphore(concurrency)
        self._sender = Sender(
            settings,
            timeout=timeout,
            max_connections=concurrency,
            transport=transport,
            resolver=resolver,
        )
        waves = math.ceil(batch_size / per_endpoint) + math.ceil(batch_size / concurrency)
        self.lease = timedelta(seconds=timeout * waves + 30)
        self._wake = asyncio.Event()
        self.outcomes: Counter[str] = Counter()  # attempts by outcome, read by /metrics

    def wake(self) -> None:
        """Start the next round now (e.g. the outbox just queued something)."""
        self._wake.set()

    async def run_once(self) -> int:
        """One round: claim what is due, attempt it all, return how many were claimed."""
        now = self._clock()
        deliveries = await queue.claim_due(
            now, now + self.lease, self._batch_size, postgres=self._settings.uses_postgres
        )
        if not deliveries:
            return 0
        ids = {d.endpoint_id for d in deliveries}
        rows = await ScanEndpoint.filter(id__in=ids).select_related("account")
        endpoints = {e.id: e for e in rows}
        limits = {eid: asyncio.Semaphore(self._per_endpoint) for eid in endpoints}
        results: list[Attempt] = []
        async with asyncio.TaskGroup() as group:
            for delivery in deliveries:
                endpoint = endpoints.get(delivery.endpoint_id)
                group.create_task(self._attempt(delivery, endpoint, limits, results))
        await self._record(results)
        return len(deliveries)

    async def run_forever(self, stop_event: asyncio.Event) -> None:
        purged_at = None
        while not stop_event.is_set():
            try:
                claimed = await self.run_once()
                if purged_at is None or self._clock() - purged_at >= PURGE_EVERY:
                    purged_at = self._clock()
                    await queue.purge_finished(purged_at - KEEP_FINISHED)
            except Exception:
                log.exception("webhook delivery round failed")
                claimed = 0
            if claimed == 0:
                await self._idle(stop_event)

    async def aclose(self) -> None:
        await self._sender.aclose()

    async def _idle(self, stop_event: asyncio.Event) -> None:
        waiters = {
            asyncio.ensure_future(stop_event.wait()),
            asyncio.ensure_future(self._wake.wait()),
        }
        await asyncio.wait(
            waiters, timeout=self._poll_interval, return_when=asyncio.FIRST_COMPLETED
        )
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        self._wake.clear()

    async def _attempt(
        self,
        delivery: WebhookDelivery,
        endpoint: ScanEndpoint | None,
        limits: dict[str, asyncio.Semaphore],
        results: list[Attempt],
    ) -> None:
        if endpoint is None:
            return  # deleted meanwhile; its deliveries went with it
        stop = self._stop_reason(endpoint)
        if stop is not None:
            results.append(Attempt(delivery, endpoint, Outcome(None, stop), True))
            return
        try:
            async with self._overall, limits[endpoint.id]:
                outcome = await self._send(delivery, endpoint)
        except Exception:
            # The lease runs out and the delivery is tried again; the round goes on.
            log.exception("webhook delivery %s: unexpected error", delivery.id)
            return
        results.append(Attempt(delivery, endpoint, outcome))

    def _stop_reason(self, endpoint: ScanEndpoint) -> str | None:
        tier = self._tiers.get(endpoint.account.tier)
        if tier is None or not tier.webhooks:
            return "the account's tier no longer includes webhooks"
        if endpoint.disabled_at is not None and endpoint.disabled_reason != health.FAILING:
            return "endpoint disabled"
        return None

    async def _send(self, delivery: WebhookDelivery, endpoint: ScanEndpoint) -> Outcome:
        try:
            secret = decrypt_secret(self._settings.secret_key, endpoint.secret_ciphertext)
        except InvalidToken:
            return Outcome(None, "the endpoint secret cannot be decrypted with this secret key")
        body = delivery.payload.encode("utf-8")
        timestamp = int(self._clock().timestamp())
        headers = signed_headers(secret, delivery.event_id, timestamp, body)
        return await self._sender.post(endpoint.url, body, headers)

    async def _record(self, results: list[Attempt]) -> None:
        # One transaction per round: one commit (one fsync on SQLite) instead of two per delivery.
        now = self._clock()
        async with in_transaction():
            await queue.mark_delivered([r.delivery for r in results if r.outcome.ok], now)
            for result in results:
                if not result.outcome.ok:
                    await self._record_failure(result, now)
            disabled = await health.record_round(_health_outcomes(results), now)
        for result in results:
            self.outcomes["delivered" if result.outcome.ok else "failed"] += 1
            level = logging.DEBUG if result.outcome.ok else logging.INFO
            log.log(level, _LINE, result.delivery.event_id, result.endpoint.id,
                    result.delivery.attempts, result.outcome.error or "delivered")  # fmt: skip
        for endpoint in {r.endpoint.id: r.endpoint for r in results}.values():
            if endpoint.id in disabled:
                shared_cache.invalidate(endpoint.account_id)
                log.warning("scan endpoint %s disabled: failing for 24 hours", endpoint.id)

    async def _record_failure(self, result: Attempt, now: datetime) -> None:
        error = result.outcome.error or "failed"
        delay = None if result.final else retry_delay(result.delivery.attempts, self._rng)
        if delay is None:
            await queue.mark_failed(result.delivery, error)
        else:
            await queue.mark_retry(result.delivery, now + delay, error)


@dataclass(frozen=True)
class Attempt:
    delivery: WebhookDelivery
    endpoint: ScanEndpoint
    outcome: Outcome
    final: bool = False  # no retry and no effect on endpoint health (tier lost, disabled)


def _health_outcomes(results: list[Attempt]) -> dict[str, list[bool]]:
    outcomes: dict[str, list[bool]] = {}
    for result in results:
        if not result.final:
            outcomes.setdefault(result.endpoint.id, []).append(result.outcome.ok)
    return outcomes


_LINE = "webhook %s to endpoint %s, attempt %d: %s"
