"""Renders run off the event loop, a bounded number at a time, behind a bounded queue.

Parsing a request (logos are decoded and checked then) and rendering it are CPU work: they
run in worker threads, at most `concurrency` at once (by default the number of CPUs, at
least 2; `QRMINT_RENDER_CONCURRENCY` overrides it). Requests waiting for a thread are
counted too: beyond `concurrency * WAITING_PER_SLOT` admitted requests, or after waiting
`MAX_WAIT_S` for a thread, a request is refused at once with 503 `service_unavailable` and
`Retry-After`, instead of joining a queue that grows without limit.

A bulk request is admitted once as a whole; its items then wait for threads like any other
render (the bulk's own parallelism is bounded by the same number).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio

from core.errors import Unavailable

T = TypeVar("T")
WAITING_PER_SLOT = 8
MAX_WAIT_S = 10.0
RETRY_AFTER_S = 1
_ADMITTED: contextvars.ContextVar[RenderSlots | None] = contextvars.ContextVar(
    "qrmint_render_admitted", default=None
)


def default_concurrency() -> int:
    return max(2, os.cpu_count() or 1)


class RenderSlots:
    def __init__(self, concurrency: int, waiting_per_slot: int = WAITING_PER_SLOT) -> None:
        self.concurrency = concurrency
        self.max_admitted = concurrency * (1 + waiting_per_slot)
        self._threads = anyio.CapacityLimiter(concurrency)
        self._admitted = 0

    @property
    def admitted(self) -> int:
        return self._admitted

    @asynccontextmanager
    async def admission(self) -> AsyncIterator[None]:
        """One request's place in the queue; nested admissions (bulk items) are free."""
        if _ADMITTED.get() is self:
            yield
            return
        if self._admitted >= self.max_admitted:
            raise _busy(f"{self._admitted} requests are already rendering or waiting")
        self._admitted += 1
        token = _ADMITTED.set(self)
        try:
            yield
        finally:
            _ADMITTED.reset(token)
            self._admitted -= 1

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` in a render thread, once admitted and a thread is free."""
        async with self.admission():
            with anyio.move_on_after(MAX_WAIT_S) as waiting:
                await self._threads.acquire()
            if waiting.cancelled_caught:
                raise _busy(f"no render thread was free within {MAX_WAIT_S:g} s")
            try:
                # Not abandoned on cancel: the thread holds its slot until it is done.
                return await anyio.to_thread.run_sync(work, limiter=_UNBOUNDED)
            finally:
                self._threads.release()


def _busy(why: str) -> Unavailable:
    return Unavailable(
        f"The renderer is at capacity ({why}); retry in {RETRY_AFTER_S} s.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


# The render threads are counted by RenderSlots; this only lifts anyio's default cap of 40
# shared threads, which the other blocking calls (stats, spool) must keep for themselves.
_UNBOUNDED = anyio.CapacityLimiter(1_000)
