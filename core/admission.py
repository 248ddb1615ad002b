"""Admitting a caller: find the API key, authenticate it, spend one token of its rate limit.

Shared by the REST gate (every HTTP request) and the GraphQL WebSocket transport (every
subscribe operation), so both refuse with the same codes and messages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from core.accounts import Principal, authenticate
from core.errors import Throttled
from core.ratelimit import RateDecision, RateLimiter
from core.tiers import Tiers

# Callers without a valid key (REST, GraphQL over HTTP, WebSocket connection_init) spend
# from one bucket per client address: guessing keys stays slow on every surface.
ANONYMOUS_RATE = 10
# Where the gate leaves the latest rate decision in the ASGI scope state, so that a
# surface spending more tokens within the request (GraphQL aliases) updates the headers.
RATE_STATE = "rate_decision"


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
        raise refused(decision)
    return decision


def refused(decision: RateDecision) -> Throttled:
    return Throttled(
        f"More than {decision.limit} requests per second with this key; "
        f"retry after {decision.retry_after} s.",
        code="rate_limited",
        headers=decision.headers(),
    )


def anonymous_key(client_host: str | None) -> str:
    return "anon:" + hashlib.sha256(str(client_host or "unknown").encode()).hexdigest()[:24]


async def spend_anonymous(limiter: RateLimiter, client_host: str | None) -> RateDecision:
    return await limiter.hit(anonymous_key(client_host), ANONYMOUS_RATE)


def anonymous_refusal(decision: RateDecision) -> Throttled:
    return Throttled(
        f"More than {decision.limit} requests per second without a valid API key; "
        f"retry after {decision.retry_after} s.",
        code="rate_limited",
        headers=decision.headers(),
    )
