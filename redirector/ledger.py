"""The first-scan ledger: has this visitor scanned this QR before?

Asked off the response path, in batches (one Redis round trip for many scans).
In-process: a bounded LRU set, so memory stays flat and a forgotten pair is merely
counted as unique once more. With Redis: `SET qrmint:seen:{qr}:{visitor} 1 NX EX`,
shared by every redirector process; if Redis fails, the in-process set answers.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

SEEN_TTL_SECONDS = 365 * 24 * 3600
KEY_PREFIX = "qrmint:seen:"

log = logging.getLogger(__name__)

Pair = tuple[str, str]  # (qr_id, visitor)


class FirstScanLedger(Protocol):
    async def first_scans(self, pairs: Sequence[Pair]) -> list[bool]:
        """For each (qr_id, visitor), in order: True when it was never seen before."""
        ...


class LocalLedger:
    def __init__(self, max_entries: int = 200_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._max_entries = max_entries

    async def first_scans(self, pairs: Sequence[Pair]) -> list[bool]:
        return [self.mark(qr_id, visitor) for qr_id, visitor in pairs]

    def mark(self, qr_id: str, visitor: str) -> bool:
        key = f"{qr_id}:{visitor}"
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self._max_entries:
            self._seen.popitem(last=False)
        return True


class RedisLedger:
    def __init__(self, redis: aioredis.Redis, fallback: LocalLedger | None = None) -> None:
        self._redis = redis
        self._fallback = fallback or LocalLedger()

    async def first_scans(self, pairs: Sequence[Pair]) -> list[bool]:
        if not pairs:
            return []
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for qr_id, visitor in pairs:
                    pipe.set(f"{KEY_PREFIX}{qr_id}:{visitor}", 1, nx=True, ex=SEEN_TTL_SECONDS)
                results = await pipe.execute()
        except RedisError as exc:
            log.warning("first-scan ledger: redis unavailable, using the local set (%s)", exc)
            return await self._fallback.first_scans(pairs)
        return [bool(result) for result in results]
