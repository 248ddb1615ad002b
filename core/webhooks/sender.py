"""One HTTP POST per delivery attempt, to an address checked just before connecting.

Pinning: before each attempt the URL is checked again (`core.webhooks.ssrf.check_url`) and
the result is put in a context variable; the connection pool's network backend refuses to
open a connection unless it is for that host, and connects to the checked IP instead of
resolving the name again. The URL, Host header, SNI and certificate check all keep the real
host name. Pooled connections are keyed by host name and were pinned when opened, so reuse
is safe too. Redirects are never followed; a 3xx is a failed attempt.
"""

from __future__ import annotations

import asyncio
import contextvars
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import certifi
import httpcore
import httpx

from core.config import Settings
from core.errors import Invalid
from core.webhooks.ssrf import Resolver, SafeTarget, check_url

DEFAULT_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "qrmint-webhooks/1"

_pinned: contextvars.ContextVar[SafeTarget | None] = contextvars.ContextVar(
    "qrmint_webhook_pin", default=None
)


@dataclass(frozen=True)
class Outcome:
    status: int | None  # HTTP status, None when no answer came
    error: str | None  # short reason for a failure; never headers or secrets

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class PinnedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        target = _pinned.get()
        if target is None or host.lower().rstrip(".") != target.host:
            raise httpcore.ConnectError("connection to an unchecked host refused")
        last: Exception | None = None
        for address in target.addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError("no address to connect to")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, ssl_context: ssl.SSLContext, max_connections: int) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx has no public hook for the network backend; swap in a pool that uses ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            network_backend=PinnedBackend(),
        )


def tls_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """The usual public CAs, plus QRMINT_WEBHOOK_CA_BUNDLE when set."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle is not None:
        context.load_verify_locations(cafile=str(ca_bundle))
    return context


class Sender:
    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_connections: int = 64,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self._allow_private = settings.webhook_allow_private
        self._timeout = timeout
        self._resolver = resolver
        self._client = httpx.AsyncClient(
            transport=transport
            or PinnedTransport(tls_context(settings.webhook_ca_bundle), max_connections),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would bypass pinning
            headers={"User-Agent": USER_AGENT},
        )

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        try:
            # One deadline for the whole attempt: DNS, connect, TLS, request and response.
            async with asyncio.timeout(self._timeout):
                return await self._post(url, body, headers)
        except Invalid as exc:
            return Outcome(None, f"unsafe_url: {exc.message}")
        except TimeoutError:
            return Outcome(None, "timeout")
        except httpx.TimeoutException:
            return Outcome(None, "timeout")
        except httpx.HTTPError as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:200])

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        target = await check_url(url, allow_private=self._allow_private, resolver=self._resolver)
        token = _pinned.set(target)
        try:
            request = self._client.build_request("POST", url, content=body, headers=headers)
            response = await self._client.send(request, stream=True)
            try:
                await _drain(response, MAX_RESPONSE_BYTES)
            finally:
                await response.aclose()
        finally:
            _pinned.reset(token)
        if 200 <= response.status_code < 300:
            return Outcome(response.status_code, None)
        return Outcome(response.status_code, f"HTTP {response.status_code}")

    async def aclose(self) -> None:
        await self._client.aclose()


async def _drain(response: httpx.Response, limit: int) -> None:
    # The body is not used; reading a bounded prefix lets the connection be reused. The
    # status line alone decides the outcome, so a body that breaks off changes nothing.
    seen = 0
    try:
        async for chunk in response.aiter_raw():
            seen += len(chunk)
            if seen >= limit:
                break
    except (httpx.HTTPError, httpx.StreamError):
        pass
