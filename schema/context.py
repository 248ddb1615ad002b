"""Who is calling a resolver, and with which services.

Over HTTP the ApiGate has already authenticated and rate-limited the request and left the
Principal in the ASGI scope state. Over WebSocket the gate never runs: the connection is
authenticated at `connection_init` from its payload (or the upgrade headers; a bad key
spends from the anonymous per-client bucket, as on REST), and each subscribe operation
spends one token of the key's rate limit, then re-checks the key (so a revoked key stops
opening subscriptions at once).

Cost: every field that renders, reads statistics or writes (`schema.fields.charged`) costs
one token. The token the request (HTTP) or the subscribe message (WebSocket) already spent
pays for one such field; each further one spends its own, and past the key's bucket that
field alone is refused with `rate_limited` while the others answer. The HTTP response's
`X-RateLimit-*` headers show the bucket after the last token spent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info

from core.accounts import Principal, authenticate
from core.admission import (
    RATE_STATE,
    anonymous_refusal,
    bearer,
    key_from_headers,
    refused,
    spend,
    spend_anonymous,
)
from core.errors import Unauthenticated
from core.ratelimit import RateDecision
from core.services import Services

_KEY_NAMES = ("apikey", "api_key", "x-api-key")


@dataclass
class GraphQLContext:
    services: Services
    request: Request | WebSocket
    principal: Principal | None = None
    # Filled in by Strawberry from the graphql-transport-ws `connection_init` payload.
    connection_params: dict[str, Any] = field(default_factory=dict)
    raw_key: str | None = None
    # Tokens spent by the request or by subscribe messages, not yet used by a costly field.
    prepaid: int = 0

    def __post_init__(self) -> None:
        if self.principal is not None:
            self.prepaid = 1  # over HTTP the gate spent the request's token

    async def charge(self) -> None:
        """One costly field: use a prepaid token, else spend one (Throttled when empty)."""
        if self.prepaid > 0:
            self.prepaid -= 1
            return
        principal = self.principal
        if principal is None:
            return  # principal_of refuses the field itself
        decision = await self.services.limiter.hit(principal.key_id, principal.tier.rate_per_second)
        self._record(decision)
        if not decision.allowed:
            raise refused(decision)

    def _record(self, decision: RateDecision) -> None:
        if self.request.scope["type"] == "http":
            self.request.scope.setdefault("state", {})[RATE_STATE] = decision

    async def connect(self) -> None:
        """Authenticate a WebSocket connection; raises Unauthenticated, or Throttled when
        bad keys from this client went past the anonymous bucket."""
        self.raw_key = key_from_params(self.connection_params) or key_from_headers(
            self.request.headers
        )
        try:
            self.principal = await authenticate(self.services.tiers, self.raw_key)
        except Unauthenticated:
            client = self.request.client
            decision = await spend_anonymous(self.services.limiter, client and client.host)
            if not decision.allowed:
                raise anonymous_refusal(decision) from None
            raise

    async def recheck(self) -> Principal:
        """The key again, as it is now: revoked → Unauthenticated; a new tier is seen."""
        self.principal = await authenticate(self.services.tiers, self.raw_key)
        return self.principal

    async def admit_operation(self) -> None:
        """One WebSocket operation: spend from the key's rate limit, then re-authenticate.
        Spending first keeps a flood of subscribe messages to one bucket check each."""
        assert self.principal is not None  # connection_init was acknowledged
        await spend(self.services.limiter, self.principal)
        self.principal = await authenticate(self.services.tiers, self.raw_key)
        self.prepaid += 1

    def key_id(self) -> str:
        assert self.principal is not None
        return self.principal.key_id


def key_from_params(params: Mapping[str, Any]) -> str | None:
    lowered = {str(name).lower(): value for name, value in params.items()}
    for name in _KEY_NAMES:
        value = lowered.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    authorization = lowered.get("authorization")
    return bearer(authorization) if isinstance(authorization, str) else None


def principal_of(info: Info[GraphQLContext, None]) -> Principal:
    principal = info.context.principal
    if principal is None:
        # Only reachable when a request slipped past the gate (e.g. a GET query).
        raise Unauthenticated(
            "No API key was sent; pass it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'."
        )
    return principal


def services_of(info: Info[GraphQLContext, None]) -> Services:
    return info.context.services
