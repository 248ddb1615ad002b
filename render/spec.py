"""Immutable values passed through the renderer.

Everything is a frozen dataclass of hashable parts (tuples, bytes) so that a whole
``RenderRequest`` can key the render cache and two equal requests render identical bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

GradientType = Literal["linear", "radial"]
LogoKind = Literal["png", "jpeg", "svg"]
ImageFormat = Literal["png", "svg"]
EcLevel = Literal["L", "M", "Q", "H"]


@dataclass(frozen=True, slots=True)
class Color:
    r: int
    g: int
    b: int

    @property
    def hex(self) -> str:
        return f"#{self.r:02x}{self.g:02x}{self.b:02x}"

    @property
    def rgb(self) -> tuple[int, int, int]:
        return (self.r, self.g, self.b)


BLACK = Color(0, 0, 0)
WHITE = Color(255, 255, 255)


@dataclass(frozen=True, slots=True)
class GradientStop:
    offset: float
    color: Color


@dataclass(frozen=True, slots=True)
class Gradient:
    type: GradientType
    rotation: float
    stops: tuple[GradientStop, ...]

    def sorted_stops(self) -> tuple[GradientStop, ...]:
        return tuple(sorted(self.stops, key=lambda stop: stop.offset))


@dataclass(frozen=True, slots=True)
class Fill:
    """A solid colour, or a gradient that replaces it when present."""

    color: Color = BLACK
    gradient: Gradient | None = None

    def colors(self) -> tuple[Color, ...]:
        if self.gradient is None:
            return (self.color,)
        return tuple(stop.color for stop in self.gradient.stops)


@dataclass(frozen=True, slots=True)
class PartStyle:
    """Shape and fill of one kind of dark element (dots, corner squares or corner dots)."""

    shape: str = "square"
    fill: Fill = field(default_factory=Fill)


@dataclass(frozen=True, slots=True)
class Background:
    """``color`` None means transparent (only meaningful without a gradient)."""

    color: Color | None = WHITE
    gradient: Gradient | None = None


@dataclass(frozen=True, slots=True)
class Logo:
    image: bytes
    kind: LogoKind
    size: float = 0.25
    margin: float = 0.0
    hide_background_dots: bool = True


@dataclass(frozen=True, slots=True)
class Style:
    dots: PartStyle = field(default_factory=PartStyle)
    corner_squares: PartStyle = field(default_factory=PartStyle)
    corner_dots: PartStyle = field(default_factory=PartStyle)
    background: Background = field(default_factory=Background)
    logo: Logo | None = None

    def dark_parts(self) -> tuple[tuple[str, PartStyle], ...]:
        """The dark elements by contract name, in drawing order."""
        return (
            ("dots", self.dots),
            ("corner_squares", self.corner_squares),
            ("corner_dots", self.corner_dots),
        )


@dataclass(frozen=True, slots=True)
class RenderRequest:
    data: str
    format: ImageFormat = "png"
    size: int = 512
    margin: int = 4
    error_correction: EcLevel = "M"
    style: Style = field(default_factory=Style)

    @property
    def effective_ec(self) -> EcLevel:
        """A logo hides modules, so it always gets the strongest error correction."""
        return "H" if self.style.logo is not None else self.error_correction


@dataclass(frozen=True, slots=True)
class RenderedImage:
    content: bytes
    mime_type: str
    format: str
    error_correction: str
    version: int
    modules: int
