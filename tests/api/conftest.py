"""An API app over a real database (SQLite and Postgres), driven in-process through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_api_app
from core import accounts
from core.bus import LocalBus
from core.config import Settings, load_settings
from core.db import close_database, migrate_database, open_database
from core.qrcodes import QrService
from core.ratelimit import LocalRateLimiter
from core.services import Services
from core.tiers import load_tiers
from tests.support import RecordingLinks

SECRET = "test-secret-key-0123456789abcdef"


@dataclass
class Api:
    client: httpx.AsyncClient
    services: Services
    links: RecordingLinks

    async def key(self, tier: str = "pro") -> dict[str, str]:
        _, raw = await accounts.create_account(self.services.tiers, tier, f"test {tier}")
        return {"Authorization": f"Bearer {raw}"}

    async def post(self, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post(path, json=body, headers=headers)


def _settings(data_dir: Path, database_url: str | None) -> Settings:
    env = {"QRMINT_DATA_DIR": str(data_dir), "QRMINT_SECRET_KEY": SECRET}
    if database_url:
        env["QRMINT_DATABASE_URL"] = database_url
    return load_settings(env, env_file="/nonexistent")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def database_url(
    request: pytest.FixtureRequest, postgres_database: Any
) -> AsyncIterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    async with postgres_database("api") as url:
        yield url


@pytest.fixture(scope="module")
async def api(
    database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    settings = _settings(tmp_path_factory.mktemp("api"), database_url)
    await migrate_database(settings)
    await open_database(settings)
    links = RecordingLinks()
    services = Services(
        settings=settings,
        tiers=load_tiers(),
        qr=QrService(settings, links),
        limiter=LocalRateLimiter(),
        bus=LocalBus(),
    )
    transport = httpx.ASGITransport(app=create_api_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield Api(client, services, links)
    await close_database()
