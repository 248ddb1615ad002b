"""Real `qrmint` processes of the split shape for the end-to-end tests: start, wait, stop,
and read the store (one `qrmint serve` is `tests.qrmint.serving.Served`)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support import QRMINT

# Scans per referer host of one QR, read straight from the store (after its owner stopped).
COUNT_BY_REFERER = """
import json, sys
from analytics.store import open_scan_store
store = open_scan_store(sys.argv[1])
rows = store.query(
    "SELECT referrer_host, count() FROM $scans WHERE qr_id = {q:String} GROUP BY referrer_host",
    {"q": sys.argv[2]},
)
print(json.dumps({host: int(n) for host, n in rows}))
"""


def run_cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([QRMINT, *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@contextmanager
def process(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        started = subprocess.Popen([QRMINT, *args], env=env, stdout=out, stderr=out)
    try:
        yield started
    finally:
        if started.poll() is None:
            started.send_signal(signal.SIGTERM)
            started.wait(timeout=120)


def wait_healthy(url: str, started: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert started.poll() is None, log.read_text()
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up:\n{log.read_text()}")


def stop_all(processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    for started in processes:  # each flushes what it holds, then stops
        started.send_signal(signal.SIGTERM)
        assert started.wait(timeout=120) == 0, log.read_text()


def stored_by_referer(env: dict[str, str], qr_id: str) -> dict[str, int]:
    """Rows per referrer host of `qr_id` in the store (whose owner must have stopped)."""
    counted = subprocess.run(
        [sys.executable, "-c", COUNT_BY_REFERER, env["QRMINT_CLICKHOUSE_URL"], qr_id],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    counts: dict[str, int] = json.loads(counted.stdout)
    return counts


def total_scans(client: httpx.Client, qr_id: str, at_least: int, within: float) -> int:
    """Poll the stats until they reach `at_least` scans (or time runs out); the last total."""
    deadline = time.monotonic() + within
    while True:
        total = int(client.get(f"/qr/{qr_id}/stats").json()["total_scans"])
        if total >= at_least or time.monotonic() > deadline:
            return total
        time.sleep(0.5)
