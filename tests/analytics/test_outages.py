"""The store or Redis goes away in the middle of a burst of real redirects: the redirects
are answered all along, the scans wait in the journal, and once the neighbour is back
every scan the client saw is stored, once."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis import Redis as SyncRedis
from redis.exceptions import RedisError
from starlette.applications import Starlette

from analytics.sinks import StoreSink
from analytics.store import ScanStore
from analytics.stream import StreamDrainer, StreamSink
from analytics.writer import ScanWriter
from core.bus import LocalBus
from core.config import Settings
from core.db import close_database, migrate_database, open_database
from core.scans import ScanRow, ScanSink
from redirector.wiring import open_redirector
from tests.redirector.conftest import create_dynamic_qr, make_settings, serve
from tests.support import Burst, free_port

pytestmark = pytest.mark.slow
SCANS = 4000


class SwitchableStore:
    """The real store, unreachable while `down` is set."""

    def __init__(self, store: ScanStore) -> None:
        self.store = store
        self.down = False

    def insert(self, rows: Sequence[ScanRow], *, token: str | None = None) -> None:
        if self.down:
            raise ConnectionError("store unreachable")
        self.store.insert(rows, token=token)


@pytest.fixture
async def settings(tmp_path: Path) -> AsyncIterator[Settings]:
    settings = make_settings(tmp_path)
    await migrate_database(settings)
    await open_database(settings)
    try:
        yield settings
    finally:
        await close_database()


def _by_referer(store: ScanStore, qr_id: str) -> dict[str, int]:
    rows = store.query(
        "SELECT referrer_host, count() FROM $scans WHERE qr_id = {q:String} GROUP BY 1",
        {"q": qr_id},
    )
    return {host: int(n) for host, n in rows}


async def _until(predicate: Callable[[], bool], within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def _burst_with_outage(
    app: Starlette, base: str, code: str, *, fail: Callable[[], None]
) -> set[int]:
    burst = Burst("127.0.0.1", int(base.rsplit(":", 1)[1]), code)
    running = asyncio.create_task(burst.run(range(SCANS)))
    await _until(lambda: len(burst.seen) >= SCANS // 4)
    fail()
    seen = await running
    assert len(seen) == SCANS  # every redirect answered while the neighbour was away
    return seen


def _assert_each_once(stored: dict[str, int], seen: set[int]) -> None:
    assert stored == {f"r{n}.example": 1 for n in seen}


def _redirector(
    settings: Settings, sinks: Sequence[ScanSink]
) -> AbstractAsyncContextManager[Starlette]:
    return open_redirector(
        settings, redis=None, bus=LocalBus(), sinks=sinks, geo_locator=lambda ip: ("", "")
    )


async def test_the_store_down_mid_burst(settings: Settings, store: ScanStore) -> None:
    target = await create_dynamic_qr("outagecd1", "https://example.com/")
    switch = SwitchableStore(store)
    async with _redirector(settings, [StoreSink(switch)]) as app, serve(app) as base:

        def fail() -> None:
            switch.down = True

        seen = await _burst_with_outage(app, base, "outagecd1", fail=fail)
        journal = app.state.journal
        await _until(lambda: app.state.consumer.stats().failing_sinks != ())
        assert journal.stats().backlog_rows > 0  # waiting on disk, not dropped
        switch.down = False
        await _until(lambda: journal.stats().backlog_rows == 0)
    _assert_each_once(_by_referer(store, target.qr_id), seen)


@dataclass
class PrivateRedis:
    process: subprocess.Popen[bytes]
    port: int


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis of this test's own, so it can be paused without disturbing anything else."""
    server = shutil.which("redis-server")
    assert server, "redis-server is needed (see .ci/run)"
    port = free_port()
    started = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    client = SyncRedis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except RedisError:
            time.sleep(0.05)
    client.close()
    yield PrivateRedis(started, port)
    started.send_signal(signal.SIGCONT)
    started.terminate()
    started.wait(10)


@pytest.mark.redis
async def test_redis_unreachable_mid_burst(
    settings: Settings, store: ScanStore, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    target = await create_dynamic_qr("outagerd1", "https://example.com/")
    url = f"redis://127.0.0.1:{private_redis.port}"
    redis = aioredis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    writer = ScanWriter(store, tmp_path / "spool")
    drainer = StreamDrainer(redis, writer, block_ms=100)
    await writer.start()
    await drainer.start()
    try:
        async with _redirector(settings, [StreamSink(redis)]) as app, serve(app) as base:
            seen = await _burst_with_outage(
                app,
                base,
                "outagerd1",
                fail=lambda: private_redis.process.send_signal(signal.SIGSTOP),
            )
            journal = app.state.journal
            await _until(lambda: app.state.consumer.stats().failing_sinks != ())
            assert journal.stats().backlog_rows > 0
            private_redis.process.send_signal(signal.SIGCONT)
            await _until(lambda: journal.stats().backlog_rows == 0)
        await _until(lambda: len(_by_referer(store, target.qr_id)) == len(seen))
    finally:
        await drainer.aclose()
        await writer.aclose()
        await redis.aclose()
    _assert_each_once(_by_referer(store, target.qr_id), seen)
