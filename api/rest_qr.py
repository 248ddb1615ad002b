"""REST handlers for QR codes: translate JSON ⇄ service calls, nothing more."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api import serialize
from api.bodies import BulkBody, DestinationBody, GenerateBody, parse_body, validate
from core.accounts import Principal
from core.bulk import bulk_generate, check_bulk_allowed
from core.errors import DomainError
from core.qrcodes import GenerateSpec
from core.services import Services


def _principal(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def generate(request: Request) -> JSONResponse:
    spec = (await parse_body(request, GenerateBody)).to_spec()
    result = await _services(request).qr.generate(_principal(request), spec)
    return JSONResponse(serialize.generated(result), status_code=201)


async def bulk_generate_qrs(request: Request) -> JSONResponse:
    principal = _principal(request)
    check_bulk_allowed(principal, 1)  # tier first: a basic key learns that before any 422
    body = await parse_body(request, BulkBody)
    specs = [_item_spec(index, item) for index, item in enumerate(body.items)]
    items = await bulk_generate(_services(request).qr, principal, specs)
    return JSONResponse(serialize.bulk(items))


def _item_spec(index: int, item: object) -> GenerateSpec | DomainError:
    try:
        return validate(GenerateBody, item, prefix=f"items.{index}.").to_spec()
    except DomainError as exc:
        return exc


async def get_qr(request: Request) -> JSONResponse:
    view = await _services(request).qr.get(_principal(request), request.path_params["qr_id"])
    return JSONResponse(serialize.qr_metadata(view))


async def update_destination(request: Request) -> JSONResponse:
    body = await parse_body(request, DestinationBody)
    service = _services(request).qr
    view = await service.update_destination(
        _principal(request), request.path_params["qr_id"], body.url
    )
    return JSONResponse(serialize.qr_metadata(view))


routes = [
    Route("/qr/generate", generate, methods=["POST"]),
    Route("/qr/bulk-generate", bulk_generate_qrs, methods=["POST"]),
    Route("/qr/{qr_id}", get_qr, methods=["GET"]),
    Route("/qr/{qr_id}/destination", update_destination, methods=["PATCH"]),
]
