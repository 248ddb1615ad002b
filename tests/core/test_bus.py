"""The event bus: in-process and over real Redis pub/sub."""

from __future__ import annotations

import asyncio

import pytest

from core.bus import _QUEUE_SIZE, OVERFLOW, LocalBus, create_bus
from tests.support import redis_url

REDIS_URL = redis_url(10)


async def test_local_bus_delivers_in_order_to_every_subscriber() -> None:
    bus = LocalBus()
    async with bus.subscribe("c") as first, bus.subscribe("c") as second:
        for n in range(3):
            await bus.publish("c", {"n": n})
        for messages in (first, second):
            assert [(await anext(messages))["n"] for _ in range(3)] == [0, 1, 2]
    await bus.publish_many([("c", {"n": 9})])  # nobody listens: nothing is kept


async def test_a_slow_subscriber_gets_an_overflow_marker_not_a_gap() -> None:
    bus = LocalBus()
    async with bus.subscribe("c") as messages:
        for n in range(_QUEUE_SIZE + 5):
            await bus.publish("c", {"n": n})
        assert await anext(messages) == OVERFLOW
        assert (await anext(messages))["n"] == _QUEUE_SIZE + 1  # then it goes on


@pytest.mark.redis
async def test_redis_bus_crosses_clients() -> None:
    publisher, subscriber = create_bus(REDIS_URL), create_bus(REDIS_URL)
    try:
        async with subscriber.subscribe("scans:qr_x") as messages:
            await asyncio.sleep(0.05)
            await publisher.publish("scans:qr_x", {"qr_id": "qr_x"})
            assert await asyncio.wait_for(anext(messages), 5) == {"qr_id": "qr_x"}
    finally:
        await publisher.close()
        await subscriber.close()


@pytest.mark.redis
async def test_redis_bus_publishes_a_batch_in_order() -> None:
    publisher, subscriber = create_bus(REDIS_URL), create_bus(REDIS_URL)
    try:
        async with subscriber.subscribe("scans:qr_y") as messages:
            await asyncio.sleep(0.05)
            await publisher.publish_many([("scans:qr_y", {"n": n}) for n in range(5)])
            received = [await asyncio.wait_for(anext(messages), 5) for _ in range(5)]
        assert [message["n"] for message in received] == [0, 1, 2, 3, 4]
    finally:
        await publisher.close()
        await subscriber.close()
