"""The API application: REST routes, /graphql, the reference pages, one error mapping.

Layers, outermost first: `RequestObserver` (request id, access line, request metrics),
CORS (when QRMINT_CORS_ORIGINS is set; it answers preflights itself, so they need no key),
`ApiGate` (routing refusals, body limit, key, rate limit), then the routes.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from api import rest_domains, rest_qr, rest_stats, rest_webhooks
from api.errors import on_domain_error, on_http_error
from api.gate import ApiGate
from api.openapi import openapi_document
from core.errors import DomainError
from core.services import Services
from ops.pages import docs_page, static_mount
from ops.requests import RequestObserver

# What a browser app on another origin may send and read (the key travels in a header,
# never in a cookie, so credentials stay off).
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_HEADERS = ("Authorization", "X-API-Key", "Content-Type", "X-Request-Id")
CORS_EXPOSED = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "X-Request-Id",
    "Allow",
)


async def _openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


async def _docs(request: Request) -> Response:
    return docs_page()


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_api_app(services: Services, extra_routes: list[BaseRoute] | None = None) -> Starlette:
    """`extra_routes` carries the GraphQL endpoint (built by `schema`), the operator routes
    (`ops.routes`) and later surfaces."""
    routes: list[BaseRoute] = [
        Route("/openapi.json", _openapi, methods=["GET"]),
        Route("/docs", _docs, methods=["GET"]),
        Route("/healthz", _health, methods=["GET"]),
        static_mount(),
        *rest_qr.routes,
        *rest_stats.routes,
        *rest_webhooks.routes,
        *rest_domains.routes,
        *(extra_routes or []),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestObserver, app_name="api"),
            *_cors(services.settings.cors_origins),
            Middleware(ApiGate, services=services, routes=routes),
        ],
        exception_handlers={
            DomainError: on_domain_error,
            HTTPException: on_http_error,
        },
    )
    app.state.services = services
    return app


def _cors(origins: tuple[str, ...]) -> list[Middleware]:
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            max_age=600,
        )
    ]
