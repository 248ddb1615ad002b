"""The production shape: `qrmint api`, `redirector` and `worker` as separate processes sharing
Postgres, Redis and one embedded ClickHouse owned by the API (scans travel by stream)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from tests.support import QRMINT, free_port, redis_url

REDIS_DB = 14
COUNT_ROWS = """
import sys
from analytics.store import open_scan_store
store = open_scan_store(sys.argv[1])
print(store.query("SELECT count() FROM $scans WHERE qr_id = {q:String}", {"q": sys.argv[2]})[0][0])
"""


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


@contextmanager
def _process(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen([QRMINT, *args], env=env, stdout=out, stderr=out)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up:\n{log.read_text()}")


def _run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([QRMINT, *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
async def test_api_redirector_and_worker_as_separate_processes(
    environment: dict[str, str], tmp_path: Path
) -> None:
    env, log = environment, tmp_path / "processes.log"
    api_port, redirect_port = free_port(), free_port()
    env["QRMINT_REDIRECT_BASE_URL"] = f"http://127.0.0.1:{redirect_port}"
    await asyncio.to_thread(_run, env, "migrate")
    key = (await asyncio.to_thread(_run, env, "keys", "create", "--tier", "pro")).split()[-1]
    with (
        _process(env, log, "worker") as worker,
        _process(env, log, "api", "--port", str(api_port)) as api,
        _process(env, log, "redirector", "--port", str(redirect_port)) as redirector,
    ):
        await asyncio.to_thread(_wait, f"http://127.0.0.1:{api_port}/healthz", api, log)
        await asyncio.to_thread(_wait, f"http://127.0.0.1:{redirect_port}/healthz", redirector, log)
        qr_id = await asyncio.to_thread(_journey, env, key, api_port)
        await asyncio.to_thread(_stop, [redirector, api, worker], log)
    assert await asyncio.to_thread(_stored_rows, env, qr_id) == 5


def _stop(processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    for process in processes:  # each flushes what it holds, then stops
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log.read_text()


def _stored_rows(env: dict[str, str], qr_id: str) -> int:
    counted = subprocess.run(
        [sys.executable, "-c", COUNT_ROWS, env["QRMINT_CLICKHOUSE_URL"], qr_id],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return int(counted.stdout)


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
