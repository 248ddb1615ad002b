"""REST request bodies: reading JSON, and the declared models beyond the generate request."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from core import jsonbody
from core.errors import MalformedRequest
from core.generate_input import GenerateBody, Model, Strict, validate
from core.link_input import UpdateBody

__all__ = [
    "BulkBody",
    "DestinationBody",
    "DomainBody",
    "EndpointBody",
    "EndpointPatch",
    "GenerateBody",
    "UpdateBody",
    "parse_body",
    "validate",
]


class BulkBody(Strict):
    # Items stay loose here: each one is validated alone so one bad item fails alone.
    items: list[Any]


class DestinationBody(Strict):
    url: str


class DomainBody(Strict):
    hostname: str


class EndpointBody(Strict):
    url: str
    description: str | None = None


class EndpointPatch(Strict):
    enabled: bool


async def read_json(request: Request) -> Any:
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise MalformedRequest(
            f"Content-Type is {content_type!r}; expected application/json.",
        )
    body = await request.body()
    try:
        return jsonbody.loads(body)
    except jsonbody.JsonProblem as problem:
        raise MalformedRequest(str(problem)) from None


async def parse_body(request: Request, model: type[Model]) -> Model:
    return validate(model, await read_json(request))
