"""GenerateQrInput: the REST generate body (CONTRACT §5) as typed GraphQL inputs.

Shapes and colors stay strings so the renderer, the one owner of those lists and rules,
refuses bad values with the same codes and field paths as REST. The input is turned into
the REST JSON shape (snake_case, unset parts left out) and checked by the very body model
the REST surface uses, so a bad request gets the same `validation_error` details
(`style.dots.color`, `size`, ...) on both surfaces.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from core.generate_input import GenerateBody, validate
from core.link_input import UpdateBody
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


@strawberry.input
class UtmInput:
    source: str | None = strawberry.UNSET
    medium: str | None = strawberry.UNSET
    campaign: str | None = strawberry.UNSET
    term: str | None = strawberry.UNSET
    content: str | None = strawberry.UNSET


@strawberry.input(description="Local time of day; `to` before `from` wraps over midnight.")
class TimeWindowInput:
    from_: str | None = strawberry.field(name="from", default=strawberry.UNSET)
    to: str | None = strawberry.UNSET
    days: list[str] | None = strawberry.field(default=strawberry.UNSET, description="mon..sun")
    tz: str | None = strawberry.field(default=strawberry.UNSET, description="IANA, default UTC")


@strawberry.input
class RuleConditionsInput:
    country: list[str] | None = strawberry.UNSET
    device: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="mobile | tablet | desktop | bot | unknown"
    )
    os: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="android | ios | windows | macos | linux | chromeos | other",
    )
    language: list[str] | None = strawberry.UNSET
    time: TimeWindowInput | None = strawberry.UNSET


@strawberry.input
class LinkRuleInput:
    if_: RuleConditionsInput = strawberry.field(name="if")
    destination: str


@strawberry.input
class SplitVariantInput:
    destination: str
    weight: int


@strawberry.input(description="Dynamic link options (docs/links.md); see generateQr and updateQr.")
class LinkOptionsInput:
    paused: bool | None = strawberry.UNSET
    expires_at: datetime | None = strawberry.UNSET
    max_scans: int | None = strawberry.UNSET
    password: str | None = strawberry.field(default=strawberry.UNSET, description="write-only")
    forward_query: bool | None = strawberry.UNSET
    utm: UtmInput | None = strawberry.UNSET
    rules: list[LinkRuleInput] | None = strawberry.UNSET
    split: list[SplitVariantInput] | None = strawberry.UNSET


@strawberry.input(description="The REST generate body (POST /qr/generate) in camelCase.")
class GenerateQrInput(LinkOptionsInput):
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
    # Dynamic codes only (docs/links.md), with the link options.
    domain: str | None = strawberry.UNSET


def plain(value: object) -> Any:
    """An input value as the REST JSON would carry it; unset fields are left out."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            # `if_`, `from_`: Python's escape for a keyword; REST spells the keyword.
            field.name.rstrip("_"): plain(getattr(value, field.name))
            for field in dataclasses.fields(value)
            # Unset and null both mean "not given": the REST default applies.
            if getattr(value, field.name) not in (strawberry.UNSET, None)
        }
    return value


def to_spec(value: GenerateQrInput, prefix: str = "") -> GenerateSpec:
    return validate(GenerateBody, plain(value), prefix=prefix).to_spec()


def item_spec(index: int, value: GenerateQrInput) -> GenerateSpec:
    return to_spec(value, prefix=f"items.{index}.")


@strawberry.input(
    description="PATCH /qr/{id} in camelCase: only what is given changes; null removes."
)
class UpdateQrInput(LinkOptionsInput):
    destination: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET


def update_changes(value: UpdateQrInput) -> dict[str, Any]:
    """The REST PATCH body for this input, checked by the same model: an explicit null is
    kept (it removes), an unset field is left out (it stays)."""
    body = {
        field.name: plain(getattr(value, field.name))
        for field in dataclasses.fields(value)
        if getattr(value, field.name) is not strawberry.UNSET
    }
    return validate(UpdateBody, body).changes()
