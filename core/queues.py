"""The small queue-with-a-worker pattern for best-effort work (live events).

A producer must never block or raise; a full queue drops and says so (at the first drop
and every thousandth after) and tells `on_drop`, so the owner can make up for it later;
a stop waits until the worker has taken everything queued, then cancels it. Work that
must not be lost does not use this: scans wait in the journal (`redirector.journal`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Generic, TypeVar

Item = TypeVar("Item")


class DroppingQueue(Generic[Item]):
    def __init__(
        self,
        name: str,
        max_items: int,
        log: logging.Logger,
        *,
        on_drop: Callable[[Item], None] | None = None,
    ) -> None:
        self.queue: asyncio.Queue[Item] = asyncio.Queue(max_items)
        self.dropped = 0
        self._name = name
        self._log = log
        self._on_drop = on_drop

    def put(self, item: Item) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.drop(item)

    def drop(self, item: Item) -> None:
        self.dropped += 1
        if self._on_drop is not None:
            self._on_drop(item)
        if self.dropped == 1 or self.dropped % 1000 == 0:
            self._log.warning("%s full: %d dropped so far", self._name, self.dropped)


async def drain_then_cancel(queue: asyncio.Queue[Item], task: asyncio.Task[None] | None) -> None:
    """Let the worker finish what is queued (unless it already died), then stop it."""
    if task is None:
        return
    if not task.done():
        await queue.join()
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
