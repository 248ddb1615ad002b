"""max_scans counters and password attempts, in-process and when Redis is gone."""

from __future__ import annotations

import redis.asyncio as aioredis

from core.config import Settings
from core.links import LinkTarget
from core.models import ScanCounter
from redirector.attempts import LIMIT, PasswordAttempts
from redirector.counters import ScanLimits
from tests.support import free_port

LINK = LinkTarget("qr_00000000000000000009", "acc", "Counted1", "https://d.example/", taken=2)


def _unreachable() -> aioredis.Redis:
    return aioredis.from_url(f"redis://127.0.0.1:{free_port()}", socket_connect_timeout=0.5)


async def test_in_process_counts_from_the_stored_count_and_writes_behind(
    db_settings: Settings,
) -> None:
    limits = ScanLimits(None)
    assert [await limits.take(LINK, 5) for _ in range(4)] == [True, True, True, False]
    await limits.flush()
    stored = await ScanCounter.get(qr_id=LINK.qr_id)
    assert stored.taken == 5
    assert await limits.take(LINK, 6)  # a raised limit gives room again


async def test_without_redis_answering_the_process_counts(db_settings: Settings) -> None:
    client = _unreachable()
    try:
        limits = ScanLimits(client)
        assert [await limits.take(LINK, 4) for _ in range(3)] == [True, True, False]
    finally:
        await client.aclose()


async def test_password_attempts_count_wrong_ones_only() -> None:
    client = _unreachable()
    try:
        for attempts in (PasswordAttempts(None), PasswordAttempts(client)):
            assert await attempts.reserve("right") == 0
            await attempts.release("right")  # a right password gives its attempt back
            for _ in range(LIMIT):
                assert await attempts.reserve("guesser") == 0
            assert await attempts.reserve("guesser") > 0
            assert await attempts.reserve("right") == 0
            assert await attempts.reserve("someone else") == 0
    finally:
        await client.aclose()
