"""The HTML pages the API serves to people (GraphiQL, the API reference) and their assets.

Every asset is a file under `ops/static/` served from `/static/` by qrmint itself: the
pages work with no internet access. Vendored packages sit in versioned folders (with their
licences) and are cached for a year; qrmint's own scripts are revalidated (ETag).

The pages carry a strict Content-Security-Policy: scripts only from this origin (so no
inline script anywhere: each page's bootstrap is a file of its own), no framing, no
plugins, no form posts, and connections (fetch, WebSocket) only to this origin.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).with_name("static")
STATIC_PREFIX = "/static"
GRAPHIQL = "graphiql-3.8.3"
REACT = "react-18.3.1"
REACT_DOM = "react-dom-18.3.1"
SWAGGER_UI = "swagger-ui-dist-5.35.0"

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _asset(path: str) -> str:
    return f"{STATIC_PREFIX}/{path}"


def _page(title: str, styles: list[str], scripts: list[str], body: str) -> HTMLResponse:
    links = "".join(f'<link rel="stylesheet" href="{_asset(href)}">' for href in styles)
    tags = "".join(f'<script src="{_asset(src)}" defer></script>' for src in scripts)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'  # no /favicon.ico request
        f"<title>{escape(title)}</title>{links}{tags}</head><body>{body}</body></html>"
    )
    return HTMLResponse(html, headers=PAGE_HEADERS)


def graphiql_page() -> HTMLResponse:
    return _page(
        "qrmint GraphQL",
        [f"{GRAPHIQL}/graphiql.min.css", "qrmint/pages.css"],
        [
            f"{REACT}/react.production.min.js",
            f"{REACT_DOM}/react-dom.production.min.js",
            f"{GRAPHIQL}/graphiql.min.js",
            "qrmint/graphiql.js",
        ],
        '<div id="graphiql" class="qrmint-fill">Loading GraphiQL…</div>',
    )


def docs_page() -> HTMLResponse:
    return _page(
        "qrmint API reference",
        [f"{SWAGGER_UI}/swagger-ui.css"],
        [f"{SWAGGER_UI}/swagger-ui-bundle.js", "qrmint/docs.js"],
        '<div id="swagger-ui"></div>',
    )


def static_mount() -> Mount:
    return Mount(STATIC_PREFIX, app=_CacheHeaders(StaticFiles(directory=STATIC_DIR)))


class _CacheHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        own = scope["path"].removeprefix(scope.get("root_path", "")).startswith("/qrmint/")
        caching = "no-cache" if own else "public, max-age=31536000, immutable"

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = caching
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, sending)
