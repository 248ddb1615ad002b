"""The `qrmint` command as a user runs it: a real subprocess, one-line errors, exit 2."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from core.bus import create_bus
from core.webhooks.cache import TIER_CHANNEL
from qrmint.cli import build_parser
from tests.support import QRMINT, free_port, redis_url


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
    header, row = listed.stdout.strip().splitlines()
    assert header.split() == ["ID", "ACCOUNT", "TIER", "STATE", "PREFIX", "CREATED", "NAME"]
    assert row.split()[2:4] == ["pro", "active"]
    assert row.endswith("Café")
    assert key not in listed.stdout  # only a prefix is ever shown again
    (entry,) = _keys(tmp_path)
    assert key.startswith(entry["prefix"])
    assert (entry["tier"], entry["state"], entry["name"]) == ("pro", "active", "Café")
    assert _run(tmp_path, "keys", "set-tier", entry["id"], "mega").returncode == 0
    assert _run(tmp_path, "keys", "revoke", entry["id"]).returncode == 0
    (entry,) = _keys(tmp_path)
    assert (entry["tier"], entry["state"]) == ("mega", "revoked")


def _keys(tmp_path: Path) -> list[dict[str, str]]:
    listed = _run(tmp_path, "keys", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    keys: list[dict[str, str]] = json.loads(listed.stdout)
    return keys


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


def test_version(tmp_path: Path) -> None:
    result = _run(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"qrmint {version('qrmint')}"


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


def test_every_command_and_option_says_what_it_does() -> None:
    for parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(choice.help for choice in action._choices_actions), parser.prog
            else:
                assert action.help, f"{parser.prog} {action.dest} has no help text"


def test_help_shows_the_defaults(tmp_path: Path) -> None:
    shown = " ".join(_run(tmp_path, "serve", "--help").stdout.split())
    assert "port of the short links (default: 8080)" in shown
    assert "(default: 127.0.0.1)" in shown


def test_a_busy_port_names_the_option_to_change(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = str(busy.getsockname()[1])
        result = _run(tmp_path, "serve", "--api-port", port, "--redirect-port", str(free_port()))
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1, result.stderr
        assert f"port {port} is already in use" in result.stderr
        assert "--api-port" in result.stderr
        assert "API_PORT" in result.stderr  # the `make run` variable
        result = _run(tmp_path, "redirector", "--port", port)
        assert result.returncode == 2
        assert "--port" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("QRMINT_LOG_FORMAT", "xml"), ("QRMINT_LOG_LEVEL", "loud"), ("QRMINT_CORS_ORIGINS", "*.x")],
)
def test_bad_operations_settings_stop_start_up(tmp_path: Path, name: str, value: str) -> None:
    result = _run(tmp_path, "serve", "--api-port", "0", "--redirect-port", "0", **{name: value})
    assert result.returncode == 2
    assert result.stderr.startswith(f"qrmint serve: error: {name}:")
    assert result.stderr.count("\n") == 1
