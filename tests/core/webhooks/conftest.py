"""Fixtures for the webhook tests: a throw-away SQLite database, a fake clock and resolver,
and a real HTTPS receiver on 127.0.0.1 with a trustme certificate for `hooks.test`."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import uuid
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from tortoise.backends.base.executor import EXECUTOR_CACHE

from core.config import Settings, load_settings
from core.db import close_database, migrate_database, open_database
from core.models import Account, new_id
from core.scans import ScanBatch, ScanRow
from core.webhooks.cache import shared_cache
from core.webhooks.outbox import WebhookOutbox

HOOK_HOST = "hooks.test"
SECRET_KEY = "test-secret-key-0123456789abcdef"


def make_settings(tmp_path: Path, database_url: str | None = None, **env: str) -> Settings:
    base = {
        "QRMINT_DATA_DIR": str(tmp_path),
        "QRMINT_SECRET_KEY": SECRET_KEY,
        "QRMINT_DATABASE_URL": database_url or f"sqlite://{tmp_path / 'qrmint.sqlite3'}",
    }
    return load_settings({**base, **env}, env_file=str(tmp_path / "no.env"))


class FakeClock:
    def __init__(self) -> None:
        # Near real time, so the standardwebhooks library's 5-minute window accepts it.
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class ZeroRng:
    def random(self) -> float:
        return 0.0


class FakeResolver:
    """Maps host names to fixed answers; records every lookup."""

    def __init__(self, answers: dict[str, Sequence[str]] | None = None) -> None:
        self.answers = dict(answers or {})
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.answers:
            raise OSError(f"unknown host {host}")
        return list(self.answers[host])


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTPS server answering from `script` (status codes, or "hang"), then `default`."""

    port: int = 0
    script: deque[int | str] = field(default_factory=deque)
    default: int = 204
    requests: list[Received] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"https://{HOOK_HOST}:{self.port}/hook"

    async def wait_for_requests(self, count: int) -> None:
        while len(self.requests) < count:
            self.arrived.clear()
            await self.arrived.wait()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Received(request_line.split(" ")[1], headers, body))
            self.arrived.set()
            action = self.script.popleft() if self.script else self.default
            if action == "hang":
                await self.release.wait()
                return
            writer.write(
                f"HTTP/1.1 {action} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert(HOOK_HOST, "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    return context, ca_path


@pytest.fixture
async def receiver(tls: tuple[ssl.SSLContext, Path]) -> AsyncIterator[Receiver]:
    recv = Receiver()
    server = await asyncio.start_server(recv.handle, "127.0.0.1", 0, ssl=tls[0])
    recv.port = server.sockets[0].getsockname()[1]
    yield recv
    recv.release.set()
    server.close()
    await server.wait_closed()
    await asyncio.sleep(0.05)  # let handlers finish closing their TLS streams


@pytest.fixture
def settings(tmp_path: Path, tls: tuple[ssl.SSLContext, Path]) -> Settings:
    return make_settings(
        tmp_path,
        QRMINT_WEBHOOK_ALLOW_PRIVATE="true",
        QRMINT_WEBHOOK_CA_BUNDLE=str(tls[1]),
    )


def forget_compiled_queries() -> None:
    # Tortoise caches compiled INSERTs per connection *name*, not per dialect: after a test on
    # SQLite, a Postgres "default" connection would reuse `?` placeholders.
    EXECUTOR_CACHE.clear()


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Settings]:
    forget_compiled_queries()
    await migrate_database(settings)
    await open_database(settings)
    shared_cache.clear()
    yield settings
    shared_cache.clear()
    await close_database()


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver({HOOK_HOST: ["127.0.0.1"]})


async def new_account(tier: str = "mega") -> str:
    account = await Account.create(id=new_id("acc"), tier=tier)
    return account.id


def scan_row(account_id: str, *, is_bot: bool = False, qr_id: str = "qr_1") -> ScanRow:
    return ScanRow(
        scanned_at=datetime(2026, 11, 25, 18, 0, 0, 123000, tzinfo=UTC),
        qr_id=qr_id,
        account_id=account_id,
        short_code="abc123",
        destination="https://example.com/landing",
        visitor="v" * 16,
        is_unique=True,
        country="DE",
        city="Berlin",
        device="bot" if is_bot else "mobile",
        browser="Chrome",
        os="Android",
        referrer_host="",
        is_bot=is_bot,
    )


async def commit_scans(outbox: WebhookOutbox, rows: Sequence[ScanRow]) -> ScanBatch:
    """Commit `rows` to the outbox as the journal consumer does: one batch, fresh keys."""
    prefix = uuid.uuid4().hex
    keys = [f"{prefix}-{index}" for index in range(len(rows))]
    batch = ScanBatch(f"{prefix}-batch", list(rows), keys)
    await outbox.commit(batch)
    return batch
