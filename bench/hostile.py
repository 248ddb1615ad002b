"""Redirects while hostile logos are being handled, on one `qrmint serve` process.

    python -m bench.hostile

One `qrmint serve` (embedded default, a tier file without rate limits) and one dynamic code.
wrk drives its redirect (8 connections, SECONDS each row) three times in the same run:
with nothing else going on (the baseline), while a client keeps one hostile logo request in
flight (POST /qr/generate, one request after the other), and while it keeps a 50-item bulk
of them in flight. Two hostile logos: the reported `<use>` fan-out (refused on its text) and
a heavy one that passes the limits and is drawn in the sandboxed worker (3 x 20 fan-out,
~17,000 elements). Targets: redirect p99 < 50 ms with the hostile request in flight, and
every hostile request answered (201 or 422) within 2 s.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

from bench.loadgen import HEADER, REPORT_LUA, Result, find_wrk, free_port, run_wrk, wait_healthy

SECONDS = 8
CONNECTIONS = 8
TIERS = """
[mega]
rate_per_second = 1000000
generations_per_month = 1000000000
dynamic_qr_limit = 100000000
"""
P99_TARGET_MS = 50.0
ANSWER_TARGET_S = 2.0


def fanout(levels: int, per_level: int) -> str:
    ns = 'xmlns="http://www.w3.org/2000/svg"'
    parts = [f'<svg {ns} viewBox="0 0 10 10"><defs><path id="l0" d="M0 0h1v1z"/>']
    for level in range(1, levels + 1):
        uses = f'<use href="#l{level - 1}"/>' * per_level
        parts.append(f'<g id="l{level}">{uses}</g>')
    parts.append(f'</defs><use href="#l{levels}"/></svg>')
    return "".join(parts)


def generate_body(svg: str, salt: int) -> dict[str, object]:
    # The salt changes the logo's bytes too: no cache (verdicts, bitmaps, renders) answers.
    image = base64.b64encode(svg.replace("</svg>", f"<!-- {salt} --></svg>").encode()).decode()
    logo = {"image": image, "size": 0.2}  # small enough for the guard: a heavy logo is drawn
    return {"data": f"https://example.com/{salt}", "style": {"logo": logo}}


def bulk_body(svg: str, salt: int) -> dict[str, object]:
    # One logo over 50 codes, as a brand's bulk order has it (a new logo per request).
    logo = generate_body(svg, salt)["style"]
    return {
        "items": [{"data": f"https://example.com/{salt}/{n}", "style": logo} for n in range(50)]
    }


class Hostile:
    """Keeps one hostile request in flight until stopped; records how long each took."""

    def __init__(self, url: str, key: str, path: str, body: Callable[[int], object]) -> None:
        self.url, self.key, self.path, self.body = url, key, path, body
        self.answers: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Hostile:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=60) as client:
            while not self._stop.is_set():
                body = self.body(len(self.answers))
                started = time.monotonic()
                status = client.post(self.path, json=body).status_code
                self.answers.append((status, time.monotonic() - started))

    def summary(self) -> str:
        if not self.answers:
            return "no answer"
        statuses = sorted({status for status, _ in self.answers})
        slowest = max(seconds for _, seconds in self.answers)
        verdict = "ok" if slowest <= ANSWER_TARGET_S and statuses != [500] else "MISSED"
        return f"{len(self.answers)} answers {statuses}, slowest {slowest:.2f} s ({verdict})"


def run() -> None:
    wrk = find_wrk("bench.hostile")
    if wrk is None:
        print("bench.hostile: skipped, `wrk` is not installed (apt-get install wrk)")
        return
    with tempfile.TemporaryDirectory(prefix="qrmint-bench-hostile-") as work:
        rows = _measure(wrk, Path(work))
    print(f"\nbench.hostile: redirect under hostile logos, wrk {CONNECTIONS} conn, {SECONDS} s")
    print(f"{HEADER}   hostile requests")
    for result, note in rows:
        print(f"{result.row()}   {note}")
    baseline = rows[0][0].p99_ms
    for result, _ in rows[1:]:
        verdict = "ok" if result.p99_ms < P99_TARGET_MS else "MISSED"
        print(
            f"{result.name}: p99 {result.p99_ms:.1f} ms vs baseline {baseline:.1f} ms "
            f"(target < {P99_TARGET_MS:.0f} ms: {verdict})"
        )


def _measure(wrk: str, work: Path) -> list[tuple[Result, str]]:
    (work / "tiers.toml").write_text(TIERS)
    api_port, redirect_port = free_port(), free_port()
    env = {
        **os.environ,
        "QRMINT_DATA_DIR": str(work / "var"),
        "QRMINT_TIERS_FILE": str(work / "tiers.toml"),
        "QRMINT_REDIRECT_BASE_URL": f"http://127.0.0.1:{redirect_port}",
        "QRMINT_REDIS_URL": "",
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
        api = f"http://127.0.0.1:{api_port}"
        wait_healthy(api, server)
        return _rows(wrk, work, api, key, f"http://127.0.0.1:{redirect_port}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


def _rows(wrk: str, work: Path, api: str, key: str, redirects: str) -> list[tuple[Result, str]]:
    headers = {"Authorization": f"Bearer {key}"}
    made = httpx.post(
        f"{api}/qr/generate", json={"type": "dynamic", "data": "https://example.com/"},
        headers=headers, timeout=30,
    ).json()  # fmt: skip
    url = f"{redirects}/{made['short_code']}"
    script = work / "redirect.lua"
    script.write_text(REPORT_LUA)
    load = {"seconds": SECONDS, "connections": CONNECTIONS}
    run_wrk(wrk, script, url, name="warm-up", seconds=2, connections=CONNECTIONS)
    rows = [(run_wrk(wrk, script, url, name="redirect, baseline", **load), "none")]
    bomb, heavy = fanout(3, 60), fanout(3, 20)
    cases: list[tuple[str, str, Callable[[int], object]]] = [
        ("redirect, 1 fan-out bomb", "/qr/generate", partial(generate_body, bomb)),
        ("redirect, 1 heavy svg", "/qr/generate", partial(generate_body, heavy)),
        ("redirect, bulk 50 bombs", "/qr/bulk-generate", partial(bulk_body, bomb)),
        ("redirect, bulk 50 heavy", "/qr/bulk-generate", partial(bulk_body, heavy)),
    ]
    for name, path, body in cases:
        with Hostile(api, key, path, body) as hostile:
            time.sleep(0.5)  # the hostile request is in flight before wrk starts
            result = run_wrk(wrk, script, url, name=name, **load)
        rows.append((result, hostile.summary()))
    return rows


if __name__ == "__main__":
    run()
