"""The gate every API request passes: body size limit, API key, rate limit, headers.

A pure ASGI middleware so that an oversize body is refused before it is read whole,
and so the `X-RateLimit-*` headers land on every response, errors included.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response, unexpected_response
from api.routing import route_refusal
from core.admission import (
    RATE_STATE,
    admit,
    anonymous_refusal,
    key_from_headers,
    spend_anonymous,
)
from core.errors import DomainError, PayloadTooLarge, Unauthenticated
from core.ratelimit import RateDecision
from core.services import Services

MAX_BODY = 2 * 1024 * 1024
# Callers without a valid key spend from a per-client bucket (core.admission): guessing keys
# stays slow, and the open pages (GraphiQL, the API reference, health, metrics) carry the
# same headers as everything else.
_OPEN_PATHS = frozenset(
    {"/graphql", "/openapi.json", "/docs", "/healthz", "/readyz", "/metrics", "/"}
)
_OPEN_PREFIX = "/static/"


def is_open(method: str, path: str) -> bool:
    """Pages and operator endpoints anyone may GET (/metrics checks its own token)."""
    return method in ("GET", "HEAD") and (path in _OPEN_PATHS or path.startswith(_OPEN_PREFIX))


class ApiGate:
    def __init__(self, app: ASGIApp, services: Services, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.services = services
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            decision = await self._admit(scope, Headers(scope=scope))
        except DomainError as exc:
            await error_response(exc, graphql=scope["path"] == "/graphql")(scope, receive, send)
            return
        state = _state(scope)
        state[RATE_STATE] = decision
        # Read when the response starts: GraphQL may have spent more tokens by then.
        sender = _with_headers(send, lambda: state[RATE_STATE].headers())
        try:
            await self.app(scope, _limited(receive), sender)
        except Exception:
            # Inside the gate, so even an unexpected failure carries the rate headers.
            await unexpected_response(scope)(scope, receive, sender)

    async def _admit(self, scope: Scope, headers: Headers) -> RateDecision:
        refusal = route_refusal(self.routes, scope)
        if refusal is not None:
            raise await self._with_rate_headers(refusal, scope, headers)
        if is_open(scope["method"], scope["path"]):
            return await self._anonymous(scope)
        services = self.services
        try:
            principal, decision = await admit(
                services.tiers, services.limiter, key_from_headers(headers)
            )
        except Unauthenticated as exc:
            raise await self._with_rate_headers(exc, scope, headers) from None
        _state(scope)["principal"] = principal
        _check_declared_size(headers, decision)
        return decision

    async def _with_rate_headers(
        self, refusal: DomainError, scope: Scope, headers: Headers
    ) -> DomainError:
        """A refusal carries the bucket it spent from: the key's if valid, else the client's."""
        raw_key = key_from_headers(headers)
        decision = None
        if raw_key and not isinstance(refusal, Unauthenticated):
            try:
                principal, decision = await admit(
                    self.services.tiers, self.services.limiter, raw_key
                )
                _state(scope)["principal"] = principal
            except Unauthenticated:
                decision = None
        if decision is None:
            decision = await self._anonymous(scope)
            if not decision.allowed:
                return anonymous_refusal(decision)
        refusal.headers.update(decision.headers())
        return refusal

    async def _anonymous(self, scope: Scope) -> RateDecision:
        client = scope.get("client") or ("unknown", 0)
        return await spend_anonymous(self.services.limiter, str(client[0]))


def _state(scope: Scope) -> MutableMapping[str, Any]:
    return scope.setdefault("state", {})  # type: ignore[no-any-return]


def _check_declared_size(headers: Headers, decision: RateDecision) -> None:
    length = headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        refusal = _too_large(int(length))
        refusal.headers.update(decision.headers())
        raise refusal


def _too_large(received: int | None = None) -> PayloadTooLarge:
    seen = f"{received} bytes" if received else "more than that"
    return PayloadTooLarge(f"The body is {seen}; at most {MAX_BODY} bytes (2 MiB) are accepted.")


def _limited(receive: Receive) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > MAX_BODY:
            raise _too_large()
        return message

    return wrapped


def _with_headers(send: Send, extra: Callable[[], dict[str, str]]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in extra().items():
                headers.setdefault(name, value)
        await send(message)

    return wrapped
