"""The redirect domain: a minimal Starlette app, separate from the API.

Hot path per GET: a regex check, an in-process cache hit (see `resolver`), an HMAC
for the visitor (two for a new one: the cookie is signed), and a non-blocking put of
the raw scan facts on the recorder's queue. No ORM objects, no middleware beyond
Starlette's own error handling, and not even a Request object: the redirect endpoint
is plain ASGI, because at this size Starlette's per-request objects cost more than
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
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl, quote

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request, cookie_parser
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from analytics.useragent import parse_agent
from core.config import Settings
from core.domain_proof import WELL_KNOWN_PREFIX, domain_proof
from core.link_entry import cache_key
from core.links import DomainEntry, LinkTarget, domain_key
from core.passwords import verify_password
from core.routing import GONE, NOT_FOUND, REDIRECTED, Decision, LinkPolicy, decide
from core.shortcodes import SHORT_CODE_RE
from ops.requests import RequestObserver
from redirector import pages
from redirector.attempts import PasswordAttempts
from redirector.counters import ScanLimits
from redirector.facts import Lookups, RequestVisit
from redirector.hosts import HostRouter, hostname
from redirector.journal_format import RawScan
from redirector.routes import RouteCache
from redirector.visitor import COOKIE_NAME, Visitor, VisitorIdentifier

NO_STORE = {"cache-control": "no-store"}
# The characters Starlette's RedirectResponse leaves alone; anything else is %-encoded
# so a destination can never break the header.
_LOCATION_SAFE = ":/%#?=@[]!$&'()*+,;"
_HTML = b"text/html; charset=utf-8"
_MAX_FORM_BYTES = 4096
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class Resolver(Protocol):
    async def resolve(self, short_code: str) -> LinkTarget | DomainEntry | None: ...


class Recorder(Protocol):
    """The scan journal: `record` appends before the response goes out, never raises."""

    def record(self, scan: RawScan) -> None: ...


@dataclass
class LinkGuards:
    """What the redirector needs beyond the cache for links with options (docs/links.md)."""

    lookups: Lookups = field(default_factory=lambda: Lookups(_nowhere, parse_agent))
    limits: ScanLimits = field(default_factory=lambda: ScanLimits(None))
    attempts: PasswordAttempts = field(default_factory=lambda: PasswordAttempts(None))
    routes: RouteCache = field(default_factory=RouteCache)


def _nowhere(ip: str) -> tuple[str, str]:
    return "unknown", "unknown"


def create_redirect_app(
    *,
    settings: Settings,
    resolver: Resolver,
    recorder: Recorder,
    guards: LinkGuards | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """`extra_routes` (the operator's /metrics and /readyz) come before the short codes.

    Answers are counted in plain ints (`app.state.redirects`), read at scrape time. The
    access line and request metrics per redirect are opt-in (QRMINT_REDIRECT_ACCESS_LOG):
    they cost more than the redirect itself."""
    visitors = VisitorIdentifier(settings)
    redirect = _Redirect(settings, visitors, resolver, recorder, guards or LinkGuards())
    routes = [
        Route("/", _home, methods=["GET"]),
        Route("/healthz", _health, methods=["GET"]),
        Route(WELL_KNOWN_PREFIX + "{token}", functools.partial(_proof, settings.secret_key)),
        *extra_routes,
        Route("/{short_code}", redirect, methods=["GET", "POST"]),
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

    def __init__(
        self,
        settings: Settings,
        visitors: VisitorIdentifier,
        resolver: Resolver,
        recorder: Recorder,
        guards: LinkGuards,
    ) -> None:
        self._hosts = HostRouter(settings.redirect_base_url)
        self._visitors = visitors
        self._resolver = resolver
        self._recorder = recorder
        self._guards = guards
        # By answer: 302s (HEAD included), 404s, 410s, password forms and their refusals.
        self.redirected = self.not_found = self.gone = self.password_page = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        code: str = scope["path_params"]["short_code"]
        facts = _RequestFacts(scope["headers"])
        domain = self._hosts.domain_of(facts.host) if facts.host else ""
        entry: LinkTarget | None = None
        owner: DomainEntry | None = None
        if not SHORT_CODE_RE.match(code):
            pass
        elif domain:
            entry, owner = await self._on_domain(domain, code)
        else:  # the base domain: one cache lookup
            found = await self._resolver.resolve(code)
            entry = found if type(found) is LinkTarget else None
        if entry is None and owner is None:
            self.not_found += 1
            await _send(send, 404, [(b"content-type", _HTML)], pages.NOT_FOUND)
            return
        client = scope.get("client")
        ip = self._visitors.client_ip(client[0] if client else None, facts.forwarded_for)
        visitor = self._visitors.identify(facts.visitor_cookie(), ip, facts.user_agent)
        if entry is None:
            assert owner is not None
            await self._orphan(scope, send, owner, code, facts, ip, visitor)
        elif entry.policy is None:
            await self._plain(scope, send, entry, facts, ip, visitor)
        else:
            await self._guarded(scope, receive, send, entry, entry.policy, facts, ip, visitor)

    async def _on_domain(
        self, domain: str, code: str
    ) -> tuple[LinkTarget | None, DomainEntry | None]:
        """The link and the custom domain's owner; (None, None) for an unknown host."""
        owner = await self._resolver.resolve(domain_key(domain))
        if not isinstance(owner, DomainEntry):
            return None, None
        entry = await self._resolver.resolve(cache_key(domain, code))
        return (entry if isinstance(entry, LinkTarget) else None), owner

    async def _plain(
        self, scope: Scope, send: Send, entry: LinkTarget, facts: _RequestFacts, ip: str,
        visitor: Visitor,
    ) -> None:  # fmt: skip
        if scope["method"] == "POST":
            await self._finish(scope, send, 405, [(b"allow", b"GET, HEAD")], b"", visitor, None)
            return
        scan = RawScan(
            time.time(), entry, visitor.id, ip, facts.user_agent, facts.referer,
            facts.accept_language, entry.domain,
        )  # fmt: skip
        headers = [(b"location", location(entry.destination))]
        await self._finish(scope, send, 302, headers, b"", visitor, scan)

    async def _orphan(
        self, scope: Scope, send: Send, owner: DomainEntry, code: str, facts: _RequestFacts,
        ip: str, visitor: Visitor,
    ) -> None:  # fmt: skip
        """An unknown code on a verified domain: a 404 its owner sees among refused scans."""
        orphan = LinkTarget("", owner.account_id, code, "", domain=owner.hostname)
        scan = RawScan(
            time.time(), orphan, visitor.id, ip, facts.user_agent, facts.referer,
            facts.accept_language, owner.hostname, "unknown", NOT_FOUND,
        )  # fmt: skip
        headers = [(b"content-type", _HTML)]
        await self._finish(scope, send, 404, headers, pages.NOT_FOUND, visitor, scan)

    async def _guarded(
        self, scope: Scope, receive: Receive, send: Send, entry: LinkTarget, policy: LinkPolicy,
        facts: _RequestFacts, ip: str, visitor: Visitor,
    ) -> None:  # fmt: skip
        method, now = scope["method"], time.time()
        if method == "POST" and policy.password_hash is None:
            await self._finish(scope, send, 405, [(b"allow", b"GET, HEAD")], b"", visitor, None)
            return
        query = scope["query_string"]
        visit = RequestVisit(
            self._guards.lookups, entry.identity, now, visitor.id,
            query.decode("latin-1") if query else "", ip, facts.user_agent, facts.accept_language,
        )  # fmt: skip
        unlocked, refusal = False, None
        if method == "POST" and policy.refusal(now) is None:
            unlocked, refusal = await self._unlock(receive, entry, policy, ip)
        decision = decide(policy, visit, unlocked, self._guards.routes)
        if (
            decision.outcome == REDIRECTED
            and policy.max_scans is not None
            and method != "HEAD"
            and not await self._guards.limits.take(entry, policy.max_scans)
        ):
            decision = Decision(GONE, "exhausted")
        status, headers, body = _response(decision, scope, refusal)
        scan = RawScan(
            now, entry.served(decision.location), visitor.id, ip, facts.user_agent, facts.referer,
            facts.accept_language, entry.domain, decision.target, decision.outcome,
        )  # fmt: skip
        await self._finish(scope, send, status, headers, body, visitor, scan)

    async def _unlock(
        self, receive: Receive, entry: LinkTarget, policy: LinkPolicy, ip: str
    ) -> tuple[bool, _Refusal | None]:
        password = (await _read_form(receive)).get("password", "")
        # Keyed by a hash of the IP: the cookie is the guesser's to drop.
        key = f"{entry.qr_id}:{self._visitors.visitor_hash(ip, '')}"
        wait = await self._guards.attempts.reserve(key)
        if wait:
            minutes = max(1, (wait + 59) // 60)
            message = f"Too many wrong passwords. Try again in {minutes} minute(s)."
            return False, _Refusal(429, message, wait)
        assert policy.password_hash is not None
        if await anyio.to_thread.run_sync(verify_password, password, policy.password_hash):
            await self._guards.attempts.release(key)
            return True, None
        return False, _Refusal(403, "That password is not right. Please try again.", 0)

    async def _finish(
        self, scope: Scope, send: Send, status: int, headers: list[tuple[bytes, bytes]],
        body: bytes, visitor: Visitor, scan: RawScan | None,
    ) -> None:  # fmt: skip
        """Record the scan (the one place a redirect records), then answer."""
        if scan is not None and scope["method"] != "HEAD":  # HEAD answers but is not a scan
            self._recorder.record(scan)  # journalled before the answer goes out
        self._count(status)
        headers.append((b"cache-control", b"no-store"))
        headers.append((b"content-length", str(len(body)).encode()))
        if visitor.is_new_cookie:
            cookie = self._visitors.set_cookie_header(visitor)
            headers.append((b"set-cookie", cookie.encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    def _count(self, status: int) -> None:
        if status == 302:
            self.redirected += 1
        elif status == 410:
            self.gone += 1
        elif status == 404:
            self.not_found += 1
        elif status != 405:
            self.password_page += 1  # the form, a wrong password, too many of them


@dataclass(frozen=True)
class _Refusal:
    status: int
    message: str
    retry_after: int


def _response(
    decision: Decision, scope: Scope, refusal: _Refusal | None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    if decision.outcome == REDIRECTED:
        return 302, [(b"location", location(decision.location))], b""
    if decision.outcome == GONE:
        return 410, [(b"content-type", _HTML)], pages.gone_page(decision.target)
    query = scope["query_string"].decode("latin-1")
    action = quote(scope["path"]) + (f"?{query}" if query else "")
    headers = [(b"content-type", _HTML)]
    if refusal is None:
        return 200, headers, pages.password_page(action)
    if refusal.retry_after:
        headers.append((b"retry-after", str(refusal.retry_after).encode()))
    return refusal.status, headers, pages.password_page(action, refusal.message)


async def _read_form(receive: Receive) -> dict[str, str]:
    """The urlencoded body, bounded: a larger one is read no further and counts as empty."""
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return {}
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > _MAX_FORM_BYTES:
            return {}
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return {}


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers.append((b"cache-control", b"no-store"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _RequestFacts:
    """The few request headers the redirect needs, in one pass over the raw list."""

    __slots__ = ("_cookie", "accept_language", "forwarded_for", "host", "referer", "user_agent")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.user_agent = self.referer = self._cookie = self.host = self.accept_language = ""
        self.forwarded_for: list[str] = []
        for name, value in raw:
            if name == b"user-agent":
                self.user_agent = value.decode("latin-1")
            elif name == b"host":
                self.host = value.decode("latin-1")
            elif name == b"cookie":
                self._cookie = value.decode("latin-1")
            elif name == b"referer":
                self.referer = value.decode("latin-1")
            elif name == b"accept-language":
                self.accept_language = value.decode("latin-1")
            elif name == b"x-forwarded-for":
                self.forwarded_for.append(value.decode("latin-1"))

    def visitor_cookie(self) -> str | None:
        return cookie_parser(self._cookie).get(COOKIE_NAME) if self._cookie else None


@functools.lru_cache(maxsize=4096)
def location(destination: str) -> bytes:
    return quote(destination, safe=_LOCATION_SAFE).encode("latin-1")


def not_found() -> Response:
    return Response(pages.NOT_FOUND, status_code=404, headers=NO_STORE, media_type="text/html")


async def _proof(secret_key: str, request: Request) -> Response:
    """The domain check's answer (core.domain_proof), for whatever host asked."""
    token = request.path_params["token"]
    host = hostname(request.headers.get("host", ""))
    if not 16 <= len(token) <= 64 or not set(token) <= _TOKEN_CHARS or not host:
        return not_found()
    return PlainTextResponse(domain_proof(secret_key, host, token), headers=NO_STORE)


async def _not_found_handler(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.status_code != 404:
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=NO_STORE)
    return not_found()


async def _home(request: Request) -> Response:
    return PlainTextResponse("qrmint redirector", headers=NO_STORE)


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok", headers=NO_STORE)
