"""Resources a process opens once at start and closes in reverse order at stop.

Each part is an async context manager; the process compositions in `processes` stack
the ones they need. Nothing here runs at import time.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

import anyio
import redis.asyncio as aioredis

from analytics.service import StatsService
from analytics.spool import claim_directory
from analytics.store import ScanStore, open_scan_store
from analytics.writer import ScanWriter
from core.bus import EventBus, create_bus
from core.config import Settings
from core.db import close_database, open_database
from core.links import LinkDirectory
from core.qrcodes import QrService
from core.ratelimit import FallbackRateLimiter, LocalRateLimiter, RedisRateLimiter
from core.services import NoStats, Services
from core.tiers import load_tiers


class Startable(Protocol):
    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


T = TypeVar("T", bound=Startable)


@dataclass(frozen=True)
class Core:
    settings: Settings
    redis: aioredis.Redis | None
    bus: EventBus
    links: LinkDirectory


@asynccontextmanager
async def open_core(settings: Settings) -> AsyncIterator[Core]:
    redis = None
    if settings.redis_url:
        # Bounded waits: a Redis that accepts but never answers must not stall scans forever.
        redis = aioredis.from_url(
            settings.redis_url,
            socket_timeout=5,
            socket_connect_timeout=2,
            health_check_interval=30,
        )
    bus = create_bus(settings.redis_url)
    await open_database(settings)
    try:
        yield Core(settings, redis, bus, LinkDirectory(redis, bus))
    finally:
        await close_database()
        await bus.close()
        if redis is not None:
            await redis.aclose()  # type: ignore[no-untyped-call]


def build_services(core: Core, store: ScanStore | None) -> Services:
    settings = core.settings
    limiter = (
        FallbackRateLimiter(RedisRateLimiter(core.redis)) if core.redis else LocalRateLimiter()
    )
    return Services(
        settings=settings,
        tiers=load_tiers(settings.tiers_file),
        qr=QrService(settings, core.links),
        limiter=limiter,
        bus=core.bus,
        stats=StatsService(store) if store is not None else NoStats(),
    )


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[ScanStore]:
    """The scan store, migrated; with chdb:// this process becomes its one owner."""
    store = await anyio.to_thread.run_sync(open_scan_store, settings.clickhouse_url)
    try:
        await anyio.to_thread.run_sync(store.migrate)
        yield store
    finally:
        await anyio.to_thread.run_sync(store.close)


@asynccontextmanager
async def open_writer(settings: Settings, store: ScanStore) -> AsyncIterator[ScanWriter]:
    spool, lock = claim_directory(settings.data_dir / "spool")
    try:
        async with running(ScanWriter(store, spool)) as writer:
            yield writer
    finally:
        os.close(lock)


@asynccontextmanager
async def running(component: T) -> AsyncIterator[T]:
    await component.start()
    try:
        yield component
    finally:
        await component.aclose()
