"""The production shape: `qrmint api`, `redirector` and `worker` as separate processes sharing
Postgres, Redis and one embedded ClickHouse owned by the API (scans travel by stream)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from tests.support import Burst, free_port, redis_url

from .processes import process, run_cli, stop_all, stored_by_referer, total_scans, wait_healthy

REDIS_DB = 14


@pytest.fixture
async def environment(
    tmp_path: Path, postgres_database: Callable[[str], AbstractAsyncContextManager[str]]
) -> AsyncIterator[dict[str, str]]:
    client = redis.Redis.from_url(redis_url(REDIS_DB))
    client.flushdb()
    async with postgres_database("split") as url:
        yield {
            **os.environ,
            "QRMINT_DATA_DIR": str(tmp_path / "var"),
            "QRMINT_DATABASE_URL": url,
            "QRMINT_REDIS_URL": redis_url(REDIS_DB),
            "QRMINT_CLICKHOUSE_URL": f"chdb://{tmp_path / 'analytics'}",
            "QRMINT_SECRET_KEY": "split-test-secret-0123456789",
        }
    client.flushdb()
    client.close()


@dataclass
class Split:
    api_port: int
    redirect_port: int
    key: str  # of a pro account
    processes: list[subprocess.Popen[bytes]]


@asynccontextmanager
async def _split(env: dict[str, str], log: Path) -> AsyncIterator[Split]:
    """`worker`, `api` and `redirector` running; stopped (each flushing) by the caller."""
    api_port, redirect_port = free_port(), free_port()
    env["QRMINT_REDIRECT_BASE_URL"] = f"http://127.0.0.1:{redirect_port}"
    await asyncio.to_thread(run_cli, env, "migrate")
    key = (await asyncio.to_thread(run_cli, env, "keys", "create", "--tier", "pro")).split()[-1]
    with (
        process(env, log, "worker") as worker,
        process(env, log, "api", "--port", str(api_port)) as api,
        process(env, log, "redirector", "--port", str(redirect_port)) as redirector,
    ):
        for port, started in ((api_port, api), (redirect_port, redirector)):
            await asyncio.to_thread(wait_healthy, f"http://127.0.0.1:{port}/healthz", started, log)
        yield Split(api_port, redirect_port, key, [redirector, api, worker])


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
async def test_api_redirector_and_worker_as_separate_processes(
    environment: dict[str, str], tmp_path: Path
) -> None:
    env, log = environment, tmp_path / "processes.log"
    async with _split(env, log) as split:
        qr_id = await asyncio.to_thread(_journey, env, split.key, split.api_port)
        await asyncio.to_thread(stop_all, split.processes, log)
    assert sum((await asyncio.to_thread(stored_by_referer, env, qr_id)).values()) == 5


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
async def test_a_burst_beyond_every_in_memory_bound_is_counted_whole(
    environment: dict[str, str], tmp_path: Path
) -> None:
    """More redirects than the consumer's batch and the old 10,000-scan queue, as fast as
    this client can send them: every one is stored once, none dropped."""
    env, log = environment, tmp_path / "processes.log"
    async with _split(env, log) as split:
        headers = {"Authorization": f"Bearer {split.key}"}
        base = f"http://127.0.0.1:{split.api_port}"
        with httpx.Client(base_url=base, headers=headers) as client:
            qr_id, code = await asyncio.to_thread(_dynamic_qr, client)
            seen = await Burst("127.0.0.1", split.redirect_port, code).run(range(12_000), 32)
            assert len(seen) == 12_000
            total = await asyncio.to_thread(total_scans, client, qr_id, len(seen), 180)
        assert total == 12_000
        await asyncio.to_thread(stop_all, split.processes, log)
    stored = await asyncio.to_thread(stored_by_referer, env, qr_id)
    assert len(stored) == 12_000
    assert set(stored.values()) == {1}
    assert "dropped" not in log.read_text()


def _dynamic_qr(client: httpx.Client) -> tuple[str, str]:
    created = client.post("/qr/generate", json={"type": "dynamic", "data": "https://e.x/"})
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["short_code"]


def _journey(env: dict[str, str], key: str, api_port: int) -> str:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", headers=headers) as api:
        created = api.post("/qr/generate", json={"type": "dynamic", "data": "https://a.example/"})
        assert created.status_code == 201, created.text
        body = created.json()
        with httpx.Client() as phone:
            for _ in range(4):
                assert phone.get(body["short_url"]).headers["location"] == "https://a.example/"
            moved = api.patch(f"/qr/{body['id']}/destination", json={"url": "https://b.example/"})
            assert moved.status_code == 200
            # The redirector learns of it through Redis before the PATCH returns.
            assert phone.get(body["short_url"]).headers["location"] == "https://b.example/"
        qr_id: str = body["id"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # stats come from the API, which owns the store
            stats = api.get(f"/qr/{qr_id}/stats").json()
            if stats["total_scans"] == 5:
                break
            time.sleep(0.3)
        assert stats["total_scans"] == 5
        return qr_id
