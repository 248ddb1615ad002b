"""The generate request as declared models (pydantic), shared by REST and GraphQL.

They refuse what is structurally wrong (types, unknown fields, enums, ranges) with the
field path in `details`, and feed /openapi.json. Semantic checks (color syntax, contrast,
logo size, URL safety) belong to the services and the renderer.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import FieldProblem, Invalid
from core.link_input import LinkFields
from core.qrcodes import GenerateSpec

Model = TypeVar("Model", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class GradientStop(Strict):
    offset: float
    color: str


class Gradient(Strict):
    type: Literal["linear", "radial"]
    rotation: float = 0
    stops: list[GradientStop]


class DotsStyle(Strict):
    shape: Literal["square", "rounded", "dots", "classy", "classy-rounded", "extra-rounded"] = (
        "square"
    )
    color: str = "#000000"
    gradient: Gradient | None = None


class CornerSquaresStyle(Strict):
    shape: Literal["square", "dot", "extra-rounded"] = "square"
    color: str = "#000000"
    gradient: Gradient | None = None


class CornerDotsStyle(Strict):
    shape: Literal["square", "dot"] = "square"
    color: str = "#000000"
    gradient: Gradient | None = None


class BackgroundStyle(Strict):
    color: str = "#ffffff"
    gradient: Gradient | None = None


class LogoStyle(Strict):
    image: str = Field(description="base64 PNG, JPEG or SVG")
    size: float = 0.25
    margin: int = 1
    hide_background_dots: bool = True


class Style(Strict):
    dots: DotsStyle | None = None
    corner_squares: CornerSquaresStyle | None = None
    corner_dots: CornerDotsStyle | None = None
    background: BackgroundStyle | None = None
    logo: LogoStyle | None = None


class GenerateBody(LinkFields):
    """The generate request; dynamic codes may also carry the link options and a domain."""

    type: Literal["static", "dynamic"] = "static"
    data: str
    format: Literal["png", "svg"] = "png"
    size: int = Field(512, ge=64, le=4096)
    margin: int = Field(4, ge=0, le=16)
    error_correction: Literal["L", "M", "Q", "H"] = "M"
    name: str | None = None  # its length is the service's rule (MAX_NAME)
    style: Style | None = None
    domain: str | None = Field(None, description="a verified custom domain of the account")

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
            link=self.link_changes(),
            domain=self.domain,
        )


def validate(model: type[Model], value: Any, prefix: str = "") -> Model:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise _invalid(exc, prefix) from None


def _invalid(exc: ValidationError, prefix: str) -> Invalid:
    problems = [
        FieldProblem(prefix + ".".join(str(part) for part in error["loc"]) or "body", error["msg"])
        for error in exc.errors(include_url=False)
    ]
    summary = "; ".join(f"{p.field}: {p.message}" for p in problems[:3])
    return Invalid(f"The request is invalid: {summary}.", details=problems)
