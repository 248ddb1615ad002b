"""What each `qrmint` subcommand does, once its arguments are parsed and settings loaded."""

from __future__ import annotations

import argparse
import json
import sys

from redis.exceptions import RedisError

from core import accounts, timestamps
from core.accounts import KeyInfo
from core.bus import create_bus
from core.config import Settings, with_redirect_address
from core.db import close_database, migrate_database, open_database
from core.tiers import load_tiers
from core.webhooks.cache import announce_tier_change
from qrmint import processes
from qrmint.servers import listen

KEY_COLUMNS = ("ID", "ACCOUNT", "TIER", "STATE", "PREFIX", "CREATED", "NAME")


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        await migrate_all(settings)
        print("migrated")
        return 0
    if args.command == "keys":
        return await _keys(settings, args)
    if args.command == "serve":
        # Ports first: a busy one stops us before anything is opened or migrated.
        api_at = listen(args.host, args.api_port, "--api-port (make run API_PORT=...)")
        redirect_at = listen(
            args.host, args.redirect_port, "--redirect-port (make run REDIRECT_PORT=...)"
        )
        settings = with_redirect_address(settings, redirect_at.host, redirect_at.port)
        await migrate_all(settings)
        await processes.serve(settings, api_at, redirect_at)
        return 0
    if args.command == "api":
        await processes.api(settings, listen(args.host, args.port, "--port"))
        return 0
    if args.command == "redirector":
        listener = listen(args.host, args.port, "--port")
        settings = with_redirect_address(settings, listener.host, listener.port)
        await processes.redirector(settings, listener)
        return 0
    if args.command == "worker":
        metrics_at = None if args.port is None else listen(args.host, args.port, "--port")
        await processes.worker(settings, metrics_at)
        return 0
    raise AssertionError(args.command)


async def migrate_all(settings: Settings) -> None:
    await migrate_database(settings)
    await processes.migrate_analytics(settings)


async def _keys(settings: Settings, args: argparse.Namespace) -> int:
    tiers = load_tiers(settings.tiers_file)
    await migrate_database(settings)  # idempotent; lets `keys create` be the first command run
    await open_database(settings)
    try:
        if args.action == "create":
            info, raw_key = await accounts.create_account(tiers, args.tier, args.name)
            print(f"account {info.account_id} key {info.id} tier {info.tier}")
            print(raw_key)
        elif args.action == "list":
            keys = await accounts.list_keys()
            print(_keys_json(keys) if args.json else _keys_table(keys))
        elif args.action == "revoke":
            info = await accounts.revoke_key(args.id)
            print(f"revoked {info.id}")
        else:
            info = await accounts.set_tier(tiers, args.id, args.tier)
            print(f"{info.id} tier {info.tier}")
            await _announce_tier(settings, info.account_id)
    finally:
        await close_database()
    return 0


async def _announce_tier(settings: Settings, account_id: str) -> None:
    """Running processes drop what they cached about the account's webhooks. Without Redis
    there is no channel to them: they see the new tier within the cache's TTL (5 s), and
    the delivery worker checks it before every send anyway."""
    if settings.redis_url is None:
        return
    bus = create_bus(settings.redis_url)
    try:
        await announce_tier_change(bus, account_id)
    except (RedisError, OSError) as exc:
        print(f"warning: the tier is saved, but running processes were not told ({exc}); "
              "they see it within 5 seconds", file=sys.stderr)  # fmt: skip
    finally:
        await bus.close()


def _key_fields(key: KeyInfo) -> dict[str, str | None]:
    return {
        "id": key.id,
        "account_id": key.account_id,
        "tier": key.tier,
        "state": "revoked" if key.revoked_at else "active",
        "prefix": key.prefix,
        "created_at": timestamps.iso(key.created_at),
        "name": key.name,
    }


def _keys_json(keys: list[KeyInfo]) -> str:
    return json.dumps([_key_fields(key) for key in keys], ensure_ascii=False, indent=2)


def _keys_table(keys: list[KeyInfo]) -> str:
    rows = [list(KEY_COLUMNS)]
    for key in keys:
        fields = _key_fields(key)
        fields["prefix"] = f"{key.prefix}…"
        fields["created_at"] = key.created_at.strftime("%Y-%m-%d %H:%M")
        rows.append([value or "" for value in fields.values()])
    widths = [max(len(row[i]) for row in rows) for i in range(len(KEY_COLUMNS))]
    lines = (
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    )
    return "\n".join(line.rstrip() for line in lines)
