"""The `qrmint` command as a user runs it: a real subprocess, one-line errors, exit 2."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from core.bus import create_bus
from core.webhooks.cache import TIER_CHANNEL
from tests.support import QRMINT, redis_url


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "QRMINT_DATA_DIR": str(tmp_path / "var"),
        "QRMINT_SECRET_KEY": "cli-test-secret-0123456789",
        **env,
    }
    return subprocess.run(
        [QRMINT, *args], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120
    )


def test_keys_lifecycle(tmp_path: Path) -> None:
    created = _run(tmp_path, "keys", "create", "--tier", "pro", "--name", "Café")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("qm_")
    assert len(key) > 40
    listed = _run(tmp_path, "keys", "list")
    assert listed.returncode == 0
    row = listed.stdout.strip().splitlines()[-1].split("\t")
    key_id = row[0]
    assert row[2:4] == ["pro", "active"]
    assert key not in listed.stdout  # only a prefix is ever shown again
    assert _run(tmp_path, "keys", "set-tier", key_id, "mega").returncode == 0
    assert _run(tmp_path, "keys", "revoke", key_id).returncode == 0
    row = _run(tmp_path, "keys", "list").stdout.strip().splitlines()[-1].split("\t")
    assert row[2:4] == ["mega", "revoked"]


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        result = _run(tmp_path, "migrate")
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("keys", "create", "--tier", "gold"),
        ("keys", "revoke"),
        ("frobnicate",),
        ("serve", "--api-port", "eighty"),
        ("keys", "set-tier", "key_nope", "pro"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = _run(tmp_path, *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_bad_configuration_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    result = _run(tmp_path, "keys", "list", QRMINT_DATABASE_URL="mysql://nope")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "QRMINT_DATABASE_URL" in result.stderr


@pytest.mark.redis
async def test_set_tier_tells_running_processes_over_redis(tmp_path: Path) -> None:
    redis = redis_url(7)
    created = _run(tmp_path, "keys", "create", "--tier", "mega", QRMINT_REDIS_URL=redis)
    account_id = created.stdout.split()[1]
    key_id = created.stdout.split()[3]
    bus = create_bus(redis)
    try:
        async with bus.subscribe(TIER_CHANNEL) as events:
            changed = await asyncio.to_thread(
                _run, tmp_path, "keys", "set-tier", key_id, "pro", QRMINT_REDIS_URL=redis
            )
            assert changed.returncode == 0, changed.stderr
            event = await asyncio.wait_for(anext(aiter(events)), 10)
    finally:
        await bus.close()
    assert event == {"account_id": account_id}


def test_set_tier_without_reachable_redis_still_saves(tmp_path: Path) -> None:
    created = _run(tmp_path, "keys", "create", "--tier", "mega")
    key_id = created.stdout.split()[3]
    changed = _run(
        tmp_path, "keys", "set-tier", key_id, "pro", QRMINT_REDIS_URL="redis://127.0.0.1:1"
    )
    assert changed.returncode == 0
    assert "were not told" in changed.stderr
    assert "Traceback" not in changed.stderr
