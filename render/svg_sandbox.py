"""Rasterizing untrusted SVG in a child process, within a time and a memory budget.

resvg runs native code whose cost depends on the document, not on its size in bytes, so
the limits in `render.svg_check` are not relied on alone: every SVG logo is drawn by a
worker process (`render/svg_worker.py`) that caps its own address space (RLIMIT_AS) and
is killed when a drawing uses more CPU time than its budget (or, on a machine so loaded that
it gets no CPU, WALL_FACTOR times that in wall time). The worker runs niced, below the
server. A killed or crashed worker costs the one request its logo; the server's event loop
and memory never see the work.

Workers are kept warm (a round trip costs ~1 ms, a fresh worker ~40 ms) and reused one
request at a time; callers are the render threads, already bounded upstream.
"""

from __future__ import annotations

import atexit
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from render.svg_check import SvgProblem

# The budget of one drawing: a fixed part for the document's work (parsing, following
# references; a normal logo needs 1-30 ms) plus time for its pixels (resvg draws and
# PNG-encodes ~10 Mpx/s here; a 2048 px logo, the largest, takes ~0.45 s).
TIMEOUT_S = 1.0
PIXELS_PER_SECOND = 2_000_000
MEMORY_BYTES = 512 * 1024 * 1024  # address space of one worker, interpreter included
KEEP_IDLE = 4
WALL_FACTOR = 4
_SLICE_S = 0.05  # how often a waiting caller looks at the worker's CPU time
STARTUP_S = 10.0  # a fresh worker's start-up is not the logo's budget
_TICKS = os.sysconf("SC_CLK_TCK")
_WORKER = Path(__file__).with_name("svg_worker.py")
_REQUEST_HEAD = 8
_ANSWER_HEAD = 5


class _Worker:
    def __init__(self, memory: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(_WORKER), str(memory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a native abort's message is not ours to log
        )
        self.ready = False

    def ask(self, text: bytes, side: int, budget: float) -> tuple[int, bytes]:
        assert self.process.stdin is not None
        if not self.ready:
            self._read(1, (float("inf"), time.monotonic() + STARTUP_S))
            self.ready = True
        limits = (self.cpu_seconds() + budget, time.monotonic() + budget * WALL_FACTOR)
        head = side.to_bytes(4, "big") + len(text).to_bytes(4, "big")
        self.process.stdin.write(head + text)
        self.process.stdin.flush()
        answer = self._read(_ANSWER_HEAD, limits)
        length = int.from_bytes(answer[1:], "big")
        return answer[0], self._read(length, limits)

    def cpu_seconds(self) -> float:
        """CPU time the worker has used (Linux /proc; 0 elsewhere: wall time rules alone)."""
        try:
            with open(f"/proc/{self.process.pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def _read(self, count: int, limits: tuple[float, float]) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        cpu_limit, wall_limit = limits
        chunks: list[bytes] = []
        while count > 0:
            remaining = wall_limit - time.monotonic()
            if remaining <= 0 or self.cpu_seconds() > cpu_limit:
                raise TimeoutError
            if not select.select([fd], [], [], min(remaining, _SLICE_S))[0]:
                continue
            chunk = os.read(fd, min(count, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class SvgSandbox:
    def __init__(
        self,
        timeout: float = TIMEOUT_S,
        memory: int = MEMORY_BYTES,
        keep_idle: int = KEEP_IDLE,
    ) -> None:
        self.timeout, self.memory, self._keep = timeout, memory, keep_idle
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def rasterize(self, text: str, side: int) -> bytes:
        """PNG bytes of `text` drawn to fit `side` x `side`; SvgProblem when resvg refuses
        it or it needs more than the budget."""
        budget = self.budget(side)
        worker = self._take()
        try:
            status, payload = worker.ask(text.encode("utf-8"), side, budget)
        except TimeoutError:
            worker.close()
            raise SvgProblem(f"takes more than {budget:.1f} s to draw at {side} px") from None
        except (EOFError, OSError):
            worker.close()
            limit = self.memory // (1024 * 1024)
            raise SvgProblem(f"crashed the renderer or needed more than {limit} MiB") from None
        self._give_back(worker)
        if status != 0:
            raise SvgProblem(f"resvg cannot draw ({payload.decode('utf-8', 'replace')})")
        return payload

    def budget(self, side: int) -> float:
        return self.timeout + side * side / PIXELS_PER_SECOND

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.poll() is None:
                    return worker
                worker.close()
        return _Worker(self.memory)

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(worker)
                return
        worker.close()


SANDBOX = SvgSandbox()
atexit.register(SANDBOX.close)
