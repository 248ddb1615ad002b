"""Assemble a running redirector: directory, resolver, scan journal and its consumer, app.

The caller owns the database (Tortoise must be initialised), the Redis client, the
bus, the durable scan sinks and the listeners; this module owns what it builds and
closes it in order once the caller stopped serving: the consumer first (it commits
everything journalled to the sinks, which the caller closes afterwards), then the
journal, then the resolver.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from analytics.geo import GeoLocator
from analytics.spool import claim_directory
from analytics.useragent import parse_agent
from core.bus import EventBus, LocalBus
from core.config import Settings
from core.links import LinkDirectory
from core.scans import ScanListener, ScanSink
from redirector.app import LinkGuards, create_redirect_app
from redirector.attempts import PasswordAttempts
from redirector.consumer import ScanConsumer
from redirector.counters import ScanLimits
from redirector.enrich import AgentParser, Enricher, GeoLocate
from redirector.facts import Lookups
from redirector.feed import BusFeed, InvalidationFeed, RedisFeed
from redirector.journal import Journal
from redirector.ledger import FirstScanLedger, LocalLedger, RedisLedger
from redirector.resolver import ShortCodeResolver


def invalidation_feed(settings: Settings, bus: EventBus) -> InvalidationFeed:
    # Across processes the bus is Redis: follow its channel over a fail-loud connection.
    if settings.redis_url and not isinstance(bus, LocalBus):
        return RedisFeed(settings.redis_url)
    return BusFeed(bus)


def first_scan_ledger(redis: aioredis.Redis | None) -> FirstScanLedger:
    return LocalLedger() if redis is None else RedisLedger(redis)


def journal_root(settings: Settings) -> Path:
    return settings.data_dir / "journal"


@asynccontextmanager
async def open_journal(root: Path) -> AsyncIterator[Journal]:
    """This process's journal: the first directory under `root` no live process holds
    (one left by a process that died is adopted, and its scans are sent on)."""
    directory, lock = claim_directory(root)
    try:
        journal = Journal(directory)
        await journal.start()
        try:
            yield journal
        finally:
            await journal.aclose()
    finally:
        os.close(lock)


@asynccontextmanager
async def open_redirector(
    settings: Settings,
    *,
    redis: aioredis.Redis | None,
    bus: EventBus,
    sinks: Sequence[ScanSink],
    listeners: Sequence[ScanListener] = (),
    agent_parser: AgentParser | None = None,
    geo_locator: GeoLocate | None = None,
    cached: bool = True,
    max_batch: int = 10_000,
    extra_routes: Sequence[BaseRoute] = (),
) -> AsyncIterator[Starlette]:
    """Yield the redirect app with its resolver, journal and journal consumer running.

    Every scan is journalled before its 302; the consumer commits it to every durable
    sink in `sinks` (exactly once, see `redirector.consumer`) and then hands it to the
    best-effort `listeners`. Scans are enriched by `analytics.useragent.parse_agent` and
    a GeoLocator on QRMINT_GEOIP_DB unless other callables are given (tests, benchmarks).

    `cached=False` resolves every scan from the directory: for a redirector that shares no
    bus with the API (separate processes without Redis), where nothing could invalidate.

    `app.state.resolver`, `.journal`, `.consumer` and `.redirects` (the redirect counts)
    are there for health and metrics.
    """
    async with AsyncExitStack() as stack:
        geo_locator = geo_locator or _geo_locator(stack, settings)
        directory, feed = LinkDirectory(redis, bus), invalidation_feed(settings, bus)
        resolver = (
            ShortCodeResolver(directory, feed)
            if cached
            else ShortCodeResolver(directory, feed, ttl=0.0, miss_ttl=0.0)
        )
        await resolver.start()
        stack.push_async_callback(resolver.aclose)
        journal = await stack.enter_async_context(open_journal(journal_root(settings)))
        enricher = Enricher(first_scan_ledger(redis), agent_parser or parse_agent, geo_locator)
        consumer = ScanConsumer(journal, enricher, sinks, listeners, max_rows=max_batch)
        await consumer.start()
        stack.push_async_callback(consumer.aclose)
        # For links' rules: country, device and OS at redirect time, cached (docs/links.md).
        lookups = Lookups(geo_locator, agent_parser or parse_agent)
        guards = LinkGuards(lookups, ScanLimits(redis), PasswordAttempts(redis))
        await guards.limits.start()
        stack.push_async_callback(guards.limits.aclose)
        app = create_redirect_app(
            settings=settings,
            resolver=resolver,
            recorder=journal,
            guards=guards,
            extra_routes=extra_routes,
        )
        app.state.resolver = resolver
        app.state.journal = journal
        app.state.consumer = consumer
        yield app


def _geo_locator(stack: AsyncExitStack, settings: Settings) -> GeoLocate:
    geo = GeoLocator(settings.geoip_db)
    stack.callback(geo.close)
    return geo.locate
