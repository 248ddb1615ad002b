"""The small queue-with-a-worker pattern that the scan fan-out uses in several places.

A producer on the request path must never block or raise; a full queue drops and says so
(at the first drop and every thousandth after); a stop waits until the worker has taken
everything queued, then cancels it.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Generic, TypeVar

Item = TypeVar("Item")


class DroppingQueue(Generic[Item]):
    def __init__(self, name: str, max_items: int, log: logging.Logger) -> None:
        self.queue: asyncio.Queue[Item] = asyncio.Queue(max_items)
        self.dropped = 0
        self._name = name
        self._log = log

    def put(self, item: Item) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.drop()

    def drop(self) -> None:
        self.dropped += 1
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
