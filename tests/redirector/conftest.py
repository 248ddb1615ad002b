"""Redirector fixtures: a migrated SQLite database, Redis DB 12, real uvicorn servers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import uvicorn
from tortoise.backends.base.executor import EXECUTOR_CACHE

from core.config import Settings, load_settings
from core.db import close_database, migrate_database, open_database
from core.links import LinkTarget, version_of
from core.models import Account, QrCode, new_id
from tests.support import redis_url, set_destination

SECRET = "redirector-test-secret-0123456789"
REDIS_URL = redis_url(12)


def make_settings(data_dir: Path, **env: str) -> Settings:
    values = {"QRMINT_DATA_DIR": str(data_dir), "QRMINT_SECRET_KEY": SECRET}
    values.update({f"QRMINT_{name.upper()}": value for name, value in env.items()})
    return load_settings(values, env_file="/nonexistent")


@pytest.fixture
async def db_settings(tmp_path: Path) -> AsyncIterator[Settings]:
    """Settings over a fresh, migrated SQLite database that is open for the test."""
    settings = make_settings(tmp_path)
    await migrate_database(settings)
    # Tortoise caches insert SQL per connection name, across backends: a Postgres test after a
    # SQLite one would otherwise reuse SQLite's placeholders.
    EXECUTOR_CACHE.clear()
    await open_database(settings)
    try:
        yield settings
    finally:
        await close_database()


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL, decode_responses=True)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


async def create_dynamic_qr(code: str, destination: str) -> LinkTarget:
    account = await Account.create(id=new_id("acc"), tier="pro")
    qr = await QrCode.create(
        id=new_id("qr"),
        account=account,
        type="dynamic",
        data=f"http://127.0.0.1:8080/{code}",
        short_code=code,
        destination=destination,
        format="png",
        size=512,
        margin=4,
        error_correction="M",
    )
    return LinkTarget(qr.id, account.id, code, destination, version_of(qr.updated_at))


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class _QuietServer(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Signal handlers belong to pytest, not to a server living inside a test.
        yield


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Run `app` under a real uvicorn server on a free port; yield its base URL."""
    sock = free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        ws="none",
        access_log=False,
        proxy_headers=False,
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
def server() -> Callable[[Any], AbstractAsyncContextManager[str]]:
    """`async with server(app) as base_url:` the app behind a real uvicorn."""
    return serve


@pytest.fixture
def make_qr() -> Callable[[str, str], Awaitable[LinkTarget]]:
    """`await make_qr(code, destination)`: a dynamic QR row (and its account)."""
    return create_dynamic_qr


@pytest.fixture
def change_destination() -> Callable[[LinkTarget, str], Awaitable[LinkTarget]]:
    """`await change_destination(target, url)`: the row updated, the new target returned."""
    return set_destination
