"""The link directory: short code (on a domain) -> the cached link entry.

Shared by the redirector (which resolves) and the API (which publishes changes). A link is
known by its cache key, "CODE" on the base domain or "host/CODE" on a custom one; a
verified custom domain by "@host" (see `core.link_entry`). Every change to a link (its
destination or any option, a soft delete) goes through `publish_change`; domains through
`publish_domain`.

Ordering that makes "the next scan sees the update" hold:

* The API commits the new destination to the database, then calls `publish_change`,
  which overwrites the Redis entry and, once Redis has acknowledged that, announces
  the code on the bus "links" channel: nobody can see the announcement before the
  new value.
* A reader that misses Redis reads the database and fills Redis with SET NX: if it
  read before the commit and writes after the update's SET, its NX write fails, so a
  slow reader can never put an older destination over a newer one.
* Process-local caches (see `redirector.resolver`) drop the code when the
  announcement arrives; their next lookup comes here and finds the new value.
* "When the announcement arrives" must come before the next scan, and across
  processes a scan sent right after the update can overtake a pub/sub message. So
  with Redis, `publish_change` also sends the code on a sync channel that only
  redirectors follow, learns from PUBLISH how many of them received it, and returns
  only once each has acknowledged (after dropping the code) or `ack_timeout` passed
  (logged: a redirector that stalls that long is not keeping up anyway).

`publish_change` raising means the change may not be visible yet: callers should
report the update as failed (or retry it), never swallow the error.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.bus import EventBus
from core.link_entry import (
    PLAIN,
    DomainEntry,
    LinkOptions,
    LinkTarget,
    decode_target,
    encode_target,
    split_key,
    version_of,
)
from core.models import Domain, QrCode, ScanCounter

__all__ = [
    "DomainEntry",
    "LinkDirectory",
    "LinkTarget",
    "decode_target",
    "domain_key",
    "encode_target",
    "entry_of",
    "link_from_database",
    "link_key",
    "version_of",
]

LINKS_CHANNEL = "links"
SYNC_CHANNEL = "qrmint:links:sync"  # raw Redis channel: {"short_code", "ack": ack-list key}
ACK_PREFIX = "qrmint:links:ack:"
KEY_PREFIX = "qrmint:link:"
# Bounds both memory and the life of an entry that a failed publish left behind.
KEY_TTL_SECONDS = 3600

log = logging.getLogger(__name__)


# Write the entry unless Redis already holds a newer version of it.
_PUBLISH = """
local current = redis.call('GET', KEYS[1])
if current then
  local ok, entry = pcall(cjson.decode, current)
  if ok and entry['v'] and tonumber(entry['v']) > tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


def link_key(key: str) -> str:
    """The Redis key of a link's entry; `key` is `link_entry.cache_key(domain, code)`."""
    return KEY_PREFIX + key


def domain_key(hostname: str) -> str:
    """The cache key under which a redirector remembers a custom domain ("@host")."""
    return "@" + hostname


class LinkDirectory:
    def __init__(
        self, redis: aioredis.Redis | None, bus: EventBus, *, ack_timeout: float = 1.0
    ) -> None:
        self._redis = redis
        self._bus = bus
        self._ack_timeout = ack_timeout

    async def lookup(self, key: str) -> LinkTarget | DomainEntry | None:
        """A link by cache key ("CODE" or "host/CODE"), or a verified domain by "@host"."""
        if key.startswith("@"):
            # Domains change rarely and are few: the process caches them, Redis need not.
            return await _domain_from_database(key[1:])
        if self._redis is None:
            return await link_from_database(key)
        try:
            cached = await self._redis.get(link_key(key))
        except RedisError as exc:
            # Redis down must not take the redirect domain down: the database still answers.
            log.warning("link lookup: redis unavailable, reading the database (%s)", exc)
            return await link_from_database(key)
        if cached is not None:
            found = decode_target(cached)
            if found is not None:
                return found
        target = await link_from_database(key)
        if target is not None:
            await self._fill(target)
        return target

    async def publish_change(self, target: LinkTarget) -> None:
        """Call after the change (or a new dynamic QR) is committed."""
        if self._redis is not None:
            await self._redis.eval(
                _PUBLISH,
                1,
                link_key(target.key),
                encode_target(target),
                target.version,
                KEY_TTL_SECONDS,
            )
        await self._announce(target.key)

    async def publish_domain(self, hostname: str, *, stale_links: Sequence[str] = ()) -> None:
        """Call after a domain was verified or deleted; `stale_links` are cache keys of links
        on it whose Redis entries must go (a deleted domain's host answers 404 now)."""
        if self._redis is not None and stale_links:
            await self._redis.delete(*[link_key(key) for key in stale_links])
        await self._announce(domain_key(hostname))

    async def _announce(self, key: str) -> None:
        # The field keeps its first-wave name; it carries the cache key.
        await self._bus.publish(LINKS_CHANNEL, {"short_code": key})
        if self._redis is not None:
            await self._sync(key)

    async def _sync(self, key: str) -> None:
        """Return once every redirector following the sync channel has dropped the key."""
        assert self._redis is not None
        ack_key = ACK_PREFIX + secrets.token_hex(8)
        message = json.dumps({"short_code": key, "ack": ack_key})
        receivers = int(await self._redis.publish(SYNC_CHANNEL, message))
        deadline = time.monotonic() + self._ack_timeout
        try:
            for acknowledged in range(receivers):
                remaining = deadline - time.monotonic()
                # BLPOP's timeout 0 would mean forever: never pass less than a millisecond.
                if remaining <= 0 or not await self._redis.blpop(
                    [ack_key], timeout=max(remaining, 0.001)
                ):
                    log.warning(
                        "link change %s: %d of %d redirectors acknowledged in time",
                        key, acknowledged, receivers,
                    )  # fmt: skip
                    return
        finally:
            await self._redis.delete(ack_key)

    async def _fill(self, target: LinkTarget) -> None:
        assert self._redis is not None
        try:
            # NX: an update's SET that landed after our database read must win.
            await self._redis.set(
                link_key(target.key), encode_target(target), nx=True, ex=KEY_TTL_SECONDS
            )
        except RedisError as exc:
            log.warning("link lookup: could not fill redis (%s)", exc)


LINK_COLUMNS = (
    "id", "account_id", "short_code", "destination", "updated_at", "domain", "paused",
    "expires_at", "max_scans", "password_hash", "forward_query", "utm", "rules", "split",
    "deleted_at",
)  # fmt: skip


async def link_from_database(key: str) -> LinkTarget | None:
    domain, code = split_key(key)
    row: dict[str, Any] | None = (
        await QrCode.filter(domain=domain, short_code=code, type="dynamic")
        .first()
        .values(*LINK_COLUMNS)
    )
    if row is None or not row["destination"]:
        return None
    return await entry_of(row)


async def entry_of(row: dict[str, Any]) -> LinkTarget:
    """The cached entry of a stored dynamic QR (LINK_COLUMNS), its scan count included."""
    return target_of(row, await _taken(row))


def target_of(row: dict[str, Any], taken: int = 0) -> LinkTarget:
    """The entry of a stored dynamic QR (a `values()` dict or a model's fields)."""
    return LinkTarget(
        qr_id=row["id"],
        account_id=row["account_id"],
        short_code=row["short_code"],
        destination=row["destination"],
        version=version_of(row["updated_at"]),
        domain=row["domain"] or "",
        options=options_of(row),
        taken=taken,
    )


def options_of(row: dict[str, Any]) -> LinkOptions:
    expires: datetime | None = row["expires_at"]
    options = LinkOptions(
        deleted=row["deleted_at"] is not None,
        paused=bool(row["paused"]),
        expires_at=_utc(expires).timestamp() if expires is not None else None,
        max_scans=row["max_scans"],
        password_hash=row["password_hash"],
        forward_query=bool(row["forward_query"]),
        utm=row["utm"] or None,
        rules=row["rules"] or None,
        split=row["split"] or None,
    )
    return PLAIN if options == PLAIN else options


async def _taken(row: dict[str, Any]) -> int:
    if row["max_scans"] is None:
        return 0
    counter = await ScanCounter.get_or_none(qr_id=row["id"])
    return counter.taken if counter else 0


async def _domain_from_database(hostname: str) -> DomainEntry | None:
    found = await Domain.filter(verified_hostname=hostname).first().values("account_id")
    return DomainEntry(hostname, found["account_id"]) if found else None


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
