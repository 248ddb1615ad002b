"""Relational store wiring: the Tortoise config, start-up/shut-down and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as run_migrations

from core.config import Settings

MODELS = "core.models"
MIGRATIONS = "core.migrations"


def tortoise_config(database_url: str) -> dict[str, Any]:
    # Tortoise caches compiled SQL per connection name; naming the connection after its
    # dialect keeps a process that opens SQLite and later Postgres (tests) from mixing them.
    name = "sqlite" if database_url.startswith("sqlite") else "postgres"
    return {
        "connections": {name: _connection(database_url)},
        "apps": {
            "models": {
                "models": [MODELS],
                "migrations": MIGRATIONS,
                "default_connection": name,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection(url: str) -> str | dict[str, Any]:
    if url.startswith("sqlite://"):
        path = Path(urlsplit(url).path if url.startswith("sqlite:///") else url[len("sqlite://") :])
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        # WAL lets the redirector read while the API writes; busy_timeout rides out short locks.
        return {
            "engine": "tortoise.backends.sqlite",
            "credentials": {
                "file_path": str(path),
                "journal_mode": "WAL",
                "journal_size_limit": 16384,
            },
        }
    return url.replace("postgresql://", "postgres://", 1)


async def open_database(settings: Settings) -> None:
    await Tortoise.init(config=tortoise_config(settings.database_url))


async def ping_database() -> None:
    """One round trip on every open connection (readiness); raises when one fails."""
    for connection in connections.all():
        await connection.execute_query("SELECT 1")


async def close_database() -> None:
    await Tortoise.close_connections()


async def migrate_database(settings: Settings) -> None:
    """Create or upgrade the schema; applied migrations are recorded, so this is idempotent."""
    await run_migrations(config=tortoise_config(settings.database_url))
    await Tortoise.close_connections()
