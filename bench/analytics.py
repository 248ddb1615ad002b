"""Analytics benchmarks on the embedded engine: stats latency and store-sink ingest rate.

    python -m bench.analytics

(a) `fetch_stats` for one QR with 1,000,000 scans over a year, in a 10,000,000-row table,
    merged as a long-lived table would be; target p50 <= 50 ms. Its two queries are also
    timed alone. The machine's load average is printed: other work skews the numbers.
(b) Sustained StoreSink ingest (10,000-row batches, as the journal consumer sends them) of
    500,000 scans into the same store; target >= 50,000/s.
Everything lives in a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

from analytics.sinks import StoreSink
from analytics.stats import BREAKDOWNS_SQL, DAYS_SQL, TOTALS_SQL, fetch_stats
from analytics.store import ScanStore, open_scan_store
from core.scans import ScanBatch, ScanRow

TABLE_ROWS = 10_000_000
QR_ID = "bench-qr"  # every 10th generated row: 1,000,000 scans
RUNS = 20
INGEST_ROWS = 500_000
INGEST_BATCH = 10_000
STATS_TARGET_MS = 50.0
INGEST_TARGET = 50_000.0

_GENERATE = f"""
INSERT INTO $scans (scanned_at, qr_id, account_id, short_code, destination, visitor,
                    is_unique, country, city, device, browser, os, referrer_host, is_bot)
SELECT
    now64(3, 'UTC') - toIntervalMillisecond(cityHash64(number, 1) % (364 * 86400000)),
    if(number % 10 = 0, '{QR_ID}', concat('qr-', toString(number % 997))),
    'acct', 'code', 'https://example.com/landing',
    hex(cityHash64(cityHash64(number, 2) % 250000)),
    cityHash64(number, 3) % 4 = 0,
    ['DE', 'US', 'FR', 'GB', 'JP', 'BR', 'IN', ''][1 + cityHash64(number, 4) % 8] AS cc,
    if(cc = '', '', concat(cc, '-city-', toString(cityHash64(number, 5) % 20))),
    ['mobile', 'desktop', 'tablet', ''][1 + cityHash64(number, 6) % 4],
    ['Chrome', 'Safari', 'Firefox', 'Edge', 'curl'][1 + cityHash64(number, 7) % 5],
    ['Android', 'iOS', 'Windows', 'Mac OS X', 'Linux'][1 + cityHash64(number, 8) % 5],
    '', cityHash64(number, 9) % 50 = 0
FROM numbers({TABLE_ROWS})
"""


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="qrmint-bench-") as tmp:
        store = open_scan_store(f"chdb://{Path(tmp) / 'analytics'}")
        try:
            store.migrate()
            bench_stats(store)
            asyncio.run(bench_ingest(store, Path(tmp) / "spool"))
        finally:
            store.close()


def bench_stats(store: ScanStore) -> None:
    began = time.perf_counter()
    store.query(_GENERATE, {})
    print(f"analytics: generated {TABLE_ROWS:,} scans in {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    store.query("OPTIMIZE TABLE $scans FINAL", {})
    store.query("OPTIMIZE TABLE $scans_daily FINAL", {})
    print(f"analytics: merged the table in {time.perf_counter() - began:.1f} s")
    end = datetime.now(UTC).date()
    start = end - timedelta(days=364)
    stats = fetch_stats(store, QR_ID, start, end)
    print(
        f"analytics: {QR_ID}: {stats.total_scans:,} scans (bots excluded), "
        f"{stats.unique_scans:,} unique, {len(stats.by_day)} days, {len(stats.by_city)} cities;"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    timings = _time(lambda: fetch_stats(store, QR_ID, start, end))
    _report("stats query (fetch_stats, 1 year, 1M scans)", timings, STATS_TARGET_MS)
    window = {"qr_id": QR_ID, "start": f"{start} 00:00:00", "stop": f"{_next(end)} 00:00:00"}
    days = {"qr_id": QR_ID, "first": str(start), "last": str(end)}
    for label, sql, params in (
        ("  totals (raw scans)", TOTALS_SQL, window),
        ("  days (rollup)", DAYS_SQL, days),
        ("  breakdowns (rollup)", BREAKDOWNS_SQL, days),
    ):
        _report(label, _time(partial(store.query, sql, params)), None)


async def bench_ingest(store: ScanStore, spool_dir: Path) -> None:
    """The journal consumer's store sink: batches of 10,000 rows, each with its token."""
    rows = _ingest_rows(INGEST_ROWS)
    sink = StoreSink(store)
    began = time.perf_counter()
    for first in range(0, len(rows), INGEST_BATCH):
        chunk = rows[first : first + INGEST_BATCH]
        keys = [f"bench-{first + n}" for n in range(len(chunk))]
        await sink.commit(ScanBatch(f"bench-{first}", chunk, keys))
    elapsed = time.perf_counter() - began
    rate = sink.written / elapsed
    verdict = "ok" if rate >= INGEST_TARGET else "MISSED"
    print(
        f"analytics: StoreSink ingest: {sink.written:,} rows in {elapsed:.2f} s = "
        f"{rate:,.0f} rows/s (target >= {INGEST_TARGET:,.0f}) [{verdict}]"
    )


def _ingest_rows(count: int) -> list[ScanRow]:
    moment = datetime.now(UTC)
    return [
        ScanRow(moment, f"ingest-{n % 100}", "acct", "code", "https://example.com/",
                f"visitor-{n % 50_000}", n % 3 == 0, "DE", "Berlin", "mobile",
                "Chrome", "Android", "", False)
        for n in range(count)
    ]  # fmt: skip


def _time(call: Callable[[], object]) -> list[float]:
    call()  # warm caches once, as a live server would be
    timings = []
    for _ in range(RUNS):
        began = time.perf_counter()
        call()
        timings.append((time.perf_counter() - began) * 1000)
    return timings


def _report(label: str, timings: list[float], target: float | None) -> None:
    p50 = statistics.median(timings)
    p99 = statistics.quantiles(timings, n=100, method="inclusive")[98]
    verdict = "" if target is None else f" (target p50 <= {target:.0f} ms) "
    if target is not None:
        verdict += "[ok]" if p50 <= target else "[MISSED]"
    print(f"analytics: {label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms over {RUNS} runs{verdict}")


def _next(day: date) -> date:
    return day + timedelta(days=1)


if __name__ == "__main__":
    run()
