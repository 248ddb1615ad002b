"""Password attempts per visitor and link: at most LIMIT wrong ones in WINDOW seconds.

An attempt is reserved *before* the password is checked (a key derivation costs CPU, so a
refused guess must cost us nothing) and given back when it was right, so only wrong
passwords count. The visitor is a keyed hash of the client IP, not the cookie, which a
guesser could simply drop. Shared through Redis when configured, else per process.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

LIMIT = 10
WINDOW_SECONDS = 300
KEY_PREFIX = "qrmint:pw:"
_MAX_LOCAL_KEYS = 100_000

_RESERVE = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
if count > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return redis.call('TTL', KEYS[1])
end
return 0
"""
# Never below zero, and never a key without its expiry.
_RELEASE = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class PasswordAttempts:
    def __init__(self, redis: aioredis.Redis | None) -> None:
        self._script = redis.register_script(_RESERVE) if redis is not None else None
        self._release = redis.register_script(_RELEASE) if redis is not None else None
        self._local: OrderedDict[str, tuple[float, int]] = OrderedDict()

    async def reserve(self, key: str) -> int:
        """0 when an attempt may be made, else the seconds until one may."""
        if self._script is not None:
            try:
                wait = int(
                    await self._script(keys=[KEY_PREFIX + key], args=[LIMIT, WINDOW_SECONDS])
                )
                return max(wait, 1) if wait else 0
            except (RedisError, OSError) as exc:  # count in this process meanwhile
                log.warning("password attempts: redis unavailable (%s)", exc)
        return self._reserve_local(key)

    def _reserve_local(self, key: str) -> int:
        now = time.monotonic()
        started, count = self._local.pop(key, (now, 0))
        if now - started >= WINDOW_SECONDS:
            started, count = now, 0
        if count >= LIMIT:
            self._local[key] = (started, count)
            return max(1, int(started + WINDOW_SECONDS - now) + 1)
        self._local[key] = (started, count + 1)
        if len(self._local) > _MAX_LOCAL_KEYS:
            self._local.popitem(last=False)
        return 0

    async def release(self, key: str) -> None:
        """The attempt was right: it does not count."""
        if self._release is not None:
            try:
                await self._release(keys=[KEY_PREFIX + key])
                return
            except (RedisError, OSError) as exc:
                log.warning("password attempts: redis unavailable (%s)", exc)
        found = self._local.get(key)
        if found is not None:
            self._local[key] = (found[0], max(0, found[1] - 1))
