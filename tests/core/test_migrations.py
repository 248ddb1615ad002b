"""Upgrading a database created at 0001_initial, with an endpoint in it, keeps the row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate

from core.config import load_settings
from core.db import close_database, migrate_database, open_database, tortoise_config
from core.models import ScanEndpoint
from tests.core.webhooks.conftest import forget_compiled_queries


async def _upgrade_keeps_endpoints(database_url: str) -> None:
    forget_compiled_queries()
    config = tortoise_config(database_url)
    await migrate(config=config, target="models.0001_initial")
    connection = get_connection(next(iter(config["connections"])))
    for sql in (
        "INSERT INTO accounts (id, tier, dynamic_qr_count, created_at) "
        "VALUES ('acc_old', 'mega', 0, CURRENT_TIMESTAMP)",
        "INSERT INTO scan_endpoints (id, account_id, slot, url, secret_ciphertext, "
        "consecutive_failures, created_at) VALUES ('wep_old', 'acc_old', 0, "
        "'https://hooks.example/x', 'cipher', 3, CURRENT_TIMESTAMP)",
    ):
        await connection.execute_script(sql)
    await Tortoise.close_connections()
    settings = load_settings(
        {
            "QRMINT_DATABASE_URL": database_url,
            "QRMINT_DATA_DIR": "/tmp",
            "QRMINT_SECRET_KEY": "x" * 20,
        },
        env_file="/nonexistent",
    )
    await migrate_database(settings)
    await open_database(settings)
    try:
        endpoint = await ScanEndpoint.get(id="wep_old")
        assert (endpoint.url, endpoint.consecutive_failures) == ("https://hooks.example/x", 3)
        assert (endpoint.failing_since, endpoint.disabled_reason) == (None, None)
    finally:
        await close_database()


async def test_upgrade_on_sqlite(tmp_path: Path) -> None:
    await _upgrade_keeps_endpoints(f"sqlite://{tmp_path / 'old.sqlite3'}")


@pytest.mark.postgres
async def test_upgrade_on_postgres(postgres_database: Any) -> None:
    async with postgres_database("migrate") as url:
        await _upgrade_keeps_endpoints(url)
