"""GenerateQrInput: the REST generate body (CONTRACT §5) as typed GraphQL inputs.

Shapes and colors stay strings so the renderer, the one owner of those lists and rules,
refuses bad values with the same codes and field paths as REST. The input is turned into
the REST JSON shape (snake_case, unset parts left out) and checked by the very body model
the REST surface uses, so a bad request gets the same `validation_error` details
(`style.dots.color`, `size`, ...) on both surfaces.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry

from core.generate_input import GenerateBody, validate
from core.qrcodes import GenerateSpec
from schema.qr_types import ErrorCorrection, ImageFormat, QrType


@strawberry.enum
class GradientType(Enum):
    LINEAR = "linear"
    RADIAL = "radial"


@strawberry.input
class GradientStopInput:
    offset: float = strawberry.field(description="0..1")
    color: str = strawberry.field(description="#rrggbb")


@strawberry.input
class GradientInput:
    type: GradientType
    stops: list[GradientStopInput]
    rotation: float | None = strawberry.UNSET


@strawberry.input
class DotsStyleInput:
    shape: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="square | rounded | dots | classy | classy-rounded | extra-rounded",
    )
    color: str | None = strawberry.UNSET
    gradient: GradientInput | None = strawberry.UNSET


@strawberry.input
class CornerSquaresStyleInput:
    shape: str | None = strawberry.field(
        default=strawberry.UNSET, description="square | dot | extra-rounded"
    )
    color: str | None = strawberry.UNSET
    gradient: GradientInput | None = strawberry.UNSET


@strawberry.input
class CornerDotsStyleInput:
    shape: str | None = strawberry.field(default=strawberry.UNSET, description="square | dot")
    color: str | None = strawberry.UNSET
    gradient: GradientInput | None = strawberry.UNSET


@strawberry.input
class BackgroundStyleInput:
    color: str | None = strawberry.field(
        default=strawberry.UNSET, description="#rrggbb or transparent"
    )
    gradient: GradientInput | None = strawberry.UNSET


@strawberry.input
class LogoInput:
    image: str = strawberry.field(description="base64 PNG, JPEG or SVG")
    size: float | None = strawberry.UNSET
    margin: int | None = strawberry.UNSET
    hide_background_dots: bool | None = strawberry.UNSET


@strawberry.input(description="Every part is optional; what is left out takes the default.")
class StyleInput:
    dots: DotsStyleInput | None = strawberry.UNSET
    corner_squares: CornerSquaresStyleInput | None = strawberry.UNSET
    corner_dots: CornerDotsStyleInput | None = strawberry.UNSET
    background: BackgroundStyleInput | None = strawberry.UNSET
    logo: LogoInput | None = strawberry.UNSET


@strawberry.input(description="The REST generate body (POST /qr/generate) in camelCase.")
class GenerateQrInput:
    data: str = strawberry.field(
        description="static: encoded as is; dynamic: the destination (http/https only)"
    )
    type: QrType = QrType.STATIC
    format: ImageFormat = ImageFormat.PNG
    size: int = strawberry.field(default=512, description="pixels, 64..4096")
    margin: int = strawberry.field(default=4, description="quiet zone in modules, 0..16")
    error_correction: ErrorCorrection = ErrorCorrection.M
    name: str | None = None
    style: StyleInput | None = strawberry.UNSET


def plain(value: object) -> Any:
    """An input value as the REST JSON would carry it; unset fields are left out."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: plain(getattr(value, field.name))
            for field in dataclasses.fields(value)
            # Unset and null both mean "not given": the REST default applies.
            if getattr(value, field.name) not in (strawberry.UNSET, None)
        }
    return value


def to_spec(value: GenerateQrInput, prefix: str = "") -> GenerateSpec:
    return validate(GenerateBody, plain(value), prefix=prefix).to_spec()


def item_spec(index: int, value: GenerateQrInput) -> GenerateSpec:
    return to_spec(value, prefix=f"items.{index}.")
