"""The resolver's cache: hits, invalidation, the in-flight race and a broken feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as aioredis

from core.bus import LocalBus
from core.links import LinkDirectory, LinkTarget, encode_target, link_key
from redirector.feed import BusFeed, Event, RedisFeed, Signal
from redirector.resolver import ShortCodeResolver
from tests.support import redis_url

REDIS_URL = redis_url(12)


def target(code: str, destination: str) -> LinkTarget:
    return LinkTarget("qr_1", "acc_1", code, destination)


class FakeDirectory:
    def __init__(self) -> None:
        self.links: dict[str, LinkTarget] = {}
        self.lookups = 0
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def lookup(self, short_code: str) -> LinkTarget | None:
        self.lookups += 1
        found = self.links.get(short_code)
        if self.gate is not None:
            self.entered.set()
            await self.gate.wait()
        return found


@pytest.fixture
async def local() -> AsyncIterator[tuple[FakeDirectory, LocalBus, ShortCodeResolver]]:
    directory, bus = FakeDirectory(), LocalBus()
    resolver = ShortCodeResolver(directory, BusFeed(bus), ttl=60, miss_ttl=60)
    await resolver.start()
    assert resolver.live
    yield directory, bus, resolver
    await resolver.aclose()


async def wait_until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_hit_is_served_from_cache(local) -> None:
    directory, _, resolver = local
    directory.links["abcdefg"] = target("abcdefg", "https://one.example/")
    for _ in range(3):
        assert _destination(await resolver.resolve("abcdefg")) == "https://one.example/"
    assert directory.lookups == 1


async def test_bus_announcement_drops_the_entry(local) -> None:
    directory, bus, resolver = local
    directory.links["abcdefg"] = target("abcdefg", "https://one.example/")
    await resolver.resolve("abcdefg")
    directory.links["abcdefg"] = target("abcdefg", "https://two.example/")
    await bus.publish("links", {"short_code": "abcdefg"})
    await settle()
    assert _destination(await resolver.resolve("abcdefg")) == "https://two.example/"


async def test_cached_miss_is_dropped_when_the_code_is_created(local) -> None:
    directory, bus, resolver = local
    assert await resolver.resolve("newcode1") is None
    assert await resolver.resolve("newcode1") is None
    assert directory.lookups == 1
    directory.links["newcode1"] = target("newcode1", "https://new.example/")
    await bus.publish("links", {"short_code": "newcode1"})
    await settle()
    assert _destination(await resolver.resolve("newcode1")) == "https://new.example/"


async def test_invalidation_during_a_lookup_keeps_its_answer_out_of_the_cache(local) -> None:
    directory, bus, resolver = local
    directory.links["abcdefg"] = target("abcdefg", "https://old.example/")
    directory.gate = asyncio.Event()
    in_flight = asyncio.create_task(resolver.resolve("abcdefg"))
    await directory.entered.wait()  # the lookup has read the old value
    directory.links["abcdefg"] = target("abcdefg", "https://new.example/")
    await bus.publish("links", {"short_code": "abcdefg"})
    await settle()
    directory.gate.set()
    assert (await in_flight).destination == "https://old.example/"
    directory.gate = None
    assert _destination(await resolver.resolve("abcdefg")) == "https://new.example/"


async def test_malformed_announcement_drops_everything(local) -> None:
    directory, bus, resolver = local
    directory.links["abcdefg"] = target("abcdefg", "https://old.example/")
    await resolver.resolve("abcdefg")
    directory.links["abcdefg"] = target("abcdefg", "https://new.example/")
    await bus.publish("links", {"something": "else"})
    await settle()
    assert _destination(await resolver.resolve("abcdefg")) == "https://new.example/"


class BreakableFeed:
    """A feed whose subscription can be broken and restored from the test."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event | Exception] = asyncio.Queue()
        self.subscriptions = 0

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:
        self.subscriptions += 1
        yield self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while True:
            item = await self.queue.get()
            if isinstance(item, Exception):
                raise item
            yield item


async def test_broken_feed_clears_and_bypasses_until_resubscribed() -> None:
    directory, feed = FakeDirectory(), BreakableFeed()
    resolver = ShortCodeResolver(directory, feed, ttl=60, retry_delay=0.01)
    await resolver.start(wait=0)
    directory.links["abcdefg"] = target("abcdefg", "https://one.example/")
    await resolver.resolve("abcdefg")
    await resolver.resolve("abcdefg")
    assert directory.lookups == 2, "nothing is cached before the feed is confirmed"
    feed.queue.put_nowait(Signal.SUBSCRIBED)
    await settle()
    await resolver.resolve("abcdefg")
    await resolver.resolve("abcdefg")
    assert directory.lookups == 3
    feed.queue.put_nowait(ConnectionError("redis went away"))
    await settle()
    assert not resolver.live
    directory.links["abcdefg"] = target("abcdefg", "https://two.example/")  # missed update
    assert _destination(await resolver.resolve("abcdefg")) == "https://two.example/"
    await resolver.resolve("abcdefg")
    assert directory.lookups == 5, "bypassing while the feed is down"
    await asyncio.sleep(0.05)
    assert feed.subscriptions == 2
    feed.queue.put_nowait(Signal.SUBSCRIBED)
    await settle()
    assert resolver.live
    await resolver.aclose()


async def test_lru_is_bounded() -> None:
    directory = FakeDirectory()
    resolver = ShortCodeResolver(directory, BusFeed(LocalBus()), max_entries=2)
    await resolver.start()
    for code in ("aaaaaaa", "bbbbbbb", "ccccccc", "aaaaaaa"):
        await resolver.resolve(code)
    assert directory.lookups == 4
    await resolver.aclose()


async def _kill_feed_connections(admin: aioredis.Redis, name: str) -> int:
    clients = await admin.client_list()
    ids = [c["id"] for c in clients if c.get("name") == name]
    for client_id in ids:
        await admin.client_kill_filter(_id=client_id)
    return len(ids)


@pytest.mark.redis
async def test_redis_feed_breaks_loudly_and_recovers(db_settings, make_qr, change_destination):
    admin = aioredis.from_url(REDIS_URL, decode_responses=True)
    await admin.flushdb()
    name = "qrmint-test-feed-kill"
    directory = LinkDirectory(admin, LocalBus())
    feed = RedisFeed(REDIS_URL, client_name=name, probe_interval=0.2, probe_timeout=0.5)
    resolver = ShortCodeResolver(directory, feed, ttl=60, retry_delay=0.05)
    try:
        await resolver.start()
        assert resolver.live
        old = await make_qr("killtest1", "https://old.example/")
        assert _destination(await resolver.resolve("killtest1")) == "https://old.example/"
        assert await _kill_feed_connections(admin, name) >= 1
        await wait_until(lambda: not resolver.live, 3)
        # An update whose announcement nobody heard: the resolver must not serve the old one.
        new = await change_destination(old, "https://new.example/")
        await admin.set(link_key("killtest1"), encode_target(new))
        assert _destination(await resolver.resolve("killtest1")) == "https://new.example/"
        await wait_until(lambda: resolver.live, 5)
    finally:
        await resolver.aclose()
        await admin.flushdb()
        await admin.aclose()


def _destination(found: object) -> str:
    assert isinstance(found, LinkTarget)
    return found.destination
