"""REST handlers for QR codes: translate JSON ⇄ service calls, nothing more."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api import serialize
from api.bodies import BulkBody, DestinationBody, GenerateBody, UpdateBody, parse_body, validate
from api.context import principal_of, services_of
from core.bulk import bulk_generate
from core.qrcodes import GenerateSpec


async def generate(request: Request) -> JSONResponse:
    spec = (await parse_body(request, GenerateBody)).to_spec()
    result = await services_of(request).qr.generate(principal_of(request), spec)
    return JSONResponse(serialize.generated(result), status_code=201)


async def bulk_generate_qrs(request: Request) -> JSONResponse:
    body = await parse_body(request, BulkBody)
    service, principal = services_of(request).qr, principal_of(request)
    items = await bulk_generate(service, principal, body.items, _item_spec)
    return JSONResponse(serialize.bulk(items))


def _item_spec(index: int, item: object) -> GenerateSpec:
    return validate(GenerateBody, item, prefix=f"items.{index}.").to_spec()


async def get_qr(request: Request) -> JSONResponse:
    view = await services_of(request).qr.get(principal_of(request), request.path_params["qr_id"])
    return JSONResponse(serialize.qr_metadata(view))


async def update_destination(request: Request) -> JSONResponse:
    body = await parse_body(request, DestinationBody)
    service = services_of(request).qr
    view = await service.update_destination(
        principal_of(request), request.path_params["qr_id"], body.url
    )
    return JSONResponse(serialize.qr_metadata(view))


async def update_qr(request: Request) -> JSONResponse:
    body = await parse_body(request, UpdateBody)
    service = services_of(request).qr
    view = await service.update(principal_of(request), request.path_params["qr_id"], body.changes())
    return JSONResponse(serialize.qr_metadata(view))


async def delete_qr(request: Request) -> Response:
    await services_of(request).qr.delete(principal_of(request), request.path_params["qr_id"])
    return Response(status_code=204)


routes = [
    Route("/qr/generate", generate, methods=["POST"]),
    Route("/qr/bulk-generate", bulk_generate_qrs, methods=["POST"]),
    Route("/qr/{qr_id}", get_qr, methods=["GET"]),
    Route("/qr/{qr_id}", update_qr, methods=["PATCH"]),
    Route("/qr/{qr_id}", delete_qr, methods=["DELETE"]),
    Route("/qr/{qr_id}/destination", update_destination, methods=["PATCH"]),
]
