"""REST handlers for custom short domains (docs/links.md)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.bodies import DomainBody, parse_body
from api.context import principal_of, services_of
from api.serialize import iso
from core.domains import DomainView


def domain_body(view: DomainView) -> dict[str, Any]:
    return {
        "id": view.id,
        "hostname": view.hostname,
        "verified": view.verified,
        "verified_at": iso(view.verified_at),
        "created_at": iso(view.created_at),
        "verification": {"method": "http", "url": view.verification_url},
    }


async def add(request: Request) -> JSONResponse:
    body = await parse_body(request, DomainBody)
    view = await services_of(request).domains.add(principal_of(request), body.hostname)
    return JSONResponse(domain_body(view), status_code=201)


async def list_all(request: Request) -> JSONResponse:
    views = await services_of(request).domains.list_all(principal_of(request))
    return JSONResponse({"domains": [domain_body(view) for view in views]})


async def verify(request: Request) -> JSONResponse:
    service = services_of(request).domains
    view = await service.verify(principal_of(request), request.path_params["domain_id"])
    return JSONResponse(domain_body(view))


async def delete(request: Request) -> Response:
    service = services_of(request).domains
    await service.delete(principal_of(request), request.path_params["domain_id"])
    return Response(status_code=204)


routes = [
    Route("/domains", add, methods=["POST"]),
    Route("/domains", list_all, methods=["GET"]),
    Route("/domains/{domain_id}/verify", verify, methods=["POST"]),
    Route("/domains/{domain_id}", delete, methods=["DELETE"]),
]
