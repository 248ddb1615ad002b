"""The API application: REST routes, /graphql, /openapi.json, one error mapping."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from api import rest_domains, rest_qr, rest_stats, rest_webhooks
from api.errors import on_domain_error, on_http_error
from api.gate import ApiGate
from api.openapi import openapi_document
from core.errors import DomainError
from core.services import Services


async def _openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_api_app(services: Services, extra_routes: list[BaseRoute] | None = None) -> Starlette:
    """`extra_routes` carries the GraphQL endpoint (built by `schema`) and later surfaces."""
    routes: list[BaseRoute] = [
        Route("/openapi.json", _openapi),
        Route("/healthz", _health),
        *rest_qr.routes,
        *rest_stats.routes,
        *rest_webhooks.routes,
        *rest_domains.routes,
        *(extra_routes or []),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(ApiGate, services=services)],
        exception_handlers={
            DomainError: on_domain_error,
            HTTPException: on_http_error,
        },
    )
    app.state.services = services
    return app
