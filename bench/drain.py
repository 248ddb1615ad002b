"""Does the split shape drain as fast as a redirector produces? `python -m bench.drain [SECONDS]`

Starts `api` (owner of the embedded store), `redirector` and `worker` on a throw-away
Postgres database and a private Redis (bench.shapes), then:

1. full load: wrk (32 connections, SECONDS, default 10) on the redirector, printing each
   second how many scans the API's stats have and how many entries wait in the stream;
   then the time until the stats have every redirect wrk saw (the lag after the load);
2. backlog: the API stopped, the same load again (scans wait in the redirector's journal
   and the stream), the API started again; the time until the stats have them all gives
   the drain rate with the store's owner running flat out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.loadgen import REPORT_LUA, find_wrk, run_wrk
from bench.shapes import Shape, split_shape

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"


def main(seconds: int) -> None:
    wrk = find_wrk("bench.drain")
    if wrk is None:
        raise SystemExit("bench.drain needs wrk")
    with tempfile.TemporaryDirectory(prefix="qrmint-drain-") as tmp:
        env = {**os.environ, "QRMINT_SECRET_KEY": "drain-secret-key-0123456789abcdef"}
        with split_shape(Path(tmp), env) as shape:
            key = shape.cli("keys", "create", "--tier", "pro").split()[-1]
            api = httpx.Client(base_url=shape.api_url, headers={"Authorization": f"Bearer {key}"})
            body = api.post("/qr/generate", json={"type": "dynamic", "data": "https://e.x/"})
            qr, code = body.json()["id"], body.json()["short_code"]
            script = Path(tmp) / "wrk.lua"
            script.write_text(f'wrk.headers["User-Agent"] = "{UA}"\n' + REPORT_LUA)
            url = f"{shape.redirect_url}/{code}"
            _full_load(shape, api, qr, wrk, script, url, seconds)
            _backlog(shape, api, qr, wrk, script, url, seconds)


def _stored(api: httpx.Client, qr: str) -> int:
    return int(api.get(f"/qr/{qr}/stats", timeout=30).json()["total_scans"])


def _stream_length(shape: Shape) -> str:
    port = shape.env["QRMINT_REDIS_URL"].rsplit(":", 1)[1].split("/")[0]
    done = subprocess.run(["redis-cli", "-p", port, "xlen", "qrmint:scans"],
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip() or "?"


def _full_load(
    shape: Shape, api: httpx.Client, qr: str, wrk: str, script: Path, url: str, seconds: int
) -> None:
    before, started = _stored(api, qr), time.monotonic()
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(1.0):
            print(f"  t={time.monotonic() - started:4.1f}s stored={_stored(api, qr) - before:,} "
                  f"stream entries={_stream_length(shape)}", flush=True)  # fmt: skip

    watcher = threading.Thread(target=watch)
    watcher.start()
    result = run_wrk(wrk, script, url, name="full", seconds=seconds, connections=32)
    loaded = time.monotonic() - started
    stop.set()
    watcher.join()
    while _stored(api, qr) - before < result.requests:
        time.sleep(0.1)
    done = time.monotonic() - started
    print(f"full load: {result.requests:,} redirects in {loaded:.1f} s ({result.rps:,.0f}/s, "
          f"p99 {result.p99_ms:.1f} ms); all stored {done - loaded:.1f} s after the load "
          f"ended: drained {result.requests / done:,.0f}/s overall", flush=True)  # fmt: skip


def _backlog(
    shape: Shape, api: httpx.Client, qr: str, wrk: str, script: Path, url: str, seconds: int
) -> None:
    before = _stored(api, qr)
    owner = shape.processes["api"]
    owner.send_signal(signal.SIGTERM)
    owner.wait(120)
    result = run_wrk(wrk, script, url, name="backlog", seconds=seconds, connections=32)
    print(f"backlog: {result.requests:,} redirects while the API was down; stream entries "
          f"{_stream_length(shape)}", flush=True)  # fmt: skip
    restarted = time.monotonic()
    shape.start("api", "api", "--port", str(shape.api_port))
    shape.wait_healthy()
    up = time.monotonic()
    while _stored(api, qr) - before < result.requests:
        time.sleep(0.1)
    drained = time.monotonic() - up
    print(f"backlog: API up {up - restarted:.1f} s after its start; {result.requests:,} scans "
          f"stored {drained:.1f} s later = {result.requests / max(drained, 0.1):,.0f} scans/s",
          flush=True)  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
