"""Vector shapes in module units, shared by the PNG rasterizer and the SVG writer.

Both back ends consume exactly these primitives, so the two formats draw the same geometry.
The y axis points down (as in images and SVG).
"""

from __future__ import annotations

from dataclasses import dataclass

Corners = tuple[bool, bool, bool, bool]  # top-left, top-right, bottom-right, bottom-left
ALL_CORNERS: Corners = (True, True, True, True)


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned rectangle; ``corners`` flags which corners get ``radius``."""

    x: float
    y: float
    w: float
    h: float
    radius: float = 0.0
    corners: Corners = ALL_CORNERS

    @property
    def rounded(self) -> bool:
        return self.radius > 0 and any(self.corners)


@dataclass(frozen=True, slots=True)
class Disc:
    cx: float
    cy: float
    r: float


@dataclass(frozen=True, slots=True)
class Quarter:
    """The quarter of a disc centred at (cx, cy) lying towards (dx, dy), each +-1."""

    cx: float
    cy: float
    r: float
    dx: int
    dy: int


@dataclass(frozen=True, slots=True)
class Ring:
    """``outer`` minus ``inner`` (drawn with the even-odd rule in SVG)."""

    outer: Box | Disc
    inner: Box | Disc


Shape = Box | Disc | Quarter | Ring
UNIT = Box(0, 0, 1, 1)
