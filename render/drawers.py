"""The shape vocabulary: one table from contract names to drawing strategies.

A drawer turns a module (for dots: together with which of its four neighbours are dark)
into shapes. Dot shapes live in a unit square at the origin; corner shapes in the 7x7 box
of a finder pattern. Neighbour-aware drawers follow the qr-code-styling look: a corner is
rounded only where neither adjacent side continues into a dark neighbour, so runs of dark
modules join into smooth connected strokes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from render.geometry import UNIT, Box, Corners, Disc, Quarter, Ring, Shape

LEFT, RIGHT, TOP, BOTTOM = 1, 2, 4, 8
HALF = 0.5


def _open_corners(n: int) -> Corners:
    """Corners whose two adjacent sides have no dark neighbour."""
    left, right, top, bottom = (bool(n & bit) for bit in (LEFT, RIGHT, TOP, BOTTOM))
    return (
        not (left or top),
        not (right or top),
        not (right or bottom),
        not (left or bottom),
    )


class Drawer:
    """Strategy: the shapes for one module (or one finder pattern)."""

    #: The shapes fill whole modules, so a nearest-neighbour upscale draws them exactly.
    grid_aligned = False

    def shapes(self, neighbours: int) -> tuple[Shape, ...]:
        raise NotImplementedError


class Fixed(Drawer):
    """The same shapes whatever the neighbours (squares, circles, finder parts)."""

    def __init__(self, *shapes: Shape, grid_aligned: bool = False) -> None:
        self._shapes = shapes
        self.grid_aligned = grid_aligned

    def shapes(self, neighbours: int) -> tuple[Shape, ...]:
        return self._shapes


class Rounded(Drawer):
    """``rounded``: half-module radius on open corners (a lone module is a circle).
    ``extra-rounded``: an L-bend becomes a full quarter circle."""

    def __init__(self, extra: bool) -> None:
        self.extra = extra

    def shapes(self, neighbours: int) -> tuple[Shape, ...]:
        corners = _open_corners(neighbours)
        if self.extra and sum(corners) == 1:  # exactly one open corner: an L-bend
            return (_quarter_for(corners),)
        return (Box(0, 0, 1, 1, HALF, corners),)


class Classy(Drawer):
    """``classy``: only the top-left and bottom-right corners round, giving a leaf
    slant; ``classy-rounded`` rounds a lone open corner with a full quarter circle."""

    def __init__(self, extra: bool) -> None:
        self.extra = extra

    def shapes(self, neighbours: int) -> tuple[Shape, ...]:
        tl, _, br, _ = _open_corners(neighbours)
        if self.extra and tl != br:
            return (_quarter_for((tl, False, br, False)),)
        return (Box(0, 0, 1, 1, HALF, (tl, False, br, False)),)


def _quarter_for(corners: Corners) -> Quarter:
    """A unit quarter disc whose arc replaces the single rounded corner."""
    _, tr, br, bl = corners
    right, bottom = tr or br, br or bl
    cx, cy = (0.0 if right else 1.0), (0.0 if bottom else 1.0)
    return Quarter(cx, cy, 1.0, 1 if right else -1, 1 if bottom else -1)


def _ring(radius: float) -> Ring:
    return Ring(Box(0, 0, 7, 7, radius), Box(1, 1, 5, 5, max(radius - 1, 0.0)))


DRAWERS: Mapping[str, Mapping[str, Drawer]] = MappingProxyType(
    {
        "dots": {
            "square": Fixed(UNIT, grid_aligned=True),
            "rounded": Rounded(extra=False),
            "dots": Fixed(Disc(HALF, HALF, HALF)),
            "classy": Classy(extra=False),
            "classy-rounded": Classy(extra=True),
            "extra-rounded": Rounded(extra=True),
        },
        "corner_squares": {
            "square": Fixed(_ring(0.0), grid_aligned=True),
            "dot": Fixed(Ring(Disc(3.5, 3.5, 3.5), Disc(3.5, 3.5, 2.5))),
            "extra-rounded": Fixed(_ring(2.5)),
        },
        "corner_dots": {
            "square": Fixed(Box(2, 2, 3, 3), grid_aligned=True),
            "dot": Fixed(Disc(3.5, 3.5, 1.5)),
        },
    }
)


def shape_names(part: str) -> tuple[str, ...]:
    return tuple(DRAWERS[part])
