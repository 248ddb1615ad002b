"""`make soak`: mixed load on `qrmint serve` and on the split shape, one line a minute.

    python -m bench.soak [serve] [split]        # SOAK_MINUTES=30 by default

Per shape, for SOAK_MINUTES minutes: redirects by wrk (16 connections, the whole minute)
on a pro account's code; a steady ~20 scans/s on a mega account's code whose webhook
endpoint is a local HTTPS receiver; ~2 generates/s and ~2 stats reads/s on the API; one
`scanCount` subscription held open. Each minute prints, per process, RSS and open files,
the scan journal's and the logs' size on disk, the redirect p99 (wrk) and the API p99s.
The summary compares the first and last minutes (memory must stay flat) and checks that
every redirect wrk saw and every webhook scan is counted once the load stops.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import REPORT_LUA, find_wrk, run_wrk
from bench.shapes import Shape, serve_shape, split_shape
from bench.webhooks import received
from bench.webhooks import serve as serve_receiver

WRK_CONNECTIONS = 16
WEBHOOK_SCANS_PER_SECOND = 20
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"
SUBSCRIPTION = "subscription($id: ID!) { scanCount(qrId: $id) { totalScans } }"


@dataclass
class Minute:
    redirects: int
    redirect_rps: float
    redirect_p99_ms: float
    api_p99_ms: float
    rss_mb: dict[str, float]
    fds: dict[str, int]
    journal_mb: float
    logs_mb: float
    hooks_sent: int
    hooks_received: int
    live_messages: int

    def line(self, index: int) -> str:
        rss = " ".join(f"{k}={v:.0f}" for k, v in self.rss_mb.items())
        fds = " ".join(f"{k}={v}" for k, v in self.fds.items())
        return (
            f"min {index:>2} | redirects {self.redirects:>8,} ({self.redirect_rps:,.0f}/s) "
            f"p99 {self.redirect_p99_ms:.1f} ms | api p99 {self.api_p99_ms:.0f} ms | "
            f"RSS MB {rss} | fds {fds} | journal {self.journal_mb:.1f} MB | logs "
            f"{self.logs_mb:.2f} MB | webhooks {self.hooks_received:,}/{self.hooks_sent:,} | "
            f"live {self.live_messages:,}"
        )


@dataclass
class Load:
    """The Python side of the mixed load; counters read once a minute."""

    shape: Shape
    hook_code: str
    hook_qr: str
    keys: list[str]
    hooks_sent: int = 0
    live_messages: int = 0
    api_latencies: list[float] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        await asyncio.gather(
            self._webhook_scans(), self._api_calls("generate", self.keys[0]),
            self._api_calls("stats", self.keys[1]), self._subscription(),
        )  # fmt: skip

    async def _webhook_scans(self) -> None:
        host, port = "127.0.0.1", self.shape.redirect_port
        reader, writer = await asyncio.open_connection(host, port)
        request = f"GET /{self.hook_code} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {UA}\r\n\r\n"
        try:
            while not self.stop.is_set():
                writer.write(request.encode())
                head = await reader.readuntil(b"\r\n\r\n")
                if b" 302 " in head.split(b"\r\n", 1)[0]:
                    self.hooks_sent += 1
                await asyncio.sleep(1 / WEBHOOK_SCANS_PER_SECOND)
        finally:
            writer.close()

    async def _api_calls(self, kind: str, key: str) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=self.shape.api_url, headers=headers) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                if kind == "generate":
                    body = {"data": f"soak {time.time()}", "format": "svg", "size": 256}
                    response = await client.post("/qr/generate", json=body, timeout=30)
                else:
                    response = await client.get(f"/qr/{self.hook_qr}/stats", timeout=30)
                if response.status_code < 400:
                    self.api_latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.5)

    async def _subscription(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.typing import Subprotocol

        url = self.shape.api_url.replace("http://", "ws://") + "/graphql"
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"apiKey": self.keys[1]}})
            )
            await ws.recv()
            payload = {"query": SUBSCRIPTION, "variables": {"id": self.hook_qr}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            while not self.stop.is_set():
                try:
                    await asyncio.wait_for(ws.recv(), 1.0)
                    self.live_messages += 1
                except TimeoutError:
                    continue


def main(shapes: list[str]) -> None:
    minutes = int(os.environ.get("SOAK_MINUTES", "30"))
    wrk = find_wrk("bench.soak")
    if wrk is None:
        raise SystemExit("bench.soak needs wrk")
    openers: dict[str, Callable[[Path, dict[str, str]], AbstractContextManager[Shape]]] = {
        "serve": serve_shape, "split": split_shape,
    }  # fmt: skip
    summaries = []
    for name in shapes or list(openers):
        with tempfile.TemporaryDirectory(prefix=f"qrmint-soak-{name}-") as tmp:
            summaries.append(_soak(openers[name], Path(tmp), wrk, minutes))
    print("\n=== soak summary")
    for line in summaries:
        print(line)


def _soak(
    opener: Callable[[Path, dict[str, str]], AbstractContextManager[Shape]],
    work: Path, wrk: str, minutes: int,
) -> str:  # fmt: skip
    receiver, receiver_port, ca_path = serve_receiver(work)
    env = {
        **os.environ, "QRMINT_SECRET_KEY": "soak-secret-key-0123456789abcdef",
        "QRMINT_WEBHOOK_ALLOW_PRIVATE": "true", "QRMINT_WEBHOOK_CA_BUNDLE": str(ca_path),
    }  # fmt: skip
    env.pop("QRMINT_REDIS_URL", None)
    try:
        with opener(work, env) as shape:
            return _run_shape(shape, wrk, minutes, receiver_port, ca_path)
    finally:
        receiver.terminate()
        receiver.wait(30)


def _run_shape(shape: Shape, wrk: str, minutes: int, receiver_port: int, ca_path: Path) -> str:
    keys = [shape.cli("keys", "create", "--tier", "mega").split()[-1] for _ in range(3)]
    redirect_qr, redirect_code = _dynamic_qr(shape, keys[2])
    hook_qr, hook_code = _dynamic_qr(shape, keys[1])
    with httpx.Client(base_url=shape.api_url, headers={"Authorization": f"Bearer {keys[1]}"}) as c:
        url = f"https://127.0.0.1:{receiver_port}/hook"
        assert c.post("/webhooks/scan-endpoints", json={"url": url}).status_code == 201
    script = shape.work / "wrk.lua"
    script.write_text(f'wrk.headers["User-Agent"] = "{UA}"\n' + REPORT_LUA)
    print(f"\n=== soak {shape.name}: {minutes} min, processes {list(shape.processes)}", flush=True)
    return asyncio.run(
        _drive(shape, wrk, script, minutes, Load(shape, hook_code, hook_qr, keys),
               redirect_qr, redirect_code, receiver_port, ca_path)
    )  # fmt: skip


async def _drive(
    shape: Shape, wrk: str, script: Path, minutes: int, load: Load, redirect_qr: str,
    redirect_code: str, receiver_port: int, ca_path: Path,
) -> str:  # fmt: skip
    background = asyncio.create_task(load.run())
    rows: list[Minute] = []
    redirects = 0
    url = f"{shape.redirect_url}/{redirect_code}"
    for index in range(1, minutes + 1):
        result = await asyncio.to_thread(
            run_wrk, wrk, script, url, name="soak", seconds=60, connections=WRK_CONNECTIONS
        )
        redirects += result.requests
        latencies, load.api_latencies = sorted(load.api_latencies), []
        minute = Minute(
            redirects=redirects, redirect_rps=result.rps, redirect_p99_ms=result.p99_ms,
            api_p99_ms=1000 * _p99(latencies), rss_mb=_each(shape, _rss_mb),
            fds=_each(shape, _open_files), journal_mb=_size_mb(shape.work / "var" / "journal"),
            logs_mb=sum(_size_mb(p) for p in shape.work.glob("*.log")),
            hooks_sent=load.hooks_sent, hooks_received=await received(receiver_port, ca_path),
            live_messages=load.live_messages,
        )  # fmt: skip
        rows.append(minute)
        print(minute.line(index), flush=True)
    load.stop.set()
    await background
    stored, delivered = await _settle(shape, load, redirect_qr, redirects, receiver_port, ca_path)
    first, last = rows[0], rows[-1]
    peak = max(sum(r.rss_mb.values()) for r in rows)
    return (
        f"{shape.name}: {minutes} min, {redirects:,} redirects seen by wrk, {stored:,} stored "
        f"(at most {WRK_CONNECTIONS} in flight at each minute's end may add); webhooks "
        f"{delivered:,} received of {load.hooks_sent:,} scans; RSS MB first {_total(first)} "
        f"last {_total(last)} peak {peak:.0f}; fds first {sum(first.fds.values())} last "
        f"{sum(last.fds.values())}; redirect p99 median "
        f"{statistics.median(r.redirect_p99_ms for r in rows):.1f} ms max "
        f"{max(r.redirect_p99_ms for r in rows):.1f} ms; journal max "
        f"{max(r.journal_mb for r in rows):.1f} MB"
    )


async def _settle(
    shape: Shape, load: Load, qr: str, redirects: int, receiver_port: int, ca_path: Path
) -> tuple[int, int]:
    """Wait (bounded) until the store has every redirect and the receiver every webhook."""
    headers = {"Authorization": f"Bearer {load.keys[2]}"}
    stored = delivered = 0
    async with httpx.AsyncClient(base_url=shape.api_url, headers=headers) as client:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            stored = (await client.get(f"/qr/{qr}/stats")).json()["total_scans"]
            delivered = await received(receiver_port, ca_path)
            if stored >= redirects and delivered >= load.hooks_sent:
                break
            await asyncio.sleep(1)
    return stored, delivered


def _dynamic_qr(shape: Shape, key: str) -> tuple[str, str]:
    with httpx.Client(base_url=shape.api_url, headers={"Authorization": f"Bearer {key}"}) as c:
        body = c.post("/qr/generate", json={"type": "dynamic", "data": "https://e.x/"}).json()
    return body["id"], body["short_code"]


def _each(shape: Shape, measure: Callable[[int], Any]) -> dict[str, Any]:
    return {role: measure(p.pid) for role, p in shape.processes.items() if p.poll() is None}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in _files(path)) / 2**20


def _files(root: Path) -> Iterator[Path]:
    for directory, _, names in os.walk(root):
        for name in names:
            candidate = Path(directory, name)
            if candidate.exists():
                yield candidate


def _p99(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.99))] if values else 0.0


def _total(minute: Minute) -> str:
    return f"{sum(minute.rss_mb.values()):.0f}"


if __name__ == "__main__":
    main(sys.argv[1:])
