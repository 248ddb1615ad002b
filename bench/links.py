"""Smart links: what rules, splits and the new breakdowns cost, each against its anchor.

    python -m bench.links            (QRMINT_BENCH_LINK_ROWS=1000000 for a quicker stats part)

(a) One real redirector process (as bench.redirect's, with the live publisher) serves a
    plain dynamic link and a link with 10 rules and a 3-way split that the request matches
    none of (every rule is evaluated, then the split), in the same run: target smart/plain
    throughput >= 0.9. Country and agent lookups are cached per client after its first scan.
(b) The stats of one QR with 1,000,000 scans in a 10,000,000-row table (as bench.analytics),
    today's query with the new breakdowns (bots, referrers, languages, hours and weekdays in
    a time zone, targets, outcomes) against the first wave's three queries on the same data:
    target new/old p50 <= 1.10.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.loadgen import HEADER, REPORT_LUA, Result, find_wrk, free_port, run_wrk, wait_healthy
from bench.redirect import USER_AGENT, _installed, _uvicorn

CONNECTIONS, DURATION_S, WARMUP_S, ROUNDS = 32, 10, 2, 2
PLAIN, SMART = "plaincode1", "smartcode1"
SECRET = "bench-secret-key-0123456789abcdef"
WRK_SCRIPT = (
    f'wrk.headers["User-Agent"] = "{USER_AGENT}"\n'
    'wrk.headers["Accept-Language"] = "en-US,en;q=0.9"\n' + REPORT_LUA
)
# Ten rules a phone from 127.0.0.1 speaking English matches none of, one per kind and more.
RULES: list[dict[str, Any]] = [
    {"if": {"country": ["DE", "AT", "CH"]}, "destination": "https://dach.example/"},
    {"if": {"country": ["FR"], "device": ["mobile"]}, "destination": "https://fr.example/"},
    {"if": {"device": ["desktop"]}, "destination": "https://desk.example/"},
    {"if": {"device": ["tablet"], "os": ["android"]}, "destination": "https://tab.example/"},
    {"if": {"os": ["windows", "linux"]}, "destination": "https://pc.example/"},
    {"if": {"language": ["fr", "es"]}, "destination": "https://romance.example/"},
    {"if": {"language": ["de"], "os": ["ios"]}, "destination": "https://de-ios.example/"},
    {"if": {"country": ["JP"], "language": ["ja"]}, "destination": "https://jp.example/"},
    {"if": {"time": {"from": "00:00", "to": "00:01", "days": ["sun"], "tz": "Pacific/Kiritimati"}},
     "destination": "https://night.example/"},
    {"if": {"device": ["bot"]}, "destination": "https://bots.example/"},
]  # fmt: skip
SPLIT = [{"destination": f"https://v{n}.example/", "weight": w} for n, w in enumerate((5, 3, 2))]
TABLE_ROWS = int(os.environ.get("QRMINT_BENCH_LINK_ROWS", "10000000"))
RUNS = 20


def run() -> None:
    bench_redirects()
    bench_stats()


# --- (a) redirects ------------------------------------------------------------------------


def bench_redirects() -> None:
    wrk = find_wrk("bench.links")
    if wrk is None:
        print("bench.links: redirects skipped, `wrk` is not installed (apt-get install wrk)")
        return
    with tempfile.TemporaryDirectory(prefix="qrmint-bench-") as tmp:
        work = Path(tmp)
        env = {
            "QRMINT_DATA_DIR": str(work), "QRMINT_SECRET_KEY": SECRET, "QRMINT_REDIS_URL": "",
            "QRMINT_DATABASE_URL": f"sqlite://{work / 'bench.sqlite3'}",
        }  # fmt: skip
        asyncio.run(_prepare(env))
        script = work / "report.lua"
        script.write_text(WRK_SCRIPT)
        port = free_port()
        root = str(Path(__file__).resolve().parents[1])
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.links", "serve", str(port)],
            env={**os.environ, **env, "PYTHONPATH": root}, cwd=work,
        )  # fmt: skip
        try:
            wait_healthy(f"http://127.0.0.1:{port}", server)
            results = _alternated(wrk, script, f"http://127.0.0.1:{port}")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
    _report_redirects(*results)


def _alternated(wrk: str, script: Path, base: str) -> tuple[Result, Result]:
    """Plain, smart, plain, smart: a change in the machine's load falls on both alike."""
    load = {"connections": CONNECTIONS, "threads": 1}
    names = {PLAIN: "plain dynamic link", SMART: "10 rules + 3-way split"}
    for code in names:
        run_wrk(wrk, script, f"{base}/{code}", name="warm-up", seconds=WARMUP_S, **load)
    runs: dict[str, list[Result]] = {code: [] for code in names}
    for _ in range(ROUNDS):
        for code, name in names.items():
            seconds = DURATION_S // ROUNDS
            runs[code].append(
                run_wrk(wrk, script, f"{base}/{code}", name=name, seconds=seconds, **load)
            )
    plain, smart = (_combined(runs[code]) for code in names)
    return plain, smart


def _combined(results: list[Result]) -> Result:
    requests = sum(r.requests for r in results)
    seconds = sum(r.requests / r.rps for r in results if r.rps)
    return Result(
        name=results[0].name,
        requests=requests,
        rps=requests / seconds if seconds else 0.0,
        p50_ms=max(r.p50_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        errors=sum(r.errors for r in results),
    )


def _report_redirects(plain: Result, smart: Result) -> None:
    print(
        f"\nwrk: {CONNECTIONS} connections, {DURATION_S} s each in {ROUNDS} alternated rounds, "
        "one redirector process (p50/p99: the worse round)"
    )
    print(HEADER)
    print(plain.row())
    print(smart.row())
    ratio = smart.rps / plain.rps if plain.rps else 0.0
    verdict = "ok" if ratio >= 0.9 else "MISSED"
    print(f"links: smart/plain throughput {ratio:.2f} (target >= 0.9: {verdict})")


async def _prepare(env: dict[str, str]) -> None:
    from core.config import load_settings
    from core.db import close_database, migrate_database, open_database
    from core.models import Account, QrCode, new_id

    settings = load_settings(env, env_file="/nonexistent")
    await migrate_database(settings)
    await open_database(settings)
    try:
        account = await Account.create(id=new_id("acc"), tier="mega")
        common: dict[str, Any] = {
            "account": account, "type": "dynamic", "format": "png", "size": 256, "margin": 4,
            "error_correction": "M",
        }  # fmt: skip
        await QrCode.create(id=new_id("qr"), data=f"x/{PLAIN}", short_code=PLAIN,
                            destination="https://example.com/landing", **common)  # fmt: skip
        await QrCode.create(id=new_id("qr"), data=f"x/{SMART}", short_code=SMART,
                            destination="https://example.com/landing", rules=RULES,
                            split=SPLIT, **common)  # fmt: skip
    finally:
        await close_database()


async def _serve(port: int) -> None:
    from core.bus import LocalBus
    from core.config import load_settings
    from core.db import close_database, open_database
    from core.live import LiveScanPublisher
    from qrmint.servers import tune_gc_for_latency
    from redirector.wiring import open_redirector

    class Counter:
        rows = 0

        async def commit(self, batch: Any) -> None:
            Counter.rows += len(batch.rows)

    settings = load_settings()
    await open_database(settings)
    bus = LocalBus()
    live = LiveScanPublisher(bus)
    await live.start()
    async with open_redirector(
        settings, redis=None, bus=bus, sinks=[Counter()], listeners=[live]
    ) as app:
        tune_gc_for_latency()
        await _uvicorn(app, port).serve()
    await live.aclose()
    await close_database()


# --- (b) stats ----------------------------------------------------------------------------

QR_ID = "bench-qr"
_GENERATE = f"""
INSERT INTO $scans (scanned_at, qr_id, account_id, short_code, destination, visitor,
                    is_unique, country, city, device, browser, os, referrer_host, is_bot,
                    language, target, outcome, domain)
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
    ['', 'news.example', 't.co', 'mail.example'][1 + cityHash64(number, 10) % 4],
    cityHash64(number, 9) % 50 = 0,
    ['de-DE', 'en-US', 'fr-FR', 'en-GB', ''][1 + cityHash64(number, 11) % 5],
    ['default', 'rule:0', 'rule:1', 'split:0', 'split:1'][1 + cityHash64(number, 12) % 5],
    if(cityHash64(number, 13) % 100 < 97, 'redirected',
       ['password_page', 'gone'][1 + cityHash64(number, 14) % 2]),
    ''
FROM numbers({TABLE_ROWS})
"""

# The first wave's stats queries, verbatim but for the table name: the anchor.
_OLD_TOTALS = """
SELECT count(), uniqExact(visitor_key) FROM $scans
WHERE qr_id = {qr_id:String} AND scanned_at >= {start:DateTime64(3, 'UTC')}
    AND scanned_at < {stop:DateTime64(3, 'UTC')} AND NOT is_bot
"""
_OLD_DAYS = """
SELECT day, sum(scans), uniqExactMerge(visitors) FROM $scans_daily
WHERE qr_id = {qr_id:String} AND day >= {first:Date} AND day <= {last:Date} GROUP BY day
"""
_OLD_BREAKDOWNS = """
SELECT sumMap(by_country), sumMap(by_city), sumMap(by_device), sumMap(by_browser), sumMap(by_os)
FROM $scans_daily WHERE qr_id = {qr_id:String} AND day >= {first:Date} AND day <= {last:Date}
"""


def bench_stats() -> None:
    from analytics.stats import fetch_stats
    from analytics.store import open_scan_store

    with tempfile.TemporaryDirectory(prefix="qrmint-bench-") as tmp:
        store = open_scan_store(f"chdb://{Path(tmp) / 'analytics'}")
        try:
            store.migrate()
            began = time.perf_counter()
            store.query(_GENERATE, {})
            store.query("OPTIMIZE TABLE $scans FINAL", {})
            store.query("OPTIMIZE TABLE $scans_daily FINAL", {})
            print(f"\nlinks: {TABLE_ROWS:,} scans generated and merged in "
                  f"{time.perf_counter() - began:.0f} s")  # fmt: skip
            end = datetime.now(UTC).date()
            start = end - timedelta(days=364)
            window = {"qr_id": QR_ID, "start": f"{start} 00:00:00",
                      "stop": f"{end + timedelta(days=1)} 00:00:00"}  # fmt: skip
            days = {"qr_id": QR_ID, "first": str(start), "last": str(end)}
            old_queries = [(_OLD_TOTALS, window), (_OLD_DAYS, days), (_OLD_BREAKDOWNS, days)]
            # Alternated, so that load on the machine falls on both alike.
            old, new = _alternate(
                lambda: store.query_many(old_queries),
                lambda: fetch_stats(store, QR_ID, start, end, "Europe/Berlin"),
            )
        finally:
            store.close()
    _report("first-wave stats (3 queries)", old)
    _report("stats with the new breakdowns", new)
    ratio = statistics.median(new) / statistics.median(old)
    verdict = "ok" if ratio <= 1.10 else "MISSED"
    print(f"links: new/old stats p50 {ratio:.2f} (target <= 1.10: {verdict}); "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def _alternate(
    first: Callable[[], object], second: Callable[[], object]
) -> tuple[list[float], list[float]]:
    first(), second()  # warm caches, as a live server would be
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(RUNS):
        for index, call in enumerate((first, second)):
            began = time.perf_counter()
            call()
            timings[index].append((time.perf_counter() - began) * 1000)
    return timings


def _report(label: str, timings: list[float]) -> None:
    p50 = statistics.median(timings)
    p90 = statistics.quantiles(timings, n=10, method="inclusive")[8]
    print(f"links: {label}: p50 {p50:.1f} ms, p90 {p90:.1f} ms over {RUNS} runs")


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        main = _serve(int(sys.argv[2]))
        if _installed("uvloop"):
            import uvloop

            uvloop.run(main)
        else:
            asyncio.run(main)
    else:
        run()
