"""Per-key token buckets: in-process by default, in Redis (one Lua script) when shared.

Each decision carries what the `X-RateLimit-*` headers need, so every response can show it.
`reset` is the number of seconds until the bucket is full again (IETF RateLimit style).
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        values = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            values["Retry-After"] = str(self.retry_after)
        return values


class RateLimiter(Protocol):
    async def hit(self, key: str, rate: int) -> RateDecision: ...


def _decide(tokens: float, allowed: bool, rate: int) -> RateDecision:
    deficit = rate - tokens
    return RateDecision(
        allowed=allowed,
        limit=rate,
        remaining=max(0, math.floor(tokens)),
        reset=max(0, math.ceil(deficit / rate)),
        retry_after=0 if allowed else max(1, math.ceil((1 - tokens) / rate)),
    )


class LocalRateLimiter:
    """Token bucket with capacity = rate (one second's worth), refilled continuously."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def hit(self, key: str, rate: int) -> RateDecision:
        now = self._clock()
        tokens, stamp = self._buckets.pop(key, (float(rate), now))
        tokens = min(float(rate), tokens + (now - stamp) * rate)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return _decide(tokens, allowed, rate)


class RedisRateLimiter:
    """The same bucket kept in Redis, updated atomically by a script using Redis' clock."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._script = client.register_script(Path(__file__).with_name("ratelimit.lua").read_text())

    async def hit(self, key: str, rate: int) -> RateDecision:
        allowed, tokens = await self._script(keys=[f"qrmint:rl:{key}"], args=[rate])
        return _decide(float(tokens), bool(int(allowed)), rate)


class FallbackRateLimiter:
    """The shared limiter, or this process's own buckets while the shared one fails.

    A Redis outage must not turn every call (and /readyz, which reports that outage) into
    a 500: limits are then kept per process until Redis answers again."""

    def __init__(self, shared: RateLimiter, local: RateLimiter | None = None) -> None:
        self._shared = shared
        self._local = local or LocalRateLimiter()
        self._failing = False

    async def hit(self, key: str, rate: int) -> RateDecision:
        try:
            decision = await self._shared.hit(key, rate)
        except (RedisError, OSError) as exc:
            if not self._failing:
                log.warning("rate limits kept per process: Redis does not answer (%s)", exc)
            self._failing = True
            return await self._local.hit(key, rate)
        if self._failing:
            log.warning("rate limits shared through Redis again")
            self._failing = False
        return decision
