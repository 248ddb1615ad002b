"""Adding the (event_id, endpoint) constraint keeps the deliveries it finds (SQLite, Postgres)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate

from core.config import Settings, load_settings
from core.db import close_database, migrate_database, open_database, tortoise_config
from core.models import Account, ScanEndpoint, WebhookDelivery, new_id


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def settings(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: Any
) -> AsyncIterator[Settings]:
    env = {"QRMINT_DATA_DIR": str(tmp_path), "QRMINT_SECRET_KEY": "migrations-test-secret-0123"}
    if request.param == "sqlite":
        yield load_settings(env, env_file="/nonexistent")
        return
    async with postgres_database("migrations") as url:
        yield load_settings({**env, "QRMINT_DATABASE_URL": url}, env_file="/nonexistent")


async def test_the_webhook_event_constraint_is_added_over_existing_deliveries(
    settings: Settings,
) -> None:
    EXECUTOR_CACHE.clear()  # see tests/redirector/conftest.py
    await migrate(
        config=tortoise_config(settings.database_url), target="models.0002_webhook_health"
    )
    await close_database()
    await open_database(settings)
    try:
        account = await Account.create(id=new_id("acc"), tier="mega")
        endpoints = [
            await ScanEndpoint.create(
                id=new_id("end"),
                account=account,
                slot=n,
                url="https://h/",
                secret_ciphertext="x",
            )
            for n in range(2)
        ]
        now = datetime.now(UTC)
        for endpoint in endpoints:  # one event to two endpoints, as the outbox writes it
            await WebhookDelivery.create(
                event_id="evt_1", endpoint=endpoint, payload="{}", next_attempt_at=now
            )
    finally:
        await close_database()
    await migrate_database(settings)
    await open_database(settings)
    try:
        assert await WebhookDelivery.all().count() == 2
        again = WebhookDelivery(
            event_id="evt_1", endpoint_id=endpoints[0].id, payload="{}", next_attempt_at=now
        )
        await WebhookDelivery.bulk_create([again], ignore_conflicts=True)
        assert await WebhookDelivery.all().count() == 2
    finally:
        await close_database()
