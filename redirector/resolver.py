"""Cache key -> link entry (or domain), with a small in-process LRU in front of the directory.

Why the LRU never serves a stale destination:

1. Entries are stored only while the invalidation feed is live (its subscription is
   confirmed and cannot have lost a message); `_live` flips to False and the LRU is
   cleared the moment the feed breaks or ends, and every lookup then goes to the
   directory until the feed is confirmed again.
2. A lookup's answer is stored only if no invalidation (and no live/broken
   transition) happened while it was in flight: every such event bumps
   `_generation`, and the lookup compares the value it saw before it started.
   A lookup that raced an update may answer with the old destination once (it
   started before the update became visible) but cannot leave it in the cache.
3. The directory writes the new value before announcing it, so the first lookup
   after an invalidation reads the new value.

Misses are cached too (briefly), but creating a dynamic QR publishes its code, which
drops the miss like any other entry. The TTLs are a backstop only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from typing import Protocol

from core.links import DomainEntry, LinkTarget
from core.retrying import Backoff
from redirector.feed import InvalidationFeed, Signal

log = logging.getLogger(__name__)


# Keys are `core.link_entry.cache_key`s ("CODE", "host/CODE") or "@host" for a domain.
Entry = LinkTarget | DomainEntry


class LinkSource(Protocol):
    async def lookup(self, key: str) -> Entry | None: ...


class ShortCodeResolver:
    def __init__(
        self,
        directory: LinkSource,
        feed: InvalidationFeed,
        *,
        ttl: float = 5.0,
        miss_ttl: float = 1.0,
        max_entries: int = 50_000,
        retry_delay: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._directory = directory
        self._feed = feed
        self._ttl = ttl
        self._miss_ttl = miss_ttl
        self._max_entries = max_entries
        self._retry_delay = retry_delay
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, Entry | None]] = OrderedDict()
        self._generation = 0
        self._live = False
        self._live_event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def live(self) -> bool:
        return self._live

    async def start(self, *, wait: float = 2.0) -> None:
        """Start following the feed; wait a little for it, but serve uncached if it is slow."""
        self._task = asyncio.create_task(self._follow(), name="resolver-invalidations")
        with suppress(TimeoutError):
            await asyncio.wait_for(self._live_event.wait(), wait)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._set_live(False)

    async def resolve(self, short_code: str) -> Entry | None:
        entry = self._cache.get(short_code)
        if entry is not None:
            if entry[0] > self._clock():
                self._cache.move_to_end(short_code)
                return entry[1]
            del self._cache[short_code]
        generation = self._generation
        target = await self._directory.lookup(short_code)
        if self._live and generation == self._generation:
            self._store(short_code, target)
        return target

    def _store(self, short_code: str, target: Entry | None) -> None:
        ttl = self._ttl if target is not None else self._miss_ttl
        self._cache[short_code] = (self._clock() + ttl, target)
        self._cache.move_to_end(short_code)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)

    def invalidate(self, short_code: str | None = None) -> None:
        """Drop one code (or everything) and void the answers of lookups in flight."""
        self._generation += 1
        if short_code is None:
            self._cache.clear()
        else:
            self._cache.pop(short_code, None)

    def _set_live(self, live: bool) -> None:
        # Either transition clears the cache: nothing cached under an old
        # subscription may outlive it, and nothing read while bypassing may enter.
        self.invalidate()
        self._live = live
        if live:
            self._live_event.set()
        else:
            self._live_event.clear()

    def _apply(self, event: str | Signal) -> None:
        if event is Signal.SUBSCRIBED:
            self._set_live(True)
        elif event is Signal.DROP_ALL:
            self.invalidate()
        else:
            self.invalidate(event)

    async def _follow(self) -> None:
        backoff = Backoff(self._retry_delay, max(self._retry_delay, 5.0))
        while True:
            try:
                async with self._feed.subscribe() as events:
                    try:
                        async for event in events:
                            self._apply(event)
                            backoff.succeeded()
                    finally:
                        # Before the subscription is torn down (which awaits): from here
                        # on nothing may be served from or stored into the cache.
                        self._set_live(False)
                log.warning("link invalidations ended; serving uncached until re-subscribed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("link invalidations broke (%s); serving uncached", exc)
            self._set_live(False)
            await asyncio.sleep(backoff.failed())
