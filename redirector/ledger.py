"""The first-scan ledger: has this visitor scanned this QR before?

Asked off the response path, in batches (one Redis round trip for many scans). Each scan
comes with its journal key, and the ledger remembers the key of the first scan of each
(QR, visitor) pair: asking again about that same scan, as a replay after a crash does,
gets the same answer, so `is_unique` never changes between a first attempt and a replay.
In-process: a bounded LRU map, so memory stays flat and a forgotten pair is merely counted
as unique once more. With Redis: `SET qrmint:seen:{qr}:{visitor} KEY NX GET EX`, shared by
every redirector process; if Redis fails, the in-process map answers.
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

Sighting = tuple[str, str, str]  # (qr_id, visitor, the scan's journal key)


class FirstScanLedger(Protocol):
    async def first_scans(self, sightings: Sequence[Sighting]) -> list[bool]:
        """For each sighting, in order: True when it is the first of its (QR, visitor)."""
        ...


class LocalLedger:
    def __init__(self, max_entries: int = 200_000) -> None:
        self._seen: OrderedDict[str, str] = OrderedDict()
        self._max_entries = max_entries

    async def first_scans(self, sightings: Sequence[Sighting]) -> list[bool]:
        return [self.mark(qr_id, visitor, key) for qr_id, visitor, key in sightings]

    def mark(self, qr_id: str, visitor: str, key: str) -> bool:
        pair = f"{qr_id}:{visitor}"
        first = self._seen.get(pair)
        if first is not None:
            self._seen.move_to_end(pair)
            return first == key
        self._seen[pair] = key
        if len(self._seen) > self._max_entries:
            self._seen.popitem(last=False)
        return True


class RedisLedger:
    def __init__(self, redis: aioredis.Redis, fallback: LocalLedger | None = None) -> None:
        self._redis = redis
        self._fallback = fallback or LocalLedger()

    async def first_scans(self, sightings: Sequence[Sighting]) -> list[bool]:
        if not sightings:
            return []
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for qr_id, visitor, key in sightings:
                    pipe.set(
                        f"{KEY_PREFIX}{qr_id}:{visitor}", key, nx=True, get=True,
                        ex=SEEN_TTL_SECONDS,
                    )  # fmt: skip
                results = await pipe.execute()
        except RedisError as exc:
            log.warning("first-scan ledger: redis unavailable, using the local map (%s)", exc)
            return await self._fallback.first_scans(sightings)
        return [
            _is_first(found, key) for found, (_, _, key) in zip(results, sightings, strict=True)
        ]


def _is_first(found: str | bytes | None, key: str) -> bool:
    if found is None:
        return True
    return (found.decode() if isinstance(found, bytes) else found) == key
