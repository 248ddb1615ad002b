"""`max_scans`: exactly N redirects per link, however many redirectors serve it.

With Redis one script per scan checks and increments a shared counter (atomic, so two
processes can never both take the last scan); without Redis the count lives in this
process (exact for `qrmint serve`, which is one process). Either way the counter is seeded,
when it is missing (a Redis flushed, a process started), from `scan_counters`, which a
background task keeps up to date about once a second: a counter that is lost resumes from
there, at most a second's scans behind (docs/links.md).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from tortoise.exceptions import IntegrityError

from core.links import LinkTarget
from core.models import ScanCounter

log = logging.getLogger(__name__)

KEY_PREFIX = "qrmint:taken:"
# Seed a missing counter, refuse at the limit, else count this scan: one atomic step.
_TAKE = """
local taken = redis.call('GET', KEYS[1])
if not taken then
  redis.call('SET', KEYS[1], ARGV[1])
  taken = ARGV[1]
end
if tonumber(taken) >= tonumber(ARGV[2]) then
  return -1
end
return redis.call('INCR', KEYS[1])
"""


class ScanLimits:
    def __init__(self, redis: aioredis.Redis | None, *, flush_interval: float = 1.0) -> None:
        self._redis = redis
        self._script = redis.register_script(_TAKE) if redis is not None else None
        self._seen: dict[str, int] = {}  # the highest count this process has seen, per link
        self._dirty: dict[str, int] = {}
        self._flush_interval = flush_interval
        self._task: asyncio.Task[None] | None = None

    async def take(self, target: LinkTarget, limit: int) -> bool:
        """Count one redirect of `target`; False when its `limit` is already reached."""
        seen = max(target.taken, self._seen.get(target.qr_id, 0))
        taken = None
        if self._script is not None:
            try:
                key = KEY_PREFIX + target.qr_id
                taken = int(await self._script(keys=[key], args=[seen, limit]))
            except (RedisError, OSError) as exc:
                # A redirect must not fail with Redis: count here until it is back (exact
                # for this process; docs/links.md says what that means across processes).
                log.warning("max_scans: redis unavailable, counting in this process (%s)", exc)
        if taken is None:
            taken = -1 if seen >= limit else seen + 1
        if taken < 0:
            return False
        self._seen[target.qr_id] = max(taken, self._seen.get(target.qr_id, 0))
        self._dirty[target.qr_id] = max(taken, self._dirty.get(target.qr_id, 0))
        return True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scan-limits-flush")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            try:
                await self.flush()
            except Exception:
                log.exception("scan counters: could not write behind; will retry")

    async def flush(self) -> None:
        """Write the latest counts seen here; a count only ever grows in the table."""
        dirty, self._dirty = self._dirty, {}
        try:
            for qr_id, taken in dirty.items():
                await _store(qr_id, taken)
        except BaseException:
            for qr_id, taken in dirty.items():  # keep them for the next round
                self._dirty[qr_id] = max(taken, self._dirty.get(qr_id, 0))
            raise


async def _store(qr_id: str, taken: int) -> None:
    if await ScanCounter.filter(qr_id=qr_id, taken__lt=taken).update(taken=taken):
        return
    if await ScanCounter.exists(qr_id=qr_id):
        return  # already at least as high
    try:
        await ScanCounter.create(qr_id=qr_id, taken=taken)
    except IntegrityError:  # another redirector created it first
        await ScanCounter.filter(qr_id=qr_id, taken__lt=taken).update(taken=taken)
