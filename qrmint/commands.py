"""What each `qrmint` subcommand does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import sys

from redis.exceptions import RedisError

from core import accounts
from core.bus import create_bus
from core.config import Settings, load_settings
from core.db import close_database, migrate_database, open_database
from core.tiers import load_tiers
from core.webhooks.cache import announce_tier_change
from qrmint import processes


async def dispatch(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.command == "migrate":
        await migrate_all(settings)
        print("migrated")
        return 0
    if args.command == "keys":
        return await _keys(settings, args)
    if args.command == "serve":
        await migrate_all(settings)
        await processes.serve(settings, args.host, args.api_port, args.redirect_port)
        return 0
    if args.command == "api":
        await processes.api(settings, args.host, args.port)
        return 0
    if args.command == "redirector":
        await processes.redirector(settings, args.host, args.port)
        return 0
    if args.command == "worker":
        await processes.worker(settings)
        return 0
    raise AssertionError(args.command)


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
            for key in await accounts.list_keys():
                state = "revoked" if key.revoked_at else "active"
                fields = (key.id, key.account_id, key.tier, state, key.prefix + "…", key.name or "")
                print("\t".join(fields))
        elif args.action == "revoke":
            info = await accounts.revoke_key(args.id)
            print(f"revoked {info.id}")
        else:
            info = await accounts.set_tier(tiers, args.id, args.tier)
            await _announce_tier(settings, info.account_id)
            print(f"{info.id} tier {info.tier}")
    finally:
        await close_database()
    return 0
