"""Fixtures for the analytics tests: one real embedded store for the whole session.

chdb opens one path per process, so every test shares the store and keeps to its own
qr ids (`qr_id` fixture). A real Redis (tests.support.redis_url, database 11) serves the stream
tests; it is flushed before each of them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from analytics.store import ScanStore, open_scan_store
from core.scans import ScanRow
from tests.support import redis_url, write_test_geoip

REDIS_URL = redis_url(11)


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb") / "analytics"


@pytest.fixture(scope="session")
def store(store_path: Path) -> Iterator[ScanStore]:
    opened = open_scan_store(f"chdb://{store_path}")
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture
def qr_id() -> str:
    return f"qr-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture(scope="session")
def geoip_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_geoip(tmp_path_factory.mktemp("geo") / "city.mmdb")


def _make_row(qr_id: str, scanned_at: datetime | None = None, **overrides: Any) -> ScanRow:
    values: dict[str, Any] = {
        "scanned_at": scanned_at or datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        "qr_id": qr_id,
        "account_id": "acct-1",
        "short_code": "abc123",
        "destination": "https://example.com/",
        "visitor": "v-1",
        "is_unique": False,
        "country": "DE",
        "city": "Berlin",
        "device": "mobile",
        "browser": "Chrome",
        "os": "Android",
        "referrer_host": "",
        "is_bot": False,
    }
    values.update(overrides)
    return ScanRow(**values)


def _count_scans(store: ScanStore, qr_id: str) -> int:
    rows = store.query("SELECT count() FROM $scans WHERE qr_id = {q:String}", {"q": qr_id})
    return int(rows[0][0])


RowFactory = Callable[..., ScanRow]


@pytest.fixture
def make_row() -> RowFactory:
    """make_row(qr_id, scanned_at=None, **fields) -> ScanRow with plausible defaults."""
    return _make_row


@pytest.fixture
def count_scans(store: ScanStore) -> Callable[[str], int]:
    """Rows stored for a qr id, bots included."""
    return lambda qr_id: _count_scans(store, qr_id)
