"""The redirect domain: a minimal Starlette app, separate from the API.

Hot path per GET: a regex check, an in-process cache hit (see `resolver`), an HMAC
for the visitor (two for a new one: the cookie is signed), and one record of the raw
scan facts appended to the scan journal (one `os.write`, before the 302 is sent: a
redirect the client saw is a scan on disk, see `redirector.journal`). No ORM objects,
no middleware beyond Starlette's own error handling, and not even a Request object: the
redirect endpoint is plain ASGI, because at this size Starlette's per-request objects cost more than
the redirect itself.

`/` and `/healthz` cannot shadow a short code: generated codes never contain "l"
(see `core.shortcodes`), and anything that is not 7-16 of [A-Za-z0-9_-] is a 404
before the cache is touched. The app owns no resources: the caller starts and
closes the resolver and recorder (see `redirector.wiring`). Serve it with uvicorn's
`proxy_headers=False`: X-Forwarded-For is judged here, against QRMINT_TRUSTED_PROXIES,
and uvicorn's own rewriting (which trusts 127.0.0.1 by default) would pre-empt that.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request, cookie_parser
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from core.config import Settings
from core.links import LinkTarget
from core.shortcodes import SHORT_CODE_RE
from ops.requests import RequestObserver
from redirector.journal_format import RawScan
from redirector.visitor import COOKIE_NAME, VisitorIdentifier

NO_STORE = {"cache-control": "no-store"}
NOT_FOUND_HTML = (
    "<!doctype html><html><head><meta charset=utf-8><title>Not found</title></head>"
    "<body><h1>Not found</h1><p>This QR code link does not exist.</p></body></html>"
)
# The characters Starlette's RedirectResponse leaves alone; anything else is %-encoded
# so a destination can never break the header.
_LOCATION_SAFE = ":/%#?=@[]!$&'()*+,;"


class Resolver(Protocol):
    async def resolve(self, short_code: str) -> LinkTarget | None: ...


class Recorder(Protocol):
    """The scan journal: `record` appends before the response goes out, never raises."""

    def record(self, scan: RawScan) -> None: ...


def create_redirect_app(
    *,
    settings: Settings,
    resolver: Resolver,
    recorder: Recorder,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """`extra_routes` (the operator's /metrics and /readyz) come before the short codes.

    Redirects are counted in plain ints (`app.state.redirects`), read at scrape time. The
    access line and request metrics per redirect are opt-in (QRMINT_REDIRECT_ACCESS_LOG):
    they cost more than the redirect itself."""
    redirect = _Redirect(VisitorIdentifier(settings), resolver, recorder)
    routes = [
        Route("/", _home, methods=["GET"]),
        Route("/healthz", _health, methods=["GET"]),
        *extra_routes,
        Route("/{short_code}", redirect, methods=["GET"]),
    ]
    observed = settings.redirect_access_log
    middleware = [Middleware(RequestObserver, app_name="redirector")] if observed else []
    app = Starlette(
        routes=routes, middleware=middleware, exception_handlers={404: _not_found_handler}
    )
    app.state.redirects = redirect
    return app


class _Redirect:
    """The hot path as a bare ASGI endpoint: no Request/Response objects per redirect."""

    def __init__(self, visitors: VisitorIdentifier, resolver: Resolver, recorder: Recorder):
        self._visitors = visitors
        self._resolver = resolver
        self._recorder = recorder
        self.redirected = 0  # 302s, HEAD included
        self.not_found = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        code: str = scope["path_params"]["short_code"]
        target = await self._resolver.resolve(code) if SHORT_CODE_RE.match(code) else None
        if target is None:
            self.not_found += 1
            await not_found()(scope, receive, send)
            return
        self.redirected += 1
        facts = _RequestFacts(scope["headers"])
        client = scope.get("client")
        ip = self._visitors.client_ip(client[0] if client else None, facts.forwarded_for)
        visitor = self._visitors.identify(facts.visitor_cookie(), ip, facts.user_agent)
        headers = [
            (b"location", location(target.destination)),
            (b"cache-control", b"no-store"),
            (b"content-length", b"0"),
        ]
        if visitor.is_new_cookie:
            cookie = self._visitors.set_cookie_header(visitor)
            headers.append((b"set-cookie", cookie.encode("latin-1")))
        if scope["method"] == "GET":  # HEAD answers the same but is not a scan
            self._recorder.record(
                RawScan(time.time(), target, visitor.id, ip, facts.user_agent, facts.referer,
                        facts.accept_language, facts.host)
            )  # fmt: skip
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


class _RequestFacts:
    """The few request headers the redirect needs, in one pass over the raw list."""

    __slots__ = ("_cookie", "accept_language", "forwarded_for", "host", "referer", "user_agent")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.user_agent = self.referer = self._cookie = self.accept_language = self.host = ""
        self.forwarded_for: list[str] = []
        for name, value in raw:
            if name == b"user-agent":
                self.user_agent = value.decode("latin-1")
            elif name == b"cookie":
                self._cookie = value.decode("latin-1")
            elif name == b"referer":
                self.referer = value.decode("latin-1")
            elif name == b"accept-language":
                self.accept_language = value.decode("latin-1")
            elif name == b"host":
                self.host = value.decode("latin-1")
            elif name == b"x-forwarded-for":
                self.forwarded_for.append(value.decode("latin-1"))

    def visitor_cookie(self) -> str | None:
        return cookie_parser(self._cookie).get(COOKIE_NAME) if self._cookie else None


@functools.lru_cache(maxsize=4096)
def location(destination: str) -> bytes:
    return quote(destination, safe=_LOCATION_SAFE).encode("latin-1")


def not_found() -> Response:
    return HTMLResponse(NOT_FOUND_HTML, status_code=404, headers=NO_STORE)


async def _not_found_handler(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.status_code != 404:
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=NO_STORE)
    return not_found()


async def _home(request: Request) -> Response:
    return PlainTextResponse("qrmint redirector", headers=NO_STORE)


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok", headers=NO_STORE)
