"""A short-lived, per-process cache of each account's enabled endpoints.

The outbox asks for an account's endpoints on every scan; a few seconds of staleness is
fine (a new endpoint starts receiving within the TTL), and registration or deletion in this
process drops the entry at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from core.models import ScanEndpoint

DEFAULT_TTL = 5.0


@dataclass(frozen=True)
class CachedEndpoints:
    endpoint_ids: tuple[str, ...]
    expires: float


class EndpointCache:
    def __init__(
        self, ttl: float = DEFAULT_TTL, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._monotonic = monotonic
        self._entries: dict[str, CachedEndpoints] = {}

    async def enabled_endpoints(self, account_id: str) -> tuple[str, ...]:
        entry = self._entries.get(account_id)
        if entry is not None and entry.expires > self._monotonic():
            return entry.endpoint_ids
        ids = await ScanEndpoint.filter(
            account_id=account_id, disabled_at__isnull=True
        ).values_list("id", flat=True)
        found = tuple(str(endpoint_id) for endpoint_id in ids)
        self._entries[account_id] = CachedEndpoints(found, self._monotonic() + self._ttl)
        return found

    def invalidate(self, account_id: str) -> None:
        self._entries.pop(account_id, None)

    def clear(self) -> None:
        self._entries.clear()


# One per process, so that the service's writes reach the outbox's reads.
shared_cache = EndpointCache()
