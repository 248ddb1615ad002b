"""Running qrmint as a user would, for the soak: `serve`, or the split shape (`api` owning the
embedded store, `redirector`, `worker`) on a throw-away Postgres database and a private Redis.

Everything lives in one temporary directory; every process is started here and stopped
here (SIGTERM, then a bounded wait). Only 127.0.0.1 is used.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.loadgen import free_port

QRMINT = str(Path(sys.executable).with_name("qrmint"))
PG_ADMIN = os.environ.get("QRMINT_SOAK_POSTGRES", "postgres://postgres@127.0.0.1:5432/test")


@dataclass
class Shape:
    name: str
    work: Path
    env: dict[str, str]
    api_port: int
    redirect_port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def redirect_url(self) -> str:
        return f"http://127.0.0.1:{self.redirect_port}"

    def start(self, role: str, *args: str) -> None:
        log = (self.work / f"{role}.log").open("ab")
        self.processes[role] = subprocess.Popen(
            [QRMINT, *args], env=self.env, stdout=log, stderr=log
        )

    def cli(self, *args: str) -> str:
        done = subprocess.run([QRMINT, *args], env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"qrmint {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def wait_healthy(self) -> None:
        for url in (self.api_url, self.redirect_url):
            deadline = time.monotonic() + 120
            while True:
                for role, process in self.processes.items():
                    if process.poll() is not None:
                        log = (self.work / f"{role}.log").read_text()[-2000:]
                        raise SystemExit(f"{role} exited:\n{log}")
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"{url} did not come up")
                time.sleep(0.2)

    def stop(self) -> None:
        # Redirectors first (their journals drain into the stream), the store's owner last.
        for role in ("redirector", "serve", "api", "worker"):
            process = self.processes.get(role)
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(120)
                except subprocess.TimeoutExpired:
                    process.kill()


@contextmanager
def serve_shape(work: Path, env: dict[str, str]) -> Iterator[Shape]:
    shape = Shape("serve", work, {**env, "QRMINT_DATA_DIR": str(work / "var")}, *_ports())
    shape.env["QRMINT_REDIRECT_BASE_URL"] = shape.redirect_url
    shape.start(
        "serve", "serve", "--api-port", str(shape.api_port),
        "--redirect-port", str(shape.redirect_port),
    )  # fmt: skip
    try:
        shape.wait_healthy()
        yield shape
    finally:
        shape.stop()


@contextmanager
def split_shape(work: Path, env: dict[str, str]) -> Iterator[Shape]:
    with _private_redis(work) as redis_url, _postgres_database() as database_url:
        shape = Shape("split", work, {
            **env, "QRMINT_DATA_DIR": str(work / "var"), "QRMINT_REDIS_URL": redis_url,
            "QRMINT_DATABASE_URL": database_url,
        }, *_ports())  # fmt: skip
        shape.env["QRMINT_REDIRECT_BASE_URL"] = shape.redirect_url
        shape.cli("migrate")
        shape.start("worker", "worker")
        shape.start("api", "api", "--port", str(shape.api_port))
        shape.start("redirector", "redirector", "--port", str(shape.redirect_port))
        try:
            shape.wait_healthy()
            yield shape
        finally:
            shape.stop()


def _ports() -> tuple[int, int]:
    return free_port(), free_port()


@contextmanager
def _private_redis(work: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("the split shape needs redis-server (apt-get install redis-server)")
    port = free_port()
    # Append-only, as production should run it: stream entries must survive a Redis restart.
    redis = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "yes", "--dir", str(work)], stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(0.5)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        redis.terminate()
        redis.wait(30)


@contextmanager
def _postgres_database() -> Iterator[str]:
    import asyncpg

    name = f"qrmint_soak_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(PG_ADMIN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
