"""Who is calling a resolver, and with which services.

Over HTTP the ApiGate has already authenticated and rate-limited the request and left the
Principal in the ASGI scope state. Over WebSocket the gate never runs: the connection is
authenticated at `connection_init` from its payload (or the upgrade headers), and each
subscribe operation re-checks the key (so a revoked key stops opening subscriptions at
once) and spends one token of the key's rate limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info

from core.accounts import Principal, authenticate
from core.admission import admit, bearer, key_from_headers, spend
from core.errors import Unauthenticated
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
    mutations: int = 0

    async def charge_mutation(self) -> None:
        """The request itself paid for one mutation; each further one pays its own token."""
        self.mutations += 1
        if self.mutations > 1 and self.principal is not None:
            await spend(self.services.limiter, self.principal)

    async def connect(self) -> None:
        """Authenticate a WebSocket connection; raises Unauthenticated."""
        self.raw_key = key_from_params(self.connection_params) or key_from_headers(
            self.request.headers
        )
        self.principal = await authenticate(self.services.tiers, self.raw_key)

    async def recheck(self) -> Principal:
        """The key again, as it is now: revoked → Unauthenticated; a new tier is seen."""
        self.principal = await authenticate(self.services.tiers, self.raw_key)
        return self.principal

    async def admit_operation(self) -> None:
        """One WebSocket operation: re-authenticate, then spend from the key's rate limit."""
        services = self.services
        self.principal, _ = await admit(services.tiers, services.limiter, self.raw_key)


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
