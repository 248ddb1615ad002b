"""Invalidation feeds: the stream of short codes whose cached destination must go.

A feed is trusted only while it can prove it loses nothing. Its iterator yields
`Signal.SUBSCRIBED` once every later announcement is guaranteed to be delivered, then
short codes (or `Signal.DROP_ALL`); it raises or ends as soon as that guarantee may
have lapsed. The resolver uses its cache only in between.

* `BusFeed` follows an in-process `LocalBus`: its subscription is registered
  synchronously, so it can neither miss a message nor break.
* `RedisFeed` follows the same Redis channel that `RedisBus` publishes "links" on, but
  over its own connection with reconnection disabled: redis-py otherwise reconnects
  and re-subscribes silently after a Redis restart, and whatever was published in
  the gap would be lost without anyone knowing. It waits for the server's subscribe
  confirmation before declaring itself live, and echoes a probe through a private
  channel every few seconds so that a half-open connection is noticed too. It also
  follows `core.links.SYNC_CHANNEL` and acknowledges each change there once the
  resolver has applied it, which is what lets `LinkDirectory.publish_change` return
  only when every redirector has dropped the old destination.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from enum import Enum
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from core.bus import EventBus
from core.links import ACK_PREFIX, LINKS_CHANNEL, SYNC_CHANNEL


class Signal(Enum):
    SUBSCRIBED = "subscribed"
    DROP_ALL = "drop_all"


Event = str | Signal


class FeedBroken(Exception):
    """The feed can no longer prove that it delivers every announcement."""


class InvalidationFeed(Protocol):
    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[Event]]: ...


def event_of(message: Any) -> Event:
    # Anything that is not a well-formed announcement drops everything: safe by default.
    if isinstance(message, Mapping):
        code = message.get("short_code")
        if isinstance(code, str) and code:
            return code
    return Signal.DROP_ALL


class BusFeed:
    def __init__(self, bus: EventBus, channel: str = LINKS_CHANNEL) -> None:
        self._bus = bus
        self._channel = channel

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:
        async with self._bus.subscribe(self._channel) as messages:
            yield _bus_events(messages)


async def _bus_events(messages: AsyncIterator[Any]) -> AsyncIterator[Event]:
    yield Signal.SUBSCRIBED
    async for message in messages:
        yield event_of(message)


class RedisFeed:
    def __init__(
        self,
        url: str,
        *,
        channel: str = f"qrmint:{LINKS_CHANNEL}",
        probe_interval: float = 2.0,
        probe_timeout: float = 1.0,
        tick: float = 0.25,
        client_name: str = "qrmint-links-feed",
    ) -> None:
        self._url = url
        self._client_name = client_name
        self._channel = channel
        self._probe_interval = probe_interval
        self._probe_timeout = probe_timeout
        self._tick = tick

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:
        client = aioredis.from_url(
            self._url,
            decode_responses=True,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=2.0,
            client_name=self._client_name,
        )
        pubsub = client.pubsub()
        probe_channel = f"{self._channel}:probe:{secrets.token_hex(8)}"
        try:
            await pubsub.subscribe(self._channel, SYNC_CHANNEL, probe_channel)
            yield self._events(client, pubsub, probe_channel)
        finally:
            with suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            with suppress(RedisError, OSError):
                await client.aclose()

    async def _events(
        self, client: aioredis.Redis, pubsub: Any, probe_channel: str
    ) -> AsyncIterator[Event]:
        awaiting = {self._channel, SYNC_CHANNEL, probe_channel}
        probe_due = time.monotonic() + self._probe_interval
        deadline: float | None = None
        while True:
            message = await pubsub.get_message(timeout=self._tick)
            if message is not None:
                kind, channel = message.get("type"), message.get("channel")
                if kind == "subscribe":
                    if not awaiting:
                        raise FeedBroken("re-subscribed: announcements may have been missed")
                    awaiting.discard(channel)
                    if not awaiting:
                        yield Signal.SUBSCRIBED
                elif kind == "message" and channel == probe_channel:
                    deadline = None
                elif kind == "message" and channel == SYNC_CHANNEL:
                    data = _json(message.get("data"))
                    yield event_of(data)
                    # Resumed only after the resolver applied the event: now acknowledge.
                    await _acknowledge(client, data)
                elif kind == "message":
                    yield event_of(_json(message.get("data")))
            now = time.monotonic()
            if deadline is not None and now > deadline:
                raise FeedBroken("probe not echoed in time")
            if deadline is None and now >= probe_due:
                await client.publish(probe_channel, "1")
                deadline = now + self._probe_timeout
                probe_due = now + self._probe_interval


async def _acknowledge(client: aioredis.Redis, data: Any) -> None:
    ack_key = data.get("ack") if isinstance(data, Mapping) else None
    if isinstance(ack_key, str) and ack_key.startswith(ACK_PREFIX):
        async with client.pipeline(transaction=False) as pipe:
            pipe.rpush(ack_key, "1")
            pipe.expire(ack_key, 60)
            await pipe.execute()


def _json(raw: Any) -> Any:
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return None
