"""A short-lived, per-process cache of each account's endpoints that may receive events.

The outbox asks for an account's endpoints on every scan; a few seconds of staleness is
fine (a new endpoint starts receiving within the TTL), and registration, deletion or a
change of `enabled` in this process drops the entry at once.

The tier rule lives here, so every caller gets it: an account whose tier does not include
webhooks has no endpoints to queue for (its endpoints stay listed and deletable). A tier
change made by `qrmint keys set-tier` in another process is announced on the bus (with
Redis, `TierChanges` drops the entry in every process at once); without Redis it is seen
within the TTL, and the delivery worker checks the tier again before every send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.bus import EventBus
from core.models import ScanEndpoint
from core.tiers import Tiers, load_tiers

DEFAULT_TTL = 5.0
TIER_CHANNEL = "accounts:tier"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedEndpoints:
    endpoint_ids: tuple[str, ...]
    expires: float


class EndpointCache:
    def __init__(
        self, ttl: float = DEFAULT_TTL, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._monotonic = monotonic
        self._entries: dict[str, CachedEndpoints] = {}
        self._tiers: Tiers | None = None

    def use_tiers(self, tiers: Tiers) -> None:
        """The process's tier table (QRMINT_TIERS_FILE applied); the built-in one until then."""
        self._tiers = tiers
        self.clear()

    def webhook_tiers(self) -> list[str]:
        if self._tiers is None:
            self._tiers = load_tiers()
        return [name for name, tier in self._tiers.items() if tier.webhooks]

    async def enabled_endpoints(self, account_id: str) -> tuple[str, ...]:
        entry = self._entries.get(account_id)
        if entry is not None and entry.expires > self._monotonic():
            return entry.endpoint_ids
        ids = await ScanEndpoint.filter(
            account_id=account_id,
            disabled_at__isnull=True,
            account__tier__in=self.webhook_tiers(),
        ).values_list("id", flat=True)
        found = tuple(str(endpoint_id) for endpoint_id in ids)
        self._entries[account_id] = CachedEndpoints(found, self._monotonic() + self._ttl)
        return found

    def invalidate(self, account_id: str) -> None:
        self._entries.pop(account_id, None)

    def clear(self) -> None:
        self._entries.clear()


# One per process, so that the service's writes reach the outbox's reads.
shared_cache = EndpointCache()


async def announce_tier_change(bus: EventBus, account_id: str) -> None:
    shared_cache.invalidate(account_id)
    await bus.publish(TIER_CHANNEL, {"account_id": account_id})


class TierChanges:
    """Drops an account's cached endpoints when any process announces a tier change."""

    def __init__(self, bus: EventBus, cache: EndpointCache | None = None) -> None:
        self._bus = bus
        self._cache = cache or shared_cache
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name="qrmint-tier-changes")
        with contextlib.suppress(TimeoutError):
            # Subscribed before start() returns, so no announcement falls in between.
            await asyncio.wait_for(self._listening.wait(), 5)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self) -> None:
        while True:
            try:
                async with self._bus.subscribe(TIER_CHANNEL) as events:
                    self._listening.set()
                    async for event in events:
                        if isinstance(event.get("account_id"), str):
                            self._cache.invalidate(event["account_id"])
                        else:
                            self._cache.clear()  # OVERFLOW: announcements were lost
            except asyncio.CancelledError:
                raise
            except Exception:
                # A broken feed means missed announcements: forget everything, resubscribe.
                log.warning("tier-change feed lost; resubscribing", exc_info=True)
                self._cache.clear()
                await asyncio.sleep(1)
