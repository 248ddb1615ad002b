"""What the operator routes read in this process: readiness checks and metric probes.

Every hook from a component attribute to a metric is here, in one place, so a component
that changes its counters is re-pointed here and nowhere else:

| metric (labels)                                  | reads                                   |
|--------------------------------------------------|-----------------------------------------|
| qrmint_redirects_total{outcome=redirected}       | redirect app `state.redirects.redirected` |
| qrmint_redirects_total{outcome=not_found}        | redirect app `state.redirects.not_found`  |
| qrmint_scans_recorded_total                      | `ScanRecorder.recorded`                 |
| qrmint_scans_dropped_total{stage=recorder}       | `ScanRecorder.dropped`                  |
| qrmint_scans_dropped_total{stage=stream}         | `StreamScanSink.dropped`                |
| qrmint_scans_published_total                     | `StreamScanSink.published`              |
| qrmint_scan_backlog{stage=stream_buffer}         | `StreamScanSink.buffered`               |
| qrmint_scans_drained_total                       | `StreamDrainer.drained`                 |
| qrmint_scans_stored_total                        | `ScanWriter.stats().written`            |
| qrmint_scans_spooled_total                       | `ScanWriter.stats().spooled`            |
| qrmint_scan_store_failures_total                 | `ScanWriter.stats().failures`           |
| qrmint_scan_backlog{stage=writer_memory}         | `ScanWriter.stats().buffered`           |
| qrmint_scan_backlog{stage=writer_spool}          | `ScanWriter.stats().spool_rows`         |
| qrmint_webhook_events_dropped_total              | `WebhookOutbox.dropped`                 |
| qrmint_live_events_dropped_total                 | `LiveScanPublisher.dropped`             |
| qrmint_webhook_deliveries_total{outcome}         | `DeliveryWorker.outcomes[outcome]`      |
| qrmint_webhook_deliveries_pending                | count of pending `WebhookDelivery` rows |
"""

from __future__ import annotations

import anyio
from starlette.applications import Starlette

from analytics.store import ScanStore
from analytics.stream import StreamDrainer, StreamScanSink
from analytics.writer import ScanWriter
from core.db import ping_database
from core.live import LiveScanPublisher
from core.models import WebhookDelivery
from core.webhooks.delivery import DeliveryWorker
from core.webhooks.outbox import WebhookOutbox
from core.webhooks.queue import PENDING
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
    redirects, recorder = app.state.redirects, app.state.recorder
    return [
        Probe("qrmint_redirects_total", lambda: redirects.redirected, ("redirected",)),
        Probe("qrmint_redirects_total", lambda: redirects.not_found, ("not_found",)),
        Probe("qrmint_scans_recorded_total", lambda: recorder.recorded),
        Probe("qrmint_scans_dropped_total", lambda: recorder.dropped, ("recorder",)),
    ]


def writer_probes(writer: ScanWriter) -> list[Probe]:
    return [
        Probe("qrmint_scans_stored_total", lambda: writer.stats().written),
        Probe("qrmint_scans_spooled_total", lambda: writer.stats().spooled),
        Probe("qrmint_scan_store_failures_total", lambda: writer.stats().failures),
        Probe("qrmint_scan_backlog", lambda: writer.stats().buffered, ("writer_memory",)),
        Probe("qrmint_scan_backlog", lambda: writer.stats().spool_rows, ("writer_spool",)),
    ]


def stream_sink_probes(sink: StreamScanSink) -> list[Probe]:
    return [
        Probe("qrmint_scans_published_total", lambda: sink.published),
        Probe("qrmint_scans_dropped_total", lambda: sink.dropped, ("stream",)),
        Probe("qrmint_scan_backlog", lambda: sink.buffered, ("stream_buffer",)),
    ]


def drainer_probes(drainer: StreamDrainer) -> list[Probe]:
    return [Probe("qrmint_scans_drained_total", lambda: drainer.drained)]


def fan_out_probes(outbox: WebhookOutbox, live: LiveScanPublisher) -> list[Probe]:
    return [
        Probe("qrmint_webhook_events_dropped_total", lambda: outbox.dropped),
        Probe("qrmint_live_events_dropped_total", lambda: live.dropped),
    ]


def delivery_probes(worker: DeliveryWorker) -> list[Probe]:
    probes = [
        Probe("qrmint_webhook_deliveries_total", _outcome(worker, name), (name,))
        for name in DELIVERY_OUTCOMES
    ]
    probes.append(Probe("qrmint_webhook_deliveries_pending", _pending_deliveries))
    return probes


def _outcome(worker: DeliveryWorker, name: str) -> Reading:
    return lambda: worker.outcomes[name]


async def _pending_deliveries() -> float:
    return float(await WebhookDelivery.filter(status=PENDING).count())
