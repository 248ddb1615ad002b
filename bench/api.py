"""API benchmark: POST /qr/generate against a real `qrmint serve`, driven by wrk.

Run with `python -m bench.api` (or `make bench`). The server is a separate process on
127.0.0.1 with a tier file that lifts the rate limit and quotas (they are what a tier
sells, not what we measure). Every request carries new data, so the render cache never
answers; the ratio compares the API's p50 at one connection with the bare render time
measured in this same run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.loadgen import HEADER, REPORT_LUA, Result, find_wrk, free_port, run_wrk, wait_healthy
from bench.render import measure_render_ms

SECONDS = 8
TIERS = """
[mega]
rate_per_second = 1000000
generations_per_month = 1000000000
dynamic_qr_limit = 100000000
"""
BODY_LUA = """
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer @KEY@"
request = function()
  counter = counter + 1
  local body = string.format(
    '{"type": "@TYPE@", "data": "https://example.com/menu/%d/%d?utm_source=qr", "size": 512}',
    math.random(1, 1000000000), counter)
  return wrk.format(nil, "/qr/generate", nil, body)
end
"""


def run() -> None:
    wrk = find_wrk("bench.api")
    if wrk is None:
        print("bench.api: skipped, `wrk` is not installed (apt-get install wrk)")
        return
    render_ms = measure_render_ms()
    with tempfile.TemporaryDirectory(prefix="qrmint-bench-api-") as work:
        results = _measure_all(wrk, Path(work))
    _report(results, render_ms)


def _measure_all(wrk: str, work: Path) -> list[Result]:
    (work / "tiers.toml").write_text(TIERS)
    api_port, redirect_port = free_port(), free_port()
    env = {
        **os.environ,
        "QRMINT_DATA_DIR": str(work / "var"),
        "QRMINT_TIERS_FILE": str(work / "tiers.toml"),
        "QRMINT_REDIRECT_BASE_URL": f"http://127.0.0.1:{redirect_port}",
    }
    qrmint = str(Path(sys.executable).with_name("qrmint"))
    created = subprocess.run(
        [qrmint, "keys", "create", "--tier", "mega"], env=env, capture_output=True, text=True
    )
    key = created.stdout.strip().splitlines()[-1]
    ports = ["--api-port", str(api_port), "--redirect-port", str(redirect_port)]
    with (work / "serve.log").open("wb") as log:
        server = subprocess.Popen([qrmint, "serve", *ports], env=env, stdout=log, stderr=log)
    try:
        url = f"http://127.0.0.1:{api_port}"
        wait_healthy(url, server)
        return [
            _one(wrk, work, url, key, qr_type, connections)
            for qr_type in ("static", "dynamic")
            for connections in (1, 8)
        ]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


def _one(wrk: str, work: Path, url: str, key: str, qr_type: str, connections: int) -> Result:
    script = work / f"{qr_type}.lua"
    script.write_text(BODY_LUA.replace("@KEY@", key).replace("@TYPE@", qr_type) + REPORT_LUA)
    run_wrk(wrk, script, url, name="warm-up", seconds=2, connections=connections)
    name = f"{qr_type} PNG 512, {connections} conn"
    return run_wrk(wrk, script, url, name=name, seconds=SECONDS, connections=connections)


def _report(results: list[Result], render_ms: float) -> None:
    print(f"\nbench.api: POST /qr/generate, wrk {SECONDS} s per row, one qrmint serve process")
    print(HEADER)
    for result in results:
        print(result.row())
    print(f"bare render, plain PNG 512 px (same run): {render_ms:.2f} ms")
    for result in results:
        if result.name.endswith(", 1 conn"):
            ratio = result.p50_ms / render_ms
            verdict = "ok" if ratio <= 2 else "MISSED"
            print(f"{result.name}: p50/render = {ratio:.2f} (target <= 2: {verdict})")


if __name__ == "__main__":
    run()
