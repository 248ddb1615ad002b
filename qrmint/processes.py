"""The process compositions: `serve` (everything, embedded default), `api`, `redirector`,
`worker` (production, sharing Postgres, ClickHouse and Redis) and the analytics migration.

The embedded ClickHouse (chdb) has one owner process: `serve`, or in the split shape the
first `api` (which answers stats from it). Every redirecting process journals its scans
on local disk and commits them from there to its durable sinks: the store (or, for
redirectors on chdb:// with Redis, the Redis stream that the owner drains; on http://
every process writes its own) and the webhook outbox. `worker` delivers webhooks only.

Every HTTP process also serves `/metrics` and `/readyz` (`ops.routes`), fed by the hooks
in `qrmint.observed`; the listening sockets are bound by the caller before any of this
runs (`qrmint.servers.listen`), so a busy port stops the command before it opens anything.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
from starlette.applications import Starlette

from analytics.sinks import StoreSink, forward_old_stream_spool
from analytics.store import ScanStore, ScanStoreBusy, open_scan_store
from analytics.stream import StreamDrainer, StreamSink
from analytics.writer import ScanWriter
from api.app import create_api_app
from core.config import Settings
from core.live import LiveScanPublisher
from core.scans import ScanListener, ScanSink
from core.tiers import load_tiers
from core.webhooks.cache import TierChanges, shared_cache
from core.webhooks.delivery import DeliveryWorker
from core.webhooks.outbox import WebhookOutbox
from ops.metrics import refreshing, watching
from ops.readiness import Check
from ops.routes import operator_app, ops_routes
from qrmint import observed
from qrmint.runtime import Core, build_services, open_core, open_store, open_writer, running
from qrmint.servers import Listener, make_server, run_servers
from redirector.wiring import open_redirector
from schema.app import graphql_routes

log = logging.getLogger(__name__)


async def migrate_analytics(settings: Settings) -> None:
    store = await anyio.to_thread.run_sync(open_scan_store, settings.clickhouse_url)
    try:
        await anyio.to_thread.run_sync(store.migrate)
    finally:
        await anyio.to_thread.run_sync(store.close)


async def serve(settings: Settings, api_at: Listener, redirect_at: Listener) -> None:
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings))
        await stack.enter_async_context(refreshing())
        # Entered early, so it stops late: after the scan pipeline below has flushed.
        worker = await stack.enter_async_context(_delivering(settings))
        store = await stack.enter_async_context(open_store(settings))
        # The writer replays any spool left on disk (by the drainer, or by an earlier version).
        writer = await stack.enter_async_context(open_writer(settings, store))
        stack.enter_context(watching(observed.writer_probes(writer)))
        if core.redis is not None:  # scans of other redirectors, sent through Redis
            await _drain_stream(stack, core, writer)
        sinks, listeners = await _fan_out(stack, core, _store_sink(stack, store), wake=worker.wake)
        checks = observed.readiness_checks(core, store)
        redirect_app = await stack.enter_async_context(
            open_redirector(
                settings,
                redis=core.redis,
                bus=core.bus,
                sinks=sinks,
                listeners=listeners,
                extra_routes=ops_routes(settings.metrics_token, checks),
            )
        )
        stack.enter_context(watching(observed.redirector_probes(redirect_app)))
        api_app = _api_app(core, store, checks)
        _announce("serve", settings, api=api_at, redirects=redirect_at)
        await run_servers([make_server(api_app, api_at), make_server(redirect_app, redirect_at)])
        log.info("stopping: flushing recorded scans and queued webhooks")
    log.info("stopped")


async def api(settings: Settings, listener: Listener) -> None:
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings))
        await stack.enter_async_context(refreshing())
        store = await _optional_store(stack, settings)
        if store is not None and core.redis is not None and settings.uses_chdb:
            # The owner of the embedded store also takes in the redirectors' scan stream.
            writer = await stack.enter_async_context(open_writer(settings, store))
            stack.enter_context(watching(observed.writer_probes(writer)))
            await _drain_stream(stack, core, writer)
        app = _api_app(core, store, observed.readiness_checks(core, store))
        _announce("api", settings, api=listener)
        await run_servers([make_server(app, listener)])
    log.info("stopped")


async def redirector(settings: Settings, listener: Listener) -> None:
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings))
        await stack.enter_async_context(refreshing())
        sink, store = await _scan_sink(stack, core)
        # No wake-up call across processes: the worker polls the deliveries table.
        sinks, listeners = await _fan_out(stack, core, sink, wake=None)
        if core.redis is None:
            log.warning(
                "without QRMINT_REDIS_URL no update can reach this process: every scan "
                "is resolved from the database (no cache)"
            )
        checks = observed.readiness_checks(core, store)
        app = await stack.enter_async_context(
            open_redirector(
                settings,
                redis=core.redis,
                bus=core.bus,
                sinks=sinks,
                listeners=listeners,
                cached=core.redis is not None,
                extra_routes=ops_routes(settings.metrics_token, checks),
            )
        )
        stack.enter_context(watching(observed.redirector_probes(app)))
        _announce("redirector", settings, redirects=listener)
        await run_servers([make_server(app, listener)])
    log.info("stopped")


async def worker(settings: Settings, listener: Listener | None = None) -> None:
    """Webhook delivery; with a listener, also /metrics and /readyz (and /healthz) there."""
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings))
        await stack.enter_async_context(refreshing())
        await stack.enter_async_context(_delivering(settings))
        servers = []
        if listener is not None:
            checks = observed.readiness_checks(core, None)
            servers.append(make_server(operator_app(settings.metrics_token, checks), listener))
        log.info(
            "qrmint worker: delivering webhooks%s (pid %d)",
            f"; metrics on {listener.url}/metrics" if listener else "",
            os.getpid(),
        )
        await run_servers(servers)
    log.info("stopped")


def _api_app(core: Core, store: ScanStore | None, checks: dict[str, Check]) -> Starlette:
    services = build_services(core, store)
    extra = [*graphql_routes(services), *ops_routes(core.settings.metrics_token, checks)]
    return create_api_app(services, extra_routes=extra)


def _announce(
    command: str,
    settings: Settings,
    *,
    api: Listener | None = None,
    redirects: Listener | None = None,
) -> None:
    parts = []
    if api is not None:
        parts.append(f"API on {api.url} (GraphiQL {api.url}/graphql, reference {api.url}/docs)")
    if redirects is not None:
        parts.append(f"redirects on {redirects.url}")
    log.info("qrmint %s: %s; pid %d", command, ", ".join(parts), os.getpid())
    if api is not None:
        origin = "" if settings.redirect_base_url_set else " (QRMINT_REDIRECT_BASE_URL unset)"
        log.info("short links: %s/<code>%s", settings.redirect_base_url, origin)


async def _drain_stream(stack: AsyncExitStack, core: Core, writer: ScanWriter) -> None:
    assert core.redis is not None
    drainer = StreamDrainer(core.redis, writer)
    await stack.enter_async_context(running(drainer))
    stack.enter_context(watching(observed.drainer_probes(drainer)))


async def _fan_out(
    stack: AsyncExitStack, core: Core, store: ScanSink, *, wake: Callable[[], None] | None
) -> tuple[Sequence[ScanSink], Sequence[ScanListener]]:
    """Every scan goes durably to the store (or its stream) and the webhook outbox, then,
    best effort, to the live counts."""
    shared_cache.use_tiers(load_tiers(core.settings.tiers_file))
    await stack.enter_async_context(running(TierChanges(core.bus)))
    outbox = WebhookOutbox(on_written=wake)
    live = await stack.enter_async_context(running(LiveScanPublisher(core.bus)))
    stack.enter_context(watching(observed.fan_out_probes(outbox, live)))
    return [store, outbox], [live]


@asynccontextmanager
async def _delivering(settings: Settings) -> AsyncIterator[DeliveryWorker]:
    """Webhook delivery in the background until the stack unwinds to here."""
    worker = DeliveryWorker(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop), name="webhook-delivery")
    try:
        with watching(observed.delivery_probes(worker)):
            yield worker
    finally:
        stop.set()
        await task
        await worker.aclose()


async def _scan_sink(stack: AsyncExitStack, core: Core) -> tuple[ScanSink, ScanStore | None]:
    """Where this redirector's scans go, and the store it holds (if it holds one)."""
    settings = core.settings
    if settings.uses_chdb and core.redis is not None:
        # The store has one owner (serve or api); reach it through the stream.
        sink = StreamSink(core.redis)
        await forward_old_stream_spool(settings.data_dir / "stream-spool", sink)
        stack.enter_context(watching(observed.stream_sink_probes(sink)))
        return sink, None
    store = await stack.enter_async_context(open_store(settings))
    writer = await stack.enter_async_context(open_writer(settings, store))  # old spools
    stack.enter_context(watching(observed.writer_probes(writer)))
    return _store_sink(stack, store), store


def _store_sink(stack: AsyncExitStack, store: ScanStore) -> StoreSink:
    sink = StoreSink(store)
    stack.enter_context(watching(observed.store_sink_probes(sink)))
    return sink


async def _optional_store(stack: AsyncExitStack, settings: Settings) -> ScanStore | None:
    """An API beside `serve` on chdb:// cannot open the store: it runs without stats."""
    try:
        return await stack.enter_async_context(open_store(settings))
    except ScanStoreBusy:
        log.warning("the analytics store is owned by another process: stats are unavailable")
        return None
