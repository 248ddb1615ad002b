"""What the operator routes read in this process: readiness checks and metric probes.

Every hook from a component attribute to a metric is here, in one place, so a component
that changes its counters is re-pointed here and nowhere else:

| metric (labels)                                  | reads                                     |
|--------------------------------------------------|-------------------------------------------|
| qrmint_redirects_total{outcome=redirected}       | redirect app `state.redirects.redirected` |
| qrmint_redirects_total{outcome=not_found}        | redirect app `state.redirects.not_found`  |
| qrmint_redirects_total{outcome=gone}             | redirect app `state.redirects.gone`       |
| qrmint_redirects_total{outcome=password_page}    | `state.redirects.password_page`           |
| qrmint_scans_recorded_total                      | `Journal.stats().recorded`                |
| qrmint_scans_committed_total                     | `ScanConsumer.stats().committed`          |
| qrmint_scans_dropped_total{stage=journal}        | `Journal.stats().write_errors`            |
| qrmint_scans_dropped_total{stage=corrupt}        | `ScanConsumer.stats().corrupt`            |
| qrmint_scan_backlog{stage=journal}               | `Journal.stats().backlog_rows`            |
| qrmint_scan_backlog{stage=spool}                 | `ScanWriter.stats().spool_rows`           |
| qrmint_scan_backlog_bytes                        | `Journal.stats().backlog_bytes`           |
| qrmint_scan_backlog_age_seconds                  | `Journal.stats().oldest_age`              |
| qrmint_scan_sinks_failing                        | `ScanConsumer.stats().failing_sinks`      |
| qrmint_scans_stored_total{source=journal}        | `StoreSink.stats().written`               |
| qrmint_scans_stored_total{source=stream}         | `ScanWriter.stats().written`              |
| qrmint_scan_store_failures_total{source=...}     | `StoreSink` / `ScanWriter` `.failures`    |
| qrmint_scans_spooled_total                       | `ScanWriter.stats().spooled`              |
| qrmint_scans_published_total                     | `StreamSink.stats().published`            |
| qrmint_scan_stream_entries                       | `StreamSink.stats().stream_entries`       |
| qrmint_scans_drained_total                       | `StreamDrainer.stats().drained`           |
| qrmint_webhook_deliveries_queued_total           | `WebhookOutbox.stats().deliveries`        |
| qrmint_live_events_dropped_total                 | `LiveScanPublisher.dropped`               |
| qrmint_webhook_deliveries_total{outcome}         | `DeliveryWorker.outcomes[outcome]`        |
| qrmint_webhook_deliveries_pending                | `core.webhooks.queue.backlog().pending`   |
| qrmint_webhook_backlog_age_seconds               | `core.webhooks.queue.backlog().oldest_age`|
"""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
from starlette.applications import Starlette

from analytics.sinks import StoreSink
from analytics.store import ScanStore
from analytics.stream import StreamDrainer, StreamSink
from analytics.writer import ScanWriter
from core.db import ping_database
from core.live import LiveScanPublisher
from core.webhooks.delivery import DeliveryWorker
from core.webhooks.outbox import WebhookOutbox
from core.webhooks.queue import backlog
from ops.metrics import Probe, Reading
from ops.readiness import Check
from qrmint.runtime import Core

DELIVERY_OUTCOMES = ("delivered", "failed")


def readiness_checks(core: Core, store: ScanStore | None) -> dict[str, Check]:
    """The stores this process was configured with and holds."""
    checks: dict[str, Check] = {"database": ping_database}
    redis = core.redis
    if redis is not None:

        async def ping_redis() -> object:
            return await redis.ping()  # type: ignore[misc]

        checks["redis"] = ping_redis
    if store is not None:

        async def ping_clickhouse() -> object:
            return await anyio.to_thread.run_sync(store.query, "SELECT 1", {})

        checks["clickhouse"] = ping_clickhouse
    return checks


def redirector_probes(app: Starlette) -> list[Probe]:
    redirects, journal, consumer = app.state.redirects, app.state.journal, app.state.consumer
    return [
        Probe("qrmint_redirects_total", lambda: redirects.redirected, ("redirected",)),
        Probe("qrmint_redirects_total", lambda: redirects.not_found, ("not_found",)),
        Probe("qrmint_redirects_total", lambda: redirects.gone, ("gone",)),
        Probe("qrmint_redirects_total", lambda: redirects.password_page, ("password_page",)),
        Probe("qrmint_scans_recorded_total", lambda: journal.stats().recorded),
        Probe("qrmint_scans_committed_total", lambda: consumer.stats().committed),
        Probe("qrmint_scans_dropped_total", lambda: journal.stats().write_errors, ("journal",)),
        Probe("qrmint_scans_dropped_total", lambda: consumer.stats().corrupt, ("corrupt",)),
        Probe("qrmint_scan_backlog", lambda: journal.stats().backlog_rows, ("journal",)),
        Probe("qrmint_scan_backlog_bytes", lambda: journal.stats().backlog_bytes),
        Probe("qrmint_scan_backlog_age_seconds", lambda: journal.stats().oldest_age),
        Probe("qrmint_scan_sinks_failing", lambda: consumer.stats().failing_sinks),
    ]


def store_sink_probes(sink: StoreSink) -> list[Probe]:
    return [
        Probe("qrmint_scans_stored_total", lambda: sink.stats().written, ("journal",)),
        Probe("qrmint_scan_store_failures_total", lambda: sink.stats().failures, ("journal",)),
    ]


def writer_probes(writer: ScanWriter) -> list[Probe]:
    """The writer stores what the drainer takes from the stream (and replays old spools)."""
    return [
        Probe("qrmint_scans_stored_total", lambda: writer.stats().written, ("stream",)),
        Probe("qrmint_scan_store_failures_total", lambda: writer.stats().failures, ("stream",)),
        Probe("qrmint_scans_spooled_total", lambda: writer.stats().spooled),
        Probe("qrmint_scan_backlog", lambda: writer.stats().spool_rows, ("spool",)),
    ]


def stream_sink_probes(sink: StreamSink) -> list[Probe]:
    return [
        Probe("qrmint_scans_published_total", lambda: sink.stats().published),
        Probe("qrmint_scan_stream_entries", lambda: sink.stats().stream_entries),
    ]


def drainer_probes(drainer: StreamDrainer) -> list[Probe]:
    return [Probe("qrmint_scans_drained_total", lambda: drainer.stats().drained)]


def fan_out_probes(outbox: WebhookOutbox, live: LiveScanPublisher) -> list[Probe]:
    return [
        Probe("qrmint_webhook_deliveries_queued_total", lambda: outbox.stats().deliveries),
        Probe("qrmint_live_events_dropped_total", lambda: live.dropped),
    ]


def delivery_probes(worker: DeliveryWorker) -> list[Probe]:
    probes = [
        Probe("qrmint_webhook_deliveries_total", _outcome(worker, name), (name,))
        for name in DELIVERY_OUTCOMES
    ]
    probes.append(Probe("qrmint_webhook_deliveries_pending", _pending_deliveries))
    probes.append(Probe("qrmint_webhook_backlog_age_seconds", _oldest_delivery_age))
    return probes


def _outcome(worker: DeliveryWorker, name: str) -> Reading:
    return lambda: worker.outcomes[name]


async def _pending_deliveries() -> float:
    return float((await backlog(datetime.now(UTC))).pending)


async def _oldest_delivery_age() -> float:
    return (await backlog(datetime.now(UTC))).oldest_age
