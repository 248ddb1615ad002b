"""Publish/subscribe for live events: scan counts and cache invalidation.

In-process when QRMINT_REDIS_URL is unset (one `qrmint serve`), Redis pub/sub when it is
set, so that several API and redirector processes see each other's events.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import redis.asyncio as aioredis

Message = dict[str, Any]
_QUEUE_SIZE = 1000
OVERFLOW: Message = {"overflow": True}


class EventBus(Protocol):
    async def publish(self, channel: str, message: Message) -> None: ...

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None: ...

    def subscribe(self, channel: str) -> Any:
        """An async context manager yielding an async iterator of messages."""
        ...

    async def close(self) -> None: ...


class LocalBus:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Message]]] = {}

    async def publish(self, channel: str, message: Message) -> None:
        for queue in tuple(self._queues.get(channel, ())):
            if queue.full():
                # A slow subscriber must not stall publishers, nor silently miss events: it
                # gets one OVERFLOW marker instead of its backlog and starts over from state.
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(OVERFLOW)
                continue
            queue.put_nowait(message)

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None:
        for channel, message in messages:
            await self.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue(_QUEUE_SIZE)
        self._queues.setdefault(channel, set()).add(queue)
        try:
            yield _drain(queue)
        finally:
            subscribers = self._queues.get(channel, set())
            subscribers.discard(queue)
            if not subscribers:
                self._queues.pop(channel, None)

    async def close(self) -> None:
        self._queues.clear()


async def _drain(queue: asyncio.Queue[Message]) -> AsyncIterator[Message]:
    while True:
        yield await queue.get()


class RedisBus:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def publish(self, channel: str, message: Message) -> None:
        await self._client.publish(f"qrmint:{channel}", json.dumps(message))

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for channel, message in messages:
                pipe.publish(f"qrmint:{channel}", json.dumps(message))
            await pipe.execute()

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(f"qrmint:{channel}")
        try:
            yield _listen(pubsub)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self._client.aclose()  # type: ignore[no-untyped-call]


async def _listen(pubsub: Any) -> AsyncIterator[Message]:
    async for raw in pubsub.listen():
        if raw.get("type") == "message":
            yield json.loads(raw["data"])


def create_bus(redis_url: str | None) -> EventBus:
    if redis_url is None:
        return LocalBus()
    return RedisBus(aioredis.from_url(redis_url, decode_responses=True))
