"""The API application with /graphql over a real SQLite database, driven through httpx.

Scan counts come from a small in-test StatsProvider: the embedded ClickHouse can be opened
only once per process, and the GraphQL layer only translates what the provider returns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from analytics.service import StatsReport
from analytics.stats import QrStats
from api.app import create_api_app
from core import accounts
from core.accounts import Principal
from core.bus import LocalBus
from core.config import Settings, load_settings
from core.db import close_database, migrate_database, open_database
from core.errors import NotInTier
from core.qrcodes import QrService
from core.ratelimit import LocalRateLimiter
from core.services import Services
from core.tiers import load_tiers
from core.windows import Window
from schema.app import graphql_routes
from tests.support import RecordingLinks

SECRET = "test-secret-key-0123456789abcdef"
LAST_SCAN = datetime(2026, 11, 20, 12, 0, 0, 123000, tzinfo=UTC)


@dataclass(frozen=True)
class Counts:
    total_scans: int
    unique_scans: int
    last_scan_at: datetime | None


FIXED_STATS = QrStats(
    total_scans=12,
    unique_scans=5,
    repeat_scans=7,
    by_day=((date(2026, 11, 20), 12, 5),),
    by_country=(("DE", 7), ("unknown", 5)),
    by_city=(("Berlin", "DE", 7),),
    by_device=(("mobile", 12),),
    by_browser=(("Chrome", 12),),
    by_os=(("Android", 12),),
)


@dataclass
class FixedStats:
    """Ownership through the QR service, the tier rule, and fixed numbers."""

    qr: QrService
    counts_value: Counts = Counts(3, 2, LAST_SCAN)

    async def stats(
        self,
        principal: Principal,
        qr_id: str,
        start: date | None,
        end: date | None,
        tz: str | None = None,
    ) -> StatsReport:
        await self._check(principal, qr_id)
        days = principal.tier.retention_days
        window = Window(start or date(2026, 10, 27), end or date(2026, 11, 25), days)
        return StatsReport(qr_id, window, FIXED_STATS, tz or "UTC")

    async def counts(self, principal: Principal, qr_id: str) -> Counts:
        await self._check(principal, qr_id)
        return self.counts_value

    async def _check(self, principal: Principal, qr_id: str) -> None:
        await self.qr.get(principal, qr_id)
        if not principal.tier.has_analytics:
            raise NotInTier("No analytics in this tier.", code="analytics_not_in_tier")


@dataclass
class Gql:
    client: httpx.AsyncClient
    services: Services
    links: RecordingLinks
    app: Starlette

    async def key(self, tier: str = "pro") -> str:
        _, raw = await accounts.create_account(self.services.tiers, tier, f"test {tier}")
        return raw

    async def run(
        self, query: str, variables: dict[str, Any] | None = None, *, key: str | None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        body = {"query": query, "variables": variables or {}}
        response = await self.client.post("/graphql", json=body, headers=headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def rest(self, path: str, body: Any, key: str) -> httpx.Response:
        return await self.client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})


def error_of(result: dict[str, Any]) -> dict[str, Any]:
    """The single error of a refused operation, with its extensions."""
    assert result.get("errors"), result
    assert len(result["errors"]) == 1, result["errors"]
    error: dict[str, Any] = result["errors"][0]
    return error


def build_services(settings: Settings, links: RecordingLinks, **changes: Any) -> Services:
    qr = QrService(settings, links)
    values: dict[str, Any] = {
        "settings": settings,
        "tiers": load_tiers(),
        "qr": qr,
        "limiter": LocalRateLimiter(),
        "bus": LocalBus(),
        "stats": FixedStats(qr),
    }
    return Services(**{**values, **changes})


def settings_in(data_dir: Path) -> Settings:
    env = {
        "QRMINT_DATA_DIR": str(data_dir),
        "QRMINT_SECRET_KEY": SECRET,
        "QRMINT_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    return load_settings(env, env_file="/nonexistent")


@pytest.fixture(scope="module")
async def gql(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gql]:
    settings = settings_in(tmp_path_factory.mktemp("graphql"))
    await migrate_database(settings)
    await open_database(settings)
    links = RecordingLinks()
    services = build_services(settings, links)
    app = create_api_app(services, extra_routes=graphql_routes(services))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield Gql(client, services, links, app)
    await close_database()
