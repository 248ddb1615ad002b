"""Prometheus metrics: every name defined once, here, and the text a scrape gets.

Two kinds of sources:

* Request metrics are prometheus-client objects updated as requests finish
  (`observe_request`, called by `ops.requests`).
* Everything a component already counts (redirects, scans recorded or dropped, webhook
  deliveries, backlogs) stays a plain int attribute of that component, so its hot path
  pays nothing. The composition root registers a `Probe` per attribute (`watch`), and
  `refresh()` copies the readings into the prometheus objects: at every scrape, and once
  a second in multi-process mode.

Multi-process mode (PROMETHEUS_MULTIPROC_DIR set before the process starts, one empty
directory shared by the processes that serve one port): prometheus-client keeps every value
in per-process files there and a scrape, answered by any one process, sums them. Counters
keep the totals of processes that have exited; gauges are summed over live processes
(`livesum`), or the largest reading for facts every process reads from the same database
(`max`). The periodic refresh is what puts another process's latest readings into the
files, so a scrape may lag the other processes by up to a second.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

from core.config import ConfigError

log = logging.getLogger(__name__)

Kind = Literal["counter", "gauge", "histogram"]
GaugeMode = Literal["livesum", "max"]
Reading = Callable[[], float | Awaitable[float]]
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Family:
    name: str
    help: str
    kind: Kind
    labels: tuple[str, ...] = ()
    gauge_mode: GaugeMode = "livesum"  # how multi-process mode combines the processes' gauges


# The one table of metric names (docs/operations.md lists them for operators).
FAMILIES = {
    family.name: family
    for family in (
        Family(
            "qrmint_http_requests_total",
            "HTTP requests answered, by app, method, route template and status.",
            "counter",
            ("app", "method", "route", "status"),
        ),
        Family(
            "qrmint_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response.",
            "histogram",
            ("app", "method", "route"),
        ),
        Family(
            "qrmint_redirects_total",
            "Redirect requests by outcome: redirected (302), not_found (404), gone (410: paused, "
            "expired, exhausted, deleted) or password_page (a password form or its refusal).",
            "counter",
            ("outcome",),
        ),
        Family(
            "qrmint_scans_recorded_total",
            "Scans written to this process's journal: one per answered redirect (GET).",
            "counter",
        ),
        Family(
            "qrmint_scans_committed_total",
            "Journalled scans committed to every durable sink (store or stream, and webhooks).",
            "counter",
        ),
        Family(
            "qrmint_scans_dropped_total",
            "Scans lost, by stage: journal (could not be written: disk full or I/O error), "
            "corrupt (an unreadable record skipped). Should stay 0.",
            "counter",
            ("stage",),
        ),
        Family(
            "qrmint_scans_stored_total",
            "Scan rows stored in ClickHouse, by source: journal (this process's own) or stream "
            "(drained from other redirectors, or replayed from a spool).",
            "counter",
            ("source",),
        ),
        Family(
            "qrmint_scans_spooled_total",
            "Drained scan rows written to the on-disk spool because the store was slow or down.",
            "counter",
        ),
        Family(
            "qrmint_scan_store_failures_total",
            "Failed insert attempts into the store (each retried), by source.",
            "counter",
            ("source",),
        ),
        Family(
            "qrmint_scans_published_total",
            "Scan rows published to the Redis stream by this redirector.",
            "counter",
        ),
        Family(
            "qrmint_scans_drained_total",
            "Scan rows taken from the Redis stream into the store by its owner.",
            "counter",
        ),
        Family(
            "qrmint_scan_backlog",
            "Scan rows waiting, by stage: journal (not yet committed), spool (drained rows on "
            "disk waiting for the store).",
            "gauge",
            ("stage",),
        ),
        Family(
            "qrmint_scan_backlog_bytes",
            "Bytes of journal not yet committed by every durable sink.",
            "gauge",
        ),
        Family(
            "qrmint_scan_backlog_age_seconds",
            "Age of the oldest scan not yet committed (0 when none waits).",
            "gauge",
        ),
        Family(
            "qrmint_scan_sinks_failing",
            "Durable sinks whose last attempt failed (their scans wait in the journal).",
            "gauge",
        ),
        Family(
            "qrmint_scan_stream_entries",
            "Entries waiting in the Redis scan stream at this redirector's last round trip.",
            "gauge",
        ),
        Family(
            "qrmint_webhook_deliveries_total",
            "Webhook delivery attempts by outcome: delivered or failed.",
            "counter",
            ("outcome",),
        ),
        Family(
            "qrmint_webhook_deliveries_pending",
            "Webhook deliveries waiting in the database (first attempt or retry).",
            "gauge",
            gauge_mode="max",
        ),
        Family(
            "qrmint_webhook_backlog_age_seconds",
            "Age of the oldest webhook delivery waiting in the database (0 when none).",
            "gauge",
            gauge_mode="max",
        ),
        Family(
            "qrmint_webhook_deliveries_queued_total",
            "Webhook delivery rows queued from scans (a replay after a crash adds none).",
            "counter",
        ),
        Family(
            "qrmint_live_events_dropped_total",
            "Scan events not published to live subscribers (they resync from the store).",
            "counter",
        ),
    )
}

Metric = Counter | Gauge | Histogram
_metrics: dict[str, Metric] = {}


def metric(name: str) -> Metric:
    """The prometheus object of a family, created on first use (never at import time)."""
    found = _metrics.get(name)
    if found is None:
        found = _metrics[name] = _create(FAMILIES[name])
    return found


def _create(family: Family) -> Metric:
    disable_created_metrics()  # type: ignore[no-untyped-call]  # the `_created` twin of every series is noise here
    if family.kind == "counter":
        return Counter(family.name, family.help, family.labels)
    if family.kind == "histogram":
        return Histogram(family.name, family.help, family.labels, buckets=LATENCY_BUCKETS)
    return Gauge(family.name, family.help, family.labels, multiprocess_mode=family.gauge_mode)


def observe_request(app: str, method: str, route: str, status: int, seconds: float) -> None:
    requests = metric("qrmint_http_requests_total")
    duration = metric("qrmint_http_request_duration_seconds")
    assert isinstance(requests, Counter)
    assert isinstance(duration, Histogram)
    requests.labels(app, method, route, str(status)).inc()
    duration.labels(app, method, route).observe(seconds)


@dataclass(eq=False)
class Probe:
    """One component attribute feeding one series of a counter or gauge family."""

    name: str
    read: Reading
    labels: tuple[str, ...] = ()
    last: float = field(default=0.0)


_probes: list[Probe] = []


@contextmanager
def watching(probes: list[Probe]) -> Iterator[None]:
    """Feed these probes into the metrics while the block runs (a component's lifetime)."""
    for probe in probes:
        assert FAMILIES[probe.name].kind != "histogram", probe.name
        _probes.append(probe)
    try:
        yield
    finally:
        for probe in probes:
            _probes.remove(probe)


async def refresh() -> None:
    gauges: dict[tuple[str, tuple[str, ...]], float] = {}
    for probe in list(_probes):
        try:
            value = probe.read()
            current = float(await value if inspect.isawaitable(value) else value)
        except Exception as exc:  # one unreadable source must not fail the whole scrape
            log.warning("metric %s%s could not be read: %s", probe.name, list(probe.labels), exc)
            continue
        if FAMILIES[probe.name].kind == "gauge":
            key = (probe.name, probe.labels)
            gauges[key] = gauges.get(key, 0.0) + current
            continue
        counter = _labelled(probe.name, probe.labels)
        if current > probe.last:
            counter.inc(current - probe.last)
        probe.last = current  # a smaller reading is a restarted component: count from there
    for (name, labels), total in gauges.items():
        gauge = _labelled(name, labels)
        assert isinstance(gauge, Gauge)
        gauge.set(total)


def _labelled(name: str, labels: tuple[str, ...]) -> Counter | Gauge:
    found = metric(name)
    assert isinstance(found, Counter | Gauge)
    return found.labels(*labels) if labels else found


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def check_environment() -> None:
    """Called before anything is measured: multi-process mode needs its directory."""
    path = multiprocess_dir()
    if path is not None and not os.path.isdir(path):
        raise ConfigError(
            f"{MULTIPROC_ENV}: {path!r} is not a directory; create it (empty) before starting, "
            "or unset it for single-process metrics"
        )


async def exposition() -> tuple[bytes, str]:
    """The text of a scrape, and its content type."""
    await refresh()
    if multiprocess_dir() is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


@asynccontextmanager
async def refreshing(interval: float = 1.0) -> AsyncIterator[None]:
    """In multi-process mode, keep this process's readings current for the others' scrapes;
    at the end, take this process's live gauges out of the sums."""
    path = multiprocess_dir()
    if path is None:
        yield
        return
    task = asyncio.create_task(_refresh_every(interval), name="metrics-refresh")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await refresh()
        _multiprocess.mark_process_dead(os.getpid(), path)  # type: ignore[no-untyped-call]


async def _refresh_every(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await refresh()
