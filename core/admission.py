"""Admitting a caller: find the API key, authenticate it, spend one token of its rate limit.

Shared by the REST gate (every HTTP request) and the GraphQL WebSocket transport (every
subscribe operation), so both refuse with the same codes and messages.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.accounts import Principal, authenticate
from core.errors import Throttled
from core.ratelimit import RateDecision, RateLimiter
from core.tiers import Tiers


def bearer(authorization: str) -> str | None:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    """`Authorization: Bearer KEY` or `X-API-Key: KEY` (headers looked up case-insensitively)."""
    return bearer(headers.get("authorization", "")) or headers.get("x-api-key") or None


async def admit(
    tiers: Tiers, limiter: RateLimiter, raw_key: str | None
) -> tuple[Principal, RateDecision]:
    """Raises Unauthenticated, or Throttled (with the rate headers) past the key's limit."""
    principal = await authenticate(tiers, raw_key)
    return principal, await spend(limiter, principal)


async def spend(limiter: RateLimiter, principal: Principal) -> RateDecision:
    """One token of the key's bucket; Throttled (with the rate headers) when it is empty."""
    decision = await limiter.hit(principal.key_id, principal.tier.rate_per_second)
    if not decision.allowed:
        raise Throttled(
            f"More than {decision.limit} requests per second with this key; "
            f"retry after {decision.retry_after} s.",
            code="rate_limited",
            headers=decision.headers(),
        )
    return decision
