"""Token buckets, in-process and in real Redis (several limiters share one budget)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from core.ratelimit import FallbackRateLimiter, LocalRateLimiter, RateDecision, RedisRateLimiter
from tests.support import redis_url

REDIS_DB = 9


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_local_bucket_allows_rate_then_refills() -> None:
    clock = _Clock()
    limiter = LocalRateLimiter(clock=clock)
    decisions = [await limiter.hit("k", 10) for _ in range(11)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert decisions[9].remaining == 0
    assert decisions[10].retry_after == 1
    assert decisions[10].headers()["Retry-After"] == "1"
    clock.now += 0.5
    assert (await limiter.hit("k", 10)).allowed
    assert (await limiter.hit("other", 10)).remaining == 9


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url(REDIS_DB))
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.mark.redis
async def test_redis_bucket_is_shared_between_limiters(redis_client: aioredis.Redis) -> None:
    first, second = RedisRateLimiter(redis_client), RedisRateLimiter(redis_client)
    decisions = await asyncio.gather(
        *(limiter.hit("shared", 10) for limiter in [first, second] * 10)
    )
    assert sum(d.allowed for d in decisions) == 10
    refused = next(d for d in decisions if not d.allowed)
    assert refused.retry_after >= 1
    await asyncio.sleep(0.25)
    assert (await first.hit("shared", 10)).allowed


class _Flaky:
    """A shared limiter whose store is down until told otherwise."""

    def __init__(self) -> None:
        self.down = True
        self.local = LocalRateLimiter()

    async def hit(self, key: str, rate: int) -> RateDecision:
        if self.down:
            raise RedisConnectionError("Error 111 connecting to redis")
        return await self.local.hit("shared:" + key, rate)


async def test_a_redis_outage_falls_back_to_per_process_buckets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shared = _Flaky()
    limiter = FallbackRateLimiter(shared)
    decisions = [await limiter.hit("k", 10) for _ in range(11)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False]  # still limited
    assert caplog.text.count("Redis does not answer") == 1
    shared.down = False
    assert (await limiter.hit("k", 10)).remaining == 9  # the shared bucket again
    assert "shared through Redis again" in caplog.text
