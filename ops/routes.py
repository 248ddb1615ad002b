"""The operator's routes every HTTP process serves: `/metrics` and `/readyz`."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ops.metrics import exposition
from ops.readiness import Check, readiness_route

PATHS = ("/metrics", "/readyz")


def ops_routes(metrics_token: str | None, checks: Mapping[str, Check]) -> list[BaseRoute]:
    return [metrics_route(metrics_token), readiness_route(checks)]


def operator_app(metrics_token: str | None, checks: Mapping[str, Check]) -> Starlette:
    """All a process without a public surface serves (`qrmint worker --port`)."""

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/healthz", healthz), *ops_routes(metrics_token, checks)])


def metrics_route(token: str | None) -> Route:
    """Open unless QRMINT_METRICS_TOKEN is set; then only `Authorization: Bearer <token>`."""
    expected = f"Bearer {token}".encode() if token else None

    async def metrics(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization", "").encode("latin-1")
            if not hmac.compare_digest(given, expected):
                return _refused()
        body, content_type = await exposition()
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    return Route("/metrics", metrics, methods=["GET"])


def _refused() -> Response:
    message = "This endpoint needs 'Authorization: Bearer <QRMINT_METRICS_TOKEN>'."
    return JSONResponse(
        {"error": {"code": "unauthenticated", "message": message}},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"},
    )
