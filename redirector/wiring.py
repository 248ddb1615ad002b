"""Assemble a running redirector: directory, resolver, ledger, recorder, app.

The caller owns the database (Tortoise must be initialised), the Redis client, the
bus and the scan listeners; this module owns what it builds and closes it in order:
the recorder first (its queue is drained into the listeners, which the caller
closes afterwards), then the resolver.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from analytics.geo import GeoLocator
from analytics.useragent import parse_agent
from core.bus import EventBus, LocalBus
from core.config import Settings
from core.links import LinkDirectory
from core.scans import ScanListener
from redirector.app import create_redirect_app
from redirector.feed import BusFeed, InvalidationFeed, RedisFeed
from redirector.ledger import FirstScanLedger, LocalLedger, RedisLedger
from redirector.recorder import AgentParser, GeoLocate, ScanRecorder
from redirector.resolver import ShortCodeResolver


def invalidation_feed(settings: Settings, bus: EventBus) -> InvalidationFeed:
    # Across processes the bus is Redis: follow its channel over a fail-loud connection.
    if settings.redis_url and not isinstance(bus, LocalBus):
        return RedisFeed(settings.redis_url)
    return BusFeed(bus)


def first_scan_ledger(redis: aioredis.Redis | None) -> FirstScanLedger:
    return LocalLedger() if redis is None else RedisLedger(redis)


@asynccontextmanager
async def open_redirector(
    settings: Settings,
    *,
    redis: aioredis.Redis | None,
    bus: EventBus,
    listeners: Sequence[ScanListener],
    agent_parser: AgentParser | None = None,
    geo_locator: GeoLocate | None = None,
    cached: bool = True,
    extra_routes: Sequence[BaseRoute] = (),
) -> AsyncIterator[Starlette]:
    """Yield the redirect app with its resolver and recorder running.

    Scans are enriched by `analytics.useragent.parse_agent` and a GeoLocator on
    QRMINT_GEOIP_DB unless other callables are given (tests, benchmarks).

    `cached=False` resolves every scan from the directory: for a redirector that shares no
    bus with the API (separate processes without Redis), where nothing could invalidate.

    `app.state.resolver`, `app.state.recorder` and `app.state.redirects` (the redirect
    counts) are there for health and metrics.
    """
    geo = None
    if geo_locator is None:
        geo = GeoLocator(settings.geoip_db)
        geo_locator = geo.locate
    directory, feed = LinkDirectory(redis, bus), invalidation_feed(settings, bus)
    resolver = (
        ShortCodeResolver(directory, feed)
        if cached
        else ShortCodeResolver(directory, feed, ttl=0.0, miss_ttl=0.0)
    )
    ledger = first_scan_ledger(redis)
    recorder = ScanRecorder(listeners, ledger, agent_parser or parse_agent, geo_locator)
    await resolver.start()
    try:
        await recorder.start()
        try:
            app = create_redirect_app(
                settings=settings, resolver=resolver, recorder=recorder, extra_routes=extra_routes
            )
            app.state.resolver = resolver
            app.state.recorder = recorder
            yield app
        finally:
            await recorder.aclose()
    finally:
        await resolver.aclose()
        if geo is not None:
            geo.close()
