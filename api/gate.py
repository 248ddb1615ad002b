"""The gate every API request passes: body size limit, API key, rate limit, headers.

A pure ASGI middleware so that an oversize body is refused before it is read whole,
and so the `X-RateLimit-*` headers land on every response, errors included.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from core.admission import admit, key_from_headers
from core.errors import DomainError, PayloadTooLarge, Unauthenticated
from core.ratelimit import RateDecision
from core.services import Services

MAX_BODY = 2 * 1024 * 1024
# Requests without a valid key still spend from a per-client bucket, so guessing keys is slow.
_ANONYMOUS_RATE = 10
_OPEN = {("GET", "/graphql"), ("GET", "/openapi.json"), ("GET", "/healthz"), ("GET", "/")}


class ApiGate:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in _OPEN:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            _check_declared_size(headers)
            decision = await self._admit(scope, headers)
        except DomainError as exc:
            await error_response(exc)(scope, receive, send)
            return
        await self.app(scope, _limited(receive), _with_headers(send, decision.headers()))

    async def _admit(self, scope: Scope, headers: Headers) -> RateDecision:
        services = self.services
        try:
            principal, decision = await admit(
                services.tiers, services.limiter, key_from_headers(headers)
            )
        except Unauthenticated as exc:
            decision = await services.limiter.hit(_anonymous_key(scope), _ANONYMOUS_RATE)
            exc.headers.update(decision.headers())
            raise
        _state(scope)["principal"] = principal
        return decision


def _state(scope: Scope) -> MutableMapping[str, Any]:
    return scope.setdefault("state", {})  # type: ignore[no-any-return]


def _anonymous_key(scope: Scope) -> str:
    client = scope.get("client") or ("unknown", 0)
    return "anon:" + hashlib.sha256(str(client[0]).encode()).hexdigest()[:24]


def _check_declared_size(headers: Headers) -> None:
    length = headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise _too_large(int(length))


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


def _with_headers(send: Send, extra: dict[str, str]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in extra.items():
                headers.setdefault(name, value)
        await send(message)

    return wrapped
