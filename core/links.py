"""The link directory: short code -> where a dynamic QR currently points.

Shared by the redirector (which resolves) and the API (which publishes changes).

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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.bus import EventBus
from core.models import QrCode

LINKS_CHANNEL = "links"
SYNC_CHANNEL = "qrmint:links:sync"  # raw Redis channel: {"short_code", "ack": ack-list key}
ACK_PREFIX = "qrmint:links:ack:"
KEY_PREFIX = "qrmint:link:"
# Bounds both memory and the life of an entry that a failed publish left behind.
KEY_TTL_SECONDS = 3600

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkTarget:
    qr_id: str
    account_id: str
    short_code: str
    destination: str
    # The row's updated_at in microseconds: two updates published out of order must not
    # leave the older destination in Redis.
    version: int = 0


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


def version_of(updated_at: datetime | None) -> int:
    return int(updated_at.timestamp() * 1_000_000) if updated_at else 0


def link_key(short_code: str) -> str:
    return KEY_PREFIX + short_code


def encode_target(target: LinkTarget) -> str:
    return json.dumps(
        {
            "q": target.qr_id,
            "a": target.account_id,
            "c": target.short_code,
            "d": target.destination,
            "v": target.version,
        },
        separators=(",", ":"),
    )


def decode_target(raw: str | bytes) -> LinkTarget | None:
    try:
        data = json.loads(raw)
        return LinkTarget(
            qr_id=str(data["q"]),
            account_id=str(data["a"]),
            short_code=str(data["c"]),
            destination=str(data["d"]),
            version=int(data.get("v", 0)),
        )
    except (ValueError, KeyError, TypeError):
        return None


class LinkDirectory:
    def __init__(
        self, redis: aioredis.Redis | None, bus: EventBus, *, ack_timeout: float = 1.0
    ) -> None:
        self._redis = redis
        self._bus = bus
        self._ack_timeout = ack_timeout

    async def lookup(self, short_code: str) -> LinkTarget | None:
        if self._redis is None:
            return await self._from_database(short_code)
        try:
            cached = await self._redis.get(link_key(short_code))
        except RedisError as exc:
            # Redis down must not take the redirect domain down: the database still answers.
            log.warning("link lookup: redis unavailable, reading the database (%s)", exc)
            return await self._from_database(short_code)
        if cached is not None:
            found = decode_target(cached)
            if found is not None:
                return found
        target = await self._from_database(short_code)
        if target is not None:
            await self._fill(target)
        return target

    async def publish_change(self, target: LinkTarget) -> None:
        """Call after the new destination (or a new dynamic QR) is committed."""
        if self._redis is not None:
            await self._redis.eval(
                _PUBLISH,
                1,
                link_key(target.short_code),
                encode_target(target),
                target.version,
                KEY_TTL_SECONDS,
            )
        await self._bus.publish(LINKS_CHANNEL, {"short_code": target.short_code})
        if self._redis is not None:
            await self._sync(target.short_code)

    async def _sync(self, short_code: str) -> None:
        """Return once every redirector following the sync channel has dropped the code."""
        assert self._redis is not None
        ack_key = ACK_PREFIX + secrets.token_hex(8)
        message = json.dumps({"short_code": short_code, "ack": ack_key})
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
                        short_code, acknowledged, receivers,
                    )  # fmt: skip
                    return
        finally:
            await self._redis.delete(ack_key)

    async def _fill(self, target: LinkTarget) -> None:
        assert self._redis is not None
        try:
            # NX: an update's SET that landed after our database read must win.
            await self._redis.set(
                link_key(target.short_code), encode_target(target), nx=True, ex=KEY_TTL_SECONDS
            )
        except RedisError as exc:
            log.warning("link lookup: could not fill redis (%s)", exc)

    @staticmethod
    async def _from_database(short_code: str) -> LinkTarget | None:
        row: dict[str, Any] | None = (
            await QrCode.filter(short_code=short_code, type="dynamic")
            .first()
            .values("id", "account_id", "short_code", "destination", "updated_at")
        )
        if row is None or not row["destination"]:
            return None
        return LinkTarget(
            qr_id=row["id"],
            account_id=row["account_id"],
            short_code=row["short_code"],
            destination=row["destination"],
            version=version_of(row["updated_at"]),
        )
