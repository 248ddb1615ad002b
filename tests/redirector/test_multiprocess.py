"""Two redirector processes sharing a database and Redis: an update is seen by the next scan."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from tortoise.backends.base.executor import EXECUTOR_CACHE

from core.bus import RedisBus
from core.config import load_settings
from core.db import close_database, migrate_database, open_database
from core.links import LinkDirectory
from tests.support import free_port, redis_url

REDIS_URL = redis_url(13)
HELPER = Path(__file__).with_name("redirector_proc.py")
SECRET = "multiprocess-test-secret-0123456789"

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: Any
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'shared.sqlite3'}"
        return
    async with postgres_database("redirector") as url:
        yield url


@pytest.fixture
async def shared(database_url: str, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The environment both redirector processes (and this test) share."""
    env = {
        "QRMINT_DATA_DIR": str(tmp_path),
        "QRMINT_DATABASE_URL": database_url,
        "QRMINT_REDIS_URL": REDIS_URL,
        "QRMINT_SECRET_KEY": SECRET,
    }
    settings = load_settings(env, env_file="/nonexistent")
    await migrate_database(settings)
    EXECUTOR_CACHE.clear()  # see tests/redirector/conftest.py
    await open_database(settings)
    client = aioredis.from_url(REDIS_URL, decode_responses=True)
    await client.flushdb()
    try:
        yield env
    finally:
        await client.flushdb()
        await client.aclose()
        await close_database()


async def _start(env: dict[str, str], cwd: Path) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    log_path = cwd / f"redirector-{port}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HELPER),
            str(port),
            env={**os.environ, **env},
            cwd=cwd,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if process.returncode is not None:
                raise AssertionError(log_path.read_text())
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return process, base
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    process.kill()
    await process.wait()
    raise AssertionError(f"redirector process did not start: {log_path.read_text()}")


@pytest.fixture
async def processes(shared: dict[str, str], tmp_path: Path) -> AsyncIterator[list[str]]:
    started: list[asyncio.subprocess.Process] = []
    bases: list[str] = []
    try:
        for _ in range(2):
            process, base = await _start(shared, tmp_path)
            started.append(process)
            bases.append(base)
        yield bases
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _locations(client: httpx.AsyncClient, bases: list[str], code: str) -> list[str | None]:
    responses = [await client.get(f"{base}/{code}") for base in bases]
    return [r.headers.get("location") for r in responses]


async def test_update_is_seen_by_the_next_scan_on_every_process(
    processes: list[str], make_qr, change_destination
) -> None:
    target = await make_qr("multiproc1", "https://example.com/v0")
    publisher_redis = aioredis.from_url(REDIS_URL, decode_responses=True)
    bus = RedisBus(aioredis.from_url(REDIS_URL, decode_responses=True))
    directory = LinkDirectory(publisher_redis, bus)
    try:
        async with httpx.AsyncClient(follow_redirects=False) as client:
            for version in range(1, 9):
                for _ in range(3):  # warm both processes' caches with the current destination
                    expected = f"https://example.com/v{version - 1}"
                    assert await _locations(client, processes, "multiproc1") == [expected] * 2
                target = await change_destination(target, f"https://example.com/v{version}")
                await directory.publish_change(target)
                assert (
                    await _locations(client, processes, "multiproc1")
                    == [f"https://example.com/v{version}"] * 2
                )
    finally:
        await bus.close()
        await publisher_redis.aclose()


async def test_a_created_code_is_found_after_cached_misses(processes: list[str], make_qr) -> None:
    publisher_redis = aioredis.from_url(REDIS_URL, decode_responses=True)
    bus = RedisBus(aioredis.from_url(REDIS_URL, decode_responses=True))
    try:
        async with httpx.AsyncClient(follow_redirects=False) as client:
            for base in processes:
                assert (await client.get(f"{base}/multiproc2")).status_code == 404
            target = await make_qr("multiproc2", "https://example.com/fresh")
            await LinkDirectory(publisher_redis, bus).publish_change(target)
            assert await _locations(client, processes, "multiproc2") == [target.destination] * 2
    finally:
        await bus.close()
        await publisher_redis.aclose()
