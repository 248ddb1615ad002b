"""Running several uvicorn servers in one event loop, stopped together on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Generator, Sequence

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger("qrmint")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Signals are handled once for all servers of the process, in `run_servers`.
        yield


def make_server(app: ASGIApp, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",  # resources are opened by the process composition, not per app
        access_log=False,
        # Client IPs are taken from X-Forwarded-For only by our own trusted-proxy check.
        proxy_headers=False,
        log_level="info",
        ws_max_size=2 * 1024 * 1024,  # the same 2 MiB bound as request bodies
    )
    return _Server(config)


def tune_gc_for_latency() -> None:
    """Measured on the redirector: full collections over everything loaded at start-up put
    ~45 ms pauses into the p99. Freeze what exists now (never scanned again) and collect
    the older generations less often: the youngest every 100,000 allocations, the oldest
    every 500 of those (every few seconds under full load; with the start-up objects frozen
    it walks only what the process made since, a few milliseconds). Rarer full collections
    let cyclic garbage pile up: a threshold of 1,000 for the oldest grew `qrmint serve` by
    ~4 MB/s under load (measured, see docs/scans.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 10)


async def run_servers(servers: Sequence[uvicorn.Server]) -> None:
    """Serve until SIGINT/SIGTERM, then stop accepting and return (to flush and close).

    The handlers stay installed until the event loop closes, so a second signal during the
    flush that follows cannot kill the process half-way: it is logged and ignored.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_signal() -> None:
        if stop.is_set():
            log.warning("qrmint: still flushing; stopping as soon as that is done")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    tune_gc_for_latency()
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    waiter = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        waiter.cancel()
