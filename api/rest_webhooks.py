"""REST handlers for scan webhook endpoints (CONTRACT.md §5)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.bodies import EndpointBody, EndpointPatch, parse_body
from api.context import principal_of, services_of
from api.serialize import iso
from core.webhooks.service import (
    EndpointView,
    delete_endpoint,
    list_endpoints,
    register_endpoint,
    require_webhooks,
    set_endpoint_enabled,
)


def _view(view: EndpointView) -> dict[str, Any]:
    return {
        "id": view.id,
        "url": view.url,
        "description": view.description,
        "created_at": iso(view.created_at),
        # Beyond the contract's four fields: whether it receives events, and its health.
        "enabled": view.enabled,
        "disabled": view.disabled,
        "disabled_at": iso(view.disabled_at),
        "disabled_reason": view.disabled_reason,
        "failing_since": iso(view.failing_since),
    }


async def register(request: Request) -> JSONResponse:
    principal = principal_of(request)
    services = services_of(request)
    require_webhooks(principal.tier)  # the tier answers before the body is looked at
    body = await parse_body(request, EndpointBody)
    created = await register_endpoint(
        services.settings, principal.tier, principal.account_id, body.url, body.description
    )
    return JSONResponse(
        {
            "id": created.id,
            "url": created.url,
            "description": created.description,
            "secret": created.secret,
            "created_at": iso(created.created_at),
        },
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


async def list_all(request: Request) -> JSONResponse:
    views = await list_endpoints(principal_of(request).account_id)
    return JSONResponse({"endpoints": [_view(view) for view in views]})


async def update(request: Request) -> JSONResponse:
    principal = principal_of(request)
    body = await parse_body(request, EndpointPatch)
    endpoint_id = request.path_params["endpoint_id"]
    view = await set_endpoint_enabled(
        principal.tier, principal.account_id, endpoint_id, body.enabled
    )
    return JSONResponse(_view(view))


async def delete(request: Request) -> Response:
    await delete_endpoint(principal_of(request).account_id, request.path_params["endpoint_id"])
    return Response(status_code=204)


routes = [
    Route("/webhooks/scan-endpoints", register, methods=["POST"]),
    Route("/webhooks/scan-endpoints", list_all, methods=["GET"]),
    Route("/webhooks/scan-endpoints/{endpoint_id}", update, methods=["PATCH"]),
    Route("/webhooks/scan-endpoints/{endpoint_id}", delete, methods=["DELETE"]),
]
