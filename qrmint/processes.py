"""The process compositions: `serve` (everything, embedded default), `api`, `redirector`,
`worker` (production, sharing Postgres, ClickHouse and Redis) and the analytics migration.

The embedded ClickHouse (chdb) has one owner process: `serve`, or in the split shape the
first `api` (which answers stats from it). Every redirecting process journals its scans
on local disk and commits them from there to its durable sinks: the store (or, for
redirectors on chdb:// with Redis, the Redis stream that the owner drains; on http://
every process writes its own) and the webhook outbox. `worker` delivers webhooks only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import anyio

from analytics.sinks import StoreSink, forward_old_stream_spool
from analytics.store import ScanStore, ScanStoreBusy, open_scan_store
from analytics.stream import StreamDrainer, StreamSink
from api.app import create_api_app
from core.config import Settings
from core.live import LiveScanPublisher
from core.scans import ScanListener, ScanSink
from core.webhooks.delivery import DeliveryWorker
from core.webhooks.outbox import WebhookOutbox
from qrmint.runtime import Core, build_services, open_core, open_store, open_writer, running
from qrmint.servers import make_server, run_servers
from redirector.wiring import open_redirector
from schema.app import graphql_routes

log = logging.getLogger("qrmint")


async def migrate_analytics(settings: Settings) -> None:
    store = await anyio.to_thread.run_sync(open_scan_store, settings.clickhouse_url)
    try:
        await anyio.to_thread.run_sync(store.migrate)
    finally:
        await anyio.to_thread.run_sync(store.close)


async def serve(settings: Settings, host: str, api_port: int, redirect_port: int) -> None:
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings))
        # Entered early, so it stops late: after the scan pipeline below has flushed.
        worker = await stack.enter_async_context(_delivering(settings))
        store = await stack.enter_async_context(open_store(settings))
        # The writer replays any spool left on disk (by the drainer, or by an earlier version).
        writer = await stack.enter_async_context(open_writer(settings, store))
        if core.redis is not None:  # scans of other redirectors, sent through Redis
            await stack.enter_async_context(running(StreamDrainer(core.redis, writer)))
        sinks, listeners = await _fan_out(stack, core, StoreSink(store), wake=worker.wake)
        redirect_app = await stack.enter_async_context(
            open_redirector(
                settings, redis=core.redis, bus=core.bus, sinks=sinks, listeners=listeners
            )
        )
        services = build_services(core, store)
        api_app = create_api_app(services, extra_routes=graphql_routes(services))
        log.info("qrmint: API on %s:%d, redirects on %s:%d", host, api_port, host, redirect_port)
        await run_servers(
            [make_server(api_app, host, api_port), make_server(redirect_app, host, redirect_port)]
        )


async def api(settings: Settings, host: str, port: int) -> None:
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings))
        store = await _optional_store(stack, settings)
        if store is not None and core.redis is not None and settings.uses_chdb:
            # The owner of the embedded store also takes in the redirectors' scan stream.
            writer = await stack.enter_async_context(open_writer(settings, store))
            await stack.enter_async_context(running(StreamDrainer(core.redis, writer)))
        services = build_services(core, store)
        app = create_api_app(services, extra_routes=graphql_routes(services))
        await run_servers([make_server(app, host, port)])


async def redirector(settings: Settings, host: str, port: int) -> None:
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings))
        sink = await _scan_sink(stack, core)
        # No wake-up call across processes: the worker polls the deliveries table.
        sinks, listeners = await _fan_out(stack, core, sink, wake=None)
        if core.redis is None:
            log.warning(
                "without QRMINT_REDIS_URL no update can reach this process: every scan "
                "is resolved from the database (no cache)"
            )
        app = await stack.enter_async_context(
            open_redirector(
                settings,
                redis=core.redis,
                bus=core.bus,
                sinks=sinks,
                listeners=listeners,
                cached=core.redis is not None,
            )
        )
        await run_servers([make_server(app, host, port)])


async def worker(settings: Settings) -> None:
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(open_core(settings))
        await stack.enter_async_context(_delivering(settings))
        await run_servers([])


async def _fan_out(
    stack: AsyncExitStack, core: Core, store: ScanSink, *, wake: Callable[[], None] | None
) -> tuple[Sequence[ScanSink], Sequence[ScanListener]]:
    """Every scan goes durably to the store (or its stream) and the webhook outbox, then,
    best effort, to the live counts."""
    live = await stack.enter_async_context(running(LiveScanPublisher(core.bus)))
    return [store, WebhookOutbox(on_written=wake)], [live]


@asynccontextmanager
async def _delivering(settings: Settings) -> AsyncIterator[DeliveryWorker]:
    """Webhook delivery in the background until the stack unwinds to here."""
    worker = DeliveryWorker(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop), name="webhook-delivery")
    try:
        yield worker
    finally:
        stop.set()
        await task
        await worker.aclose()


async def _scan_sink(stack: AsyncExitStack, core: Core) -> ScanSink:
    settings = core.settings
    if settings.uses_chdb and core.redis is not None:
        # The store has one owner (serve or api); reach it through the stream.
        sink = StreamSink(core.redis)
        await forward_old_stream_spool(settings.data_dir / "stream-spool", sink)
        return sink
    store = await stack.enter_async_context(open_store(settings))
    await stack.enter_async_context(open_writer(settings, store))  # replays an old spool
    return StoreSink(store)


async def _optional_store(stack: AsyncExitStack, settings: Settings) -> ScanStore | None:
    """An API beside `serve` on chdb:// cannot open the store: it runs without stats."""
    try:
        return await stack.enter_async_context(open_store(settings))
    except ScanStoreBusy:
        log.warning("the analytics store is owned by another process: stats are unavailable")
        return None
