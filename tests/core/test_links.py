"""LinkDirectory over a real database (SQLite, Postgres) with and without Redis."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from tortoise.backends.base.executor import EXECUTOR_CACHE

from core.bus import LocalBus
from core.config import Settings, load_settings
from core.db import close_database, migrate_database, open_database
from core.links import (
    SYNC_CHANNEL,
    LinkDirectory,
    LinkTarget,
    decode_target,
    encode_target,
    link_from_database,
    link_key,
    version_of,
)
from core.models import Account, QrCode, new_id
from tests.support import redis_url, set_destination

REDIS_URL = redis_url(13)
SECRET = "links-test-secret-0123456789abcdef"


def _settings(data_dir: Path, database_url: str | None) -> Settings:
    env = {"QRMINT_DATA_DIR": str(data_dir), "QRMINT_SECRET_KEY": SECRET}
    if database_url:
        env["QRMINT_DATABASE_URL"] = database_url
    return load_settings(env, env_file="/nonexistent")


@asynccontextmanager
async def _open(data_dir: Path, database_url: str | None) -> AsyncIterator[None]:
    settings = _settings(data_dir, database_url)
    await migrate_database(settings)
    # Tortoise caches insert SQL per connection name, across backends: a Postgres test after a
    # SQLite one would otherwise reuse SQLite's placeholders.
    EXECUTOR_CACHE.clear()
    await open_database(settings)
    try:
        yield
    finally:
        await close_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: Any
) -> AsyncIterator[None]:
    if request.param == "sqlite":
        async with _open(tmp_path, None):
            yield
        return
    async with postgres_database("links") as url, _open(tmp_path, url):
        yield


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL, decode_responses=True)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


async def _qr(code: str | None, destination: str | None, kind: str = "dynamic") -> LinkTarget:
    account = await Account.create(id=new_id("acc"), tier="pro")
    qr = await QrCode.create(
        id=new_id("qr"),
        account=account,
        type=kind,
        data=destination or "hello",
        short_code=code,
        destination=destination,
        format="png",
        size=256,
        margin=4,
        error_correction="M",
    )
    return LinkTarget(qr.id, account.id, code or "", destination or "", version_of(qr.updated_at))


def test_target_round_trips_through_its_encoding() -> None:
    target = LinkTarget("qr_1", "acc_1", "abcdefg", "https://example.com/ä?x=1")
    assert decode_target(encode_target(target)) == target
    assert decode_target("not json") is None
    assert decode_target('{"q": 1}') is None


async def test_lookup_reads_dynamic_codes_from_the_database(database: None) -> None:
    target = await _qr("dbcode01", "https://example.com/a")
    await _qr(None, None, kind="static")
    directory = LinkDirectory(None, LocalBus())
    assert await directory.lookup("dbcode01") == target
    assert await directory.lookup("missing1") is None


async def test_publish_change_announces_on_the_bus(database: None) -> None:
    bus = LocalBus()
    directory = LinkDirectory(None, bus)
    target = await _qr("dbcode02", "https://example.com/a")
    async with bus.subscribe("links") as messages:
        await directory.publish_change(target)
        assert await anext(messages) == {"short_code": "dbcode02"}


@pytest.mark.redis
async def test_lookup_fills_redis_and_then_reads_it(database: None, redis_client) -> None:
    target = await _qr("rdcode01", "https://example.com/a")
    directory = LinkDirectory(redis_client, LocalBus())
    assert await directory.lookup("rdcode01") == target
    assert decode_target(await redis_client.get(link_key("rdcode01"))) == target
    assert 0 < await redis_client.ttl(link_key("rdcode01")) <= 3600
    # Redis answers from now on: a row change without a publish is not seen.
    await QrCode.filter(id=target.qr_id).update(destination="https://example.com/b")
    assert _destination(await directory.lookup("rdcode01")) == "https://example.com/a"


@pytest.mark.redis
async def test_publish_change_overwrites_and_announces(database: None, redis_client) -> None:
    bus = LocalBus()
    directory = LinkDirectory(redis_client, bus)
    target = await _qr("rdcode02", "https://example.com/a")
    await directory.lookup("rdcode02")
    changed = await set_destination(target, "https://example.com/b")
    async with bus.subscribe("links") as messages:
        await directory.publish_change(changed)
        assert await anext(messages) == {"short_code": "rdcode02"}
    assert await directory.lookup("rdcode02") == changed


@pytest.mark.redis
async def test_a_slow_reader_never_overwrites_a_newer_value(database: None, redis_client) -> None:
    """The reader read the row before the update; its fill lands after the update's SET."""
    target = await _qr("rdcode03", "https://example.com/old")
    directory = LinkDirectory(redis_client, LocalBus())
    stale = await link_from_database("rdcode03")  # the slow reader's read
    newer = await set_destination(target, "https://example.com/new")
    await directory.publish_change(newer)
    assert stale is not None
    await directory._fill(stale)  # ... and its late fill
    assert await directory.lookup("rdcode03") == newer


async def test_lookup_survives_redis_being_down(database: None) -> None:
    target = await _qr("rdcode04", "https://example.com/a")
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        assert await LinkDirectory(dead, LocalBus()).lookup("rdcode04") == target
    finally:
        await dead.aclose()


@pytest.mark.redis
async def test_publish_change_waits_for_each_redirector_to_acknowledge(
    database: None, redis_client, caplog: pytest.LogCaptureFixture
) -> None:
    target = await _qr("rdcode05", "https://example.com/a")
    slow, silent = redis_client.pubsub(), redis_client.pubsub()
    await slow.subscribe(SYNC_CHANNEL)
    await silent.subscribe(SYNC_CHANNEL)
    acked = asyncio.Event()

    async def acknowledge_late() -> None:
        while (
            message := await slow.get_message(ignore_subscribe_messages=True, timeout=1)
        ) is None:
            pass
        await asyncio.sleep(0.2)
        acked.set()
        await redis_client.rpush(json.loads(message["data"])["ack"], "1")

    acker = asyncio.create_task(acknowledge_late())
    directory = LinkDirectory(redis_client, LocalBus(), ack_timeout=0.6)
    try:
        started = time.monotonic()
        await directory.publish_change(target)
        elapsed = time.monotonic() - started
        assert acked.is_set(), "returned before the slow redirector acknowledged"
        assert 0.55 < elapsed < 2, "the silent one is waited for, but not forever"
        assert "1 of 2 redirectors acknowledged in time" in caplog.text
    finally:
        await acker
        await slow.aclose()
        await silent.aclose()


def _destination(found: object) -> str:
    assert isinstance(found, LinkTarget)
    return found.destination


@pytest.mark.redis
async def test_updates_published_out_of_order_keep_the_newest(
    database: None, redis_client: aioredis.Redis
) -> None:
    target = await _qr("rdcode09", "https://example.com/a")
    older = await set_destination(target, "https://example.com/b")
    newer = await set_destination(target, "https://example.com/c")
    directory = LinkDirectory(redis_client, LocalBus())
    await directory.publish_change(newer)
    await directory.publish_change(older)  # the slower of two concurrent PATCHes
    assert _destination(await directory.lookup("rdcode09")) == "https://example.com/c"
