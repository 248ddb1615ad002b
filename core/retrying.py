"""Retry with backoff: the one policy for background work that talks to another system.

The journal consumer's sinks, the stream publisher and drainer, the scan writer's spool
replay and the resolver's invalidation feed all do the same thing when their neighbour
fails: wait, double the wait up to a ceiling, and start again from the first wait as soon
as an attempt succeeds. `Backoff` is that state; `retry_until_done` is the loop around an
attempt for the callers that have nothing else to do meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


class Backoff:
    """Exponential waits between failed attempts: first, 2 x first, ... up to ceiling."""

    def __init__(self, first: float = 0.1, ceiling: float = 5.0) -> None:
        if first <= 0 or ceiling < first:
            raise ValueError(f"backoff needs 0 < first <= ceiling, got {first} and {ceiling}")
        self.first = first
        self.ceiling = ceiling
        self._next = first
        self.failures = 0  # consecutive failed attempts; 0 after a success

    def failed(self) -> float:
        """Record a failure; return how long to wait before the next attempt."""
        delay = self._next
        self._next = min(self._next * 2, self.ceiling)
        self.failures += 1
        return delay

    def succeeded(self) -> None:
        self._next = self.first
        self.failures = 0

    @property
    def waiting(self) -> bool:
        return self.failures > 0


async def retry_until_done(
    attempt: Callable[[], Awaitable[object]],
    backoff: Backoff,
    log: logging.Logger,
    what: str,
    *,
    give_up: Callable[[], bool] = lambda: False,
) -> bool:
    """Run `attempt` until it returns (True); log failures and wait between them.

    Returns False when `give_up()` says so after a failure (e.g. the process is stopping
    and the work is safe elsewhere, as journal records are on disk)."""
    while True:
        try:
            await attempt()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            delay = backoff.failed()
            if give_up():
                log.warning("%s failed (%s); giving up for now", what, exc)
                return False
            if backoff.failures == 1 or backoff.failures % 10 == 0:
                log.warning("%s failed %d times (retry in %.2fs): %s",
                            what, backoff.failures, delay, exc)  # fmt: skip
            await asyncio.sleep(delay)
            continue
        backoff.succeeded()
        return True
