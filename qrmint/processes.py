"""The process compositions: `serve` (everything, embedded default), `api`, `redirector`,
`worker` (production, sharing Postgres, ClickHouse and Redis) and the analytics migration.

The embedded ClickHouse (chdb) has one owner process. Redirectors that do not own it
publish scan rows to a Redis stream that the owner (`serve` or `worker`) drains.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import uvicorn

from analytics.store import ScanStore, ScanStoreBusy, open_scan_store
from analytics.stream import StreamDrainer, StreamScanSink
from api.app import create_api_app
from core.config import Settings
from core.live import LiveScanPublisher
from core.scans import ScanListener
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
        store = await stack.enter_async_context(open_store(settings))
        writer = await stack.enter_async_context(open_writer(settings, store))
        if core.redis is not None:
            await stack.enter_async_context(running(StreamDrainer(core.redis, writer)))
        worker = DeliveryWorker(settings)
        listeners = await _scan_fanout(stack, core, worker, writer)
        redirect_app = await stack.enter_async_context(
            open_redirector(settings, redis=core.redis, bus=core.bus, listeners=listeners)
        )
        services = build_services(core, store)
        api_app = create_api_app(services, extra_routes=graphql_routes(services))
        servers = [
            make_server(api_app, host, api_port),
            make_server(redirect_app, host, redirect_port),
        ]
        log.info(
            "qrmint: API on http://%s:%d, redirects on http://%s:%d",
            host,
            api_port,
            host,
            redirect_port,
        )
        await _with_worker(worker, servers)


async def api(settings: Settings, host: str, port: int) -> None:
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings))
        store = await stack.enter_async_context(_optional_store(settings))
        services = build_services(core, store)
        app = create_api_app(services, extra_routes=graphql_routes(services))
        await run_servers([make_server(app, host, port)], asyncio.Event())


async def redirector(settings: Settings, host: str, port: int) -> None:
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings))
        sink = await _scan_sink(stack, core)
        # No wake-up call across processes: the worker polls the deliveries table.
        outbox = await stack.enter_async_context(running(WebhookOutbox()))
        live = await stack.enter_async_context(running(LiveScanPublisher(core.bus)))
        app = await stack.enter_async_context(
            open_redirector(
                settings, redis=core.redis, bus=core.bus, listeners=[sink, live, outbox]
            )
        )
        await run_servers([make_server(app, host, port)], asyncio.Event())


async def worker(settings: Settings) -> None:
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings))
        if core.redis is not None:
            store = await stack.enter_async_context(open_store(settings))
            writer = await stack.enter_async_context(open_writer(settings, store))
            await stack.enter_async_context(running(StreamDrainer(core.redis, writer)))
        await _with_worker(DeliveryWorker(settings), [])


async def _scan_fanout(
    stack: AsyncExitStack, core: Core, worker: DeliveryWorker, sink: ScanListener
) -> Sequence[ScanListener]:
    outbox = await stack.enter_async_context(running(WebhookOutbox(on_written=worker.wake)))
    live = await stack.enter_async_context(running(LiveScanPublisher(core.bus)))
    return [sink, live, outbox]


async def _scan_sink(stack: AsyncExitStack, core: Core) -> ScanListener:
    settings = core.settings
    if settings.uses_chdb and core.redis is not None:
        # The store has one owner (serve or worker); reach it through the stream.
        return await stack.enter_async_context(running(StreamScanSink(core.redis)))
    store = await stack.enter_async_context(open_store(settings))
    return await stack.enter_async_context(open_writer(settings, store))


@asynccontextmanager
async def _optional_store(settings: Settings) -> AsyncIterator[ScanStore | None]:
    """An API beside `serve` on chdb:// cannot open the store: it runs without stats."""
    try:
        opened = open_store(settings)
        store = await opened.__aenter__()
    except ScanStoreBusy:
        log.warning("the analytics store is owned by another process: stats are unavailable")
        yield None
        return
    try:
        yield store
    finally:
        await opened.__aexit__(None, None, None)


async def _with_worker(worker: DeliveryWorker, servers: Sequence[uvicorn.Server]) -> None:
    """Deliver webhooks beside the servers (if any) until a signal; then stop in order."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    try:
        await run_servers(servers, stop)
    finally:
        stop.set()
        await task
        await worker.aclose()
