"""The relational upgrade to 0004 (links): today's rows survive, codes become unique per domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.exceptions import IntegrityError
from tortoise.migrations.api import migrate

from core.config import load_settings
from core.db import close_database, migrate_database, open_database, tortoise_config
from core.models import Account, Domain, QrCode, new_id

_OLD_QR = """
INSERT INTO qr_codes (id, account_id, type, data, short_code, destination, format, size, margin,
                      error_correction, style, name, created_at, updated_at)
VALUES ({marks})
"""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: Any
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'upgrade.sqlite3'}"
        return
    async with postgres_database("upgrade") as url:
        yield url


async def _at_0001_with_rows(url: str) -> None:
    """The schema as the first wave shipped it, with an account and a dynamic code in it."""
    config = tortoise_config(url)
    await migrate(config=config, target="models.0003_webhook_event_unique")
    connection = Tortoise.get_connection(next(iter(config["connections"])))
    postgres = url.startswith("postgres")
    marks = ", ".join(f"${n}" if postgres else "?" for n in range(1, 15))
    await connection.execute_query(
        "INSERT INTO accounts (id, name, tier, dynamic_qr_count, created_at) "
        + ("VALUES ($1, $2, $3, $4, now())" if postgres else "VALUES (?, ?, ?, ?, datetime())"),
        ["acc_00000000000000000001", "old", "pro", 1],
    )
    stamp = "2026-01-02 03:04:05+00:00"
    await connection.execute_query(
        _OLD_QR.format(marks=marks),
        ["qr_00000000000000000001", "acc_00000000000000000001", "dynamic",
         "http://127.0.0.1:8080/OldCode1", "OldCode1", "https://old.example/", "png", 512, 4,
         "M", "{}", "kept", stamp if not postgres else _dt(stamp),
         stamp if not postgres else _dt(stamp)],
    )  # fmt: skip
    await Tortoise.close_connections()


def _dt(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


async def test_upgrade_keeps_rows_and_makes_codes_unique_per_domain(
    database_url: str, tmp_path: Path
) -> None:
    settings = load_settings(
        {"QRMINT_DATA_DIR": str(tmp_path), "QRMINT_DATABASE_URL": database_url},
        env_file="/nonexistent",
    )
    await _at_0001_with_rows(database_url)
    await migrate_database(settings)
    await migrate_database(settings)  # idempotent
    EXECUTOR_CACHE.clear()
    await open_database(settings)
    try:
        old = await QrCode.get(id="qr_00000000000000000001")
        assert (old.short_code, old.destination, old.name) == (
            "OldCode1",
            "https://old.example/",
            "kept",
        )
        assert (old.domain, old.paused, old.deleted_at, old.rules, old.max_scans) == (
            "",
            False,
            None,
            None,
            None,
        )
        account = await Account.get(id="acc_00000000000000000001")
        assert account.dynamic_qr_count == 1
        await Domain.create(
            id=new_id("dom"), account=account, slot=0, hostname="go.brand.example",
            verified_hostname="go.brand.example", token="t" * 32,
        )  # fmt: skip
        fields: dict[str, Any] = {
            "account": account, "type": "dynamic", "data": "x", "destination": "https://n.example/",
            "format": "png", "size": 512, "margin": 4, "error_correction": "M",
        }  # fmt: skip
        # The same code on another domain is a different link ...
        await QrCode.create(
            id=new_id("qr"), short_code="OldCode1", domain="go.brand.example", **fields
        )
        # ... but never twice on one domain.
        with pytest.raises(IntegrityError):
            await QrCode.create(id=new_id("qr"), short_code="OldCode1", domain="", **fields)
    finally:
        await close_database()
