"""Declared REST request bodies (pydantic): they validate shape and feed /openapi.json.

Semantic checks (color syntax, contrast, logo size, URL safety) belong to the services;
these models only refuse what is structurally wrong, with the field path in `details`.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from core.errors import FieldProblem, Invalid, MalformedRequest
from core.qrcodes import GenerateSpec

Model = TypeVar("Model", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class GradientStop(_Strict):
    offset: float
    color: str


class Gradient(_Strict):
    type: Literal["linear", "radial"]
    rotation: float = 0
    stops: list[GradientStop]


class DotsStyle(_Strict):
    shape: Literal["square", "rounded", "dots", "classy", "classy-rounded", "extra-rounded"] = (
        "square"
    )
    color: str = "#000000"
    gradient: Gradient | None = None


class CornerSquaresStyle(_Strict):
    shape: Literal["square", "dot", "extra-rounded"] = "square"
    color: str = "#000000"
    gradient: Gradient | None = None


class CornerDotsStyle(_Strict):
    shape: Literal["square", "dot"] = "square"
    color: str = "#000000"
    gradient: Gradient | None = None


class BackgroundStyle(_Strict):
    color: str = "#ffffff"
    gradient: Gradient | None = None


class LogoStyle(_Strict):
    image: str = Field(description="base64 PNG, JPEG or SVG")
    size: float = 0.25
    margin: int = 1
    hide_background_dots: bool = True


class Style(_Strict):
    dots: DotsStyle | None = None
    corner_squares: CornerSquaresStyle | None = None
    corner_dots: CornerDotsStyle | None = None
    background: BackgroundStyle | None = None
    logo: LogoStyle | None = None


class GenerateBody(_Strict):
    type: Literal["static", "dynamic"] = "static"
    data: str
    format: Literal["png", "svg"] = "png"
    size: int = Field(512, ge=64, le=4096)
    margin: int = Field(4, ge=0, le=16)
    error_correction: Literal["L", "M", "Q", "H"] = "M"
    name: str | None = Field(None, max_length=200)
    style: Style | None = None

    def to_spec(self) -> GenerateSpec:
        style = self.style.model_dump(exclude_unset=True) if self.style else None
        return GenerateSpec(
            data=self.data,
            type=self.type,
            format=self.format,
            size=self.size,
            margin=self.margin,
            error_correction=self.error_correction,
            name=self.name,
            style=style,
        )


class BulkBody(_Strict):
    # Items stay loose here: each one is validated alone so one bad item fails alone.
    items: list[dict[str, Any]]


class DestinationBody(_Strict):
    url: str


class EndpointBody(_Strict):
    url: str
    description: str | None = Field(None, max_length=500)


async def read_json(request: Request) -> Any:
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise MalformedRequest(
            f"Content-Type is {content_type!r}; expected application/json.",
        )
    body = await request.body()
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise MalformedRequest("The request body is not valid JSON.") from None


def validate(model: type[Model], value: Any, prefix: str = "") -> Model:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise _invalid(exc, prefix) from None


async def parse_body(request: Request, model: type[Model]) -> Model:
    return validate(model, await read_json(request))


def _invalid(exc: ValidationError, prefix: str) -> Invalid:
    problems = [
        FieldProblem(prefix + ".".join(str(part) for part in error["loc"]) or "body", error["msg"])
        for error in exc.errors(include_url=False)
    ]
    summary = "; ".join(f"{p.field}: {p.message}" for p in problems[:3])
    return Invalid(f"The request is invalid: {summary}.", details=problems)
