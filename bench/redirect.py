"""Redirect throughput and latency: the real redirector against a bare Starlette 302.

    python -m bench.redirect

Both servers run as separate uvicorn processes (one worker, uvloop + httptools when
installed) on 127.0.0.1, and are driven by `wrk` (32 connections, ~10 s, after a short
warm-up) in the same run. The real one is measured three times: `memory` counts scans in
memory instead of journalling them (the cost floor without durability: what the
redirector did before the scan journal), `counter` journals every scan before its 302 and
commits it from the journal to a sink that only counts rows (the durable path's cost),
and `writer` (when chdb is installed) commits to a throw-away embedded store as `qrmint
serve` does. Live-count events ride along. Each prints how many scans reached the sink
(warm-up included). Targets: real/bare throughput >= 0.6 and real p99 <= 5 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from bench.loadgen import HEADER, REPORT_LUA, Result, find_wrk, free_port, run_wrk, wait_healthy
from qrmint.servers import tune_gc_for_latency

CONNECTIONS = 32
# One wrk thread: on a small machine a second one only takes CPU from the server under test.
WRK_THREADS = 1 if (os.cpu_count() or 1) <= 2 else 2
DURATION_S = int(os.environ.get("BENCH_SECONDS", "10"))  # shorter for a quick look
WARMUP_S = 2
CODE = "benchcode1"
DESTINATION = "https://example.com/landing?utm_source=qr"
USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
SECRET = "bench-secret-key-0123456789abcdef"
WRK_SCRIPT = f'wrk.headers["User-Agent"] = "{USER_AGENT}"\n' + REPORT_LUA


def run() -> None:
    wrk = find_wrk("bench.redirect")
    if wrk is None:
        print("bench.redirect: skipped, `wrk` is not installed (apt-get install wrk)")
        return
    with tempfile.TemporaryDirectory(prefix="qrmint-bench-") as tmp:
        work = Path(tmp)
        env = _environment(work)
        asyncio.run(_prepare_database(env))
        script = work / "report.lua"
        script.write_text(WRK_SCRIPT)
        bare = _measure(wrk, script, "bare starlette 302", "bare", env, work)
        reals = []
        sinks = (
            ("memory", "counter", "writer") if _scan_writer_available() else ("memory", "counter")
        )
        for sink in sinks:
            result = _measure(wrk, script, f"redirector+{sink}", f"real-{sink}", env, work)
            reals.append((result, json.loads((work / f"stats-{sink}.json").read_text())))
    _report(bare, reals)


def _environment(work: Path) -> dict[str, str]:
    return {
        "QRMINT_DATA_DIR": str(work),
        "QRMINT_DATABASE_URL": f"sqlite://{work / 'bench.sqlite3'}",
        "QRMINT_CLICKHOUSE_URL": f"chdb://{work / 'analytics'}",
        "QRMINT_SECRET_KEY": SECRET,
        "QRMINT_REDIS_URL": "",
    }


async def _prepare_database(env: dict[str, str]) -> None:
    from core.config import load_settings
    from core.db import close_database, migrate_database, open_database
    from core.models import Account, QrCode, new_id

    settings = load_settings(env, env_file="/nonexistent")
    await migrate_database(settings)
    await open_database(settings)
    try:
        account = await Account.create(id=new_id("acc"), tier="pro")
        await QrCode.create(
            id=new_id("qr"), account=account, type="dynamic", data=f"x/{CODE}", short_code=CODE,
            destination=DESTINATION, format="png", size=256, margin=4, error_correction="M",
        )  # fmt: skip
    finally:
        await close_database()


def _measure(
    wrk: str, script: Path, name: str, mode: str, env: dict[str, str], work: Path
) -> Result:
    port = free_port()
    command = [sys.executable, "-m", "bench.redirect", "serve", mode, str(port), str(work)]
    root = str(Path(__file__).resolve().parents[1])  # `bench` is not an installed package
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    server = subprocess.Popen(command, env={**os.environ, **env, "PYTHONPATH": path}, cwd=work)
    load = {"seconds": DURATION_S, "connections": CONNECTIONS, "threads": WRK_THREADS}
    try:
        url = f"http://127.0.0.1:{port}/{CODE}"
        wait_healthy(f"http://127.0.0.1:{port}", server)
        run_wrk(wrk, script, url, name="warm-up", **{**load, "seconds": WARMUP_S})
        return run_wrk(wrk, script, url, name=name, **load)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


def _report(bare: Result, reals: list[tuple[Result, dict[str, Any]]]) -> None:
    print(f"\nwrk: {CONNECTIONS} connections, {DURATION_S} s each, 127.0.0.1, one uvicorn worker")
    print(HEADER)
    for result in (bare, *(real for real, _ in reals)):
        print(result.row())
    for real, stats in reals:
        ratio = real.rps / bare.rps if bare.rps else 0.0
        print(f"{real.name}: scan rows {json.dumps(stats, sort_keys=True)}")
        print(f"  ratio to bare {ratio:.2f} (target >= 0.6: {'ok' if ratio >= 0.6 else 'MISSED'})")
        verdict = "ok" if real.p99_ms <= 5 else "MISSED"
        print(f"  p99 {real.p99_ms:.2f} ms (target <= 5 ms: {verdict})")


# --- the servers, each run in its own process: `python -m bench.redirect serve MODE PORT DIR`


class _Counter:
    """A durable sink that only counts (or, as `record`, a journal that only counts)."""

    def __init__(self) -> None:
        self.rows = 0

    async def commit(self, batch: Any) -> None:
        self.rows += len(batch.rows)

    def record(self, scan: Any) -> None:
        self.rows += 1


def _uvicorn(app: Any, port: int) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises SIGTERM after shutting down, which would kill the process
            # before the recorder is drained and the counts are written: just stop serving.
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.handle_exit, sig, None)
            yield

    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning",
        access_log=False, proxy_headers=False, ws="none",
        http="httptools" if _installed("httptools") else "h11",
    )  # fmt: skip
    return Server(config)


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


async def _serve_bare(port: int, work: Path) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    links = {CODE: DESTINATION}

    async def redirect(request: Request) -> Response:
        destination = links.get(request.path_params["code"])
        if destination is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(
            status_code=302, headers={"location": destination, "cache-control": "no-store"}
        )

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/healthz", health), Route("/{code}", redirect)])
    await _uvicorn(app, port).serve()


async def _serve_real(port: int, work: Path, *, sink: str) -> None:
    from core.bus import LocalBus
    from core.config import load_settings
    from core.db import close_database, open_database
    from core.live import LiveScanPublisher
    from redirector.wiring import open_redirector

    settings = load_settings()
    await open_database(settings)
    bus, counter = LocalBus(), _Counter()
    live = LiveScanPublisher(bus)  # as in `qrmint serve`: live counts ride along
    store = _scan_store(settings.clickhouse_url) if sink == "writer" else None
    sinks: list[Any] = [counter] + ([_store_sink(store)] if store else [])
    await live.start()
    async with open_redirector(settings, redis=None, bus=bus, sinks=sinks, listeners=[live]) as app:
        if sink == "memory":
            _bypass_journal(app, counter)
        tune_gc_for_latency()  # as `qrmint serve` and `qrmint redirector` do
        await _uvicorn(app, port).serve()
        journal = app.state.journal.stats()
    await live.aclose()
    stats = {"delivered": counter.rows, "journal_write_errors": journal.write_errors,
             "sink": {"memory": "in-memory count, no journal", "counter": "journal + counter",
                      "writer": "journal + counter + chdb store"}[sink]}  # fmt: skip
    if store:
        store.close()
    await close_database()
    (work / f"stats-{sink}.json").write_text(json.dumps(stats))


def _bypass_journal(app: Any, counter: _Counter) -> None:
    for route in app.routes:
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None and hasattr(endpoint, "_recorder"):
            endpoint._recorder = counter


def _scan_writer_available() -> bool:
    return _installed("analytics.sinks") and _installed("chdb")


def _scan_store(url: str) -> Any:
    from analytics.store import open_scan_store

    store = open_scan_store(url)
    store.migrate()
    return store


def _store_sink(store: Any) -> Any:
    from analytics.sinks import StoreSink

    return StoreSink(store)


def _serve(mode: str, port: int, work: Path) -> None:
    main: Callable[[int, Path], Coroutine[Any, Any, None]] = _serve_bare
    if mode.startswith("real-"):
        main = functools.partial(_serve_real, sink=mode.removeprefix("real-"))
    if _installed("uvloop"):
        import uvloop

        uvloop.run(main(port, work))
    else:
        asyncio.run(main(port, work))


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        _serve(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    else:
        run()
