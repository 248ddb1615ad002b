"""Listening sockets and uvicorn servers: bound before anything else starts (so a busy port
is reported at once, naming the option to change), then served in one event loop and
stopped together on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import signal
import socket
from collections.abc import Generator, Sequence
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)


class ListenError(Exception):
    """A port cannot be listened on; the message says which option or variable to change."""


@dataclass(frozen=True)
class Listener:
    sock: socket.socket
    host: str
    port: int  # the real one: the option may have asked for 0 (any free port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def listen(host: str, port: int, option: str) -> Listener:
    """Bind and listen now. `option` names what sets the port, e.g. "--api-port"."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise ListenError(_why(host, port, option, exc)) from None
    sock.set_inheritable(True)
    return Listener(sock, host, sock.getsockname()[1])


def _why(host: str, port: int, option: str, exc: OSError) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is already in use on {host}; choose another with {option}"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on {where} (ports below 1024 need privileges); see {option}"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {exc.strerror or exc}; check --host"
    return f"cannot listen on {where}: {exc.strerror or exc}; see {option}"


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, listener: Listener) -> None:
        super().__init__(config)
        self.listener = listener

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Signals are handled once for all servers of the process, in `run_servers`.
        yield


def make_server(app: ASGIApp, listener: Listener) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=listener.host,
        port=listener.port,
        lifespan="off",  # resources are opened by the process composition, not per app
        access_log=False,  # the API writes its own access line (ops.requests)
        # Client IPs are taken from X-Forwarded-For only by our own trusted-proxy check.
        proxy_headers=False,
        log_config=None,  # logging is configured once per process (ops.logs)
        log_level=None,
        ws_max_size=2 * 1024 * 1024,  # the same 2 MiB bound as request bodies
    )
    return _Server(config, listener)


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
            log.warning("still flushing; stopping as soon as that is done")
        else:
            log.info("stopping: no new requests; finishing what is under way")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    tune_gc_for_latency()
    tasks = [asyncio.create_task(_serve(server)) for server in servers]
    waiter = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        waiter.cancel()


async def _serve(server: uvicorn.Server) -> None:
    sockets = [server.listener.sock] if isinstance(server, _Server) else None
    await server.serve(sockets=sockets)
