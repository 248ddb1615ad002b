"""SVG path data for the shared geometry, written with relative commands.

Relative commands make the path of a module variant independent of where the module is,
so each variant is traced once and reused as ``M{x} {y}`` + template for every module.
Shapes are traced clockwise (y down) except quarter discs, which never overlap anything.
"""

from __future__ import annotations

from functools import lru_cache

from render.drawers import Drawer
from render.geometry import Box, Disc, Quarter, Ring, Shape


def fmt(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


class Pen:
    """Emits relative path commands while tracking the absolute current point."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.x = self.y = 0.0
        self.start = (0.0, 0.0)

    def move_to(self, x: float, y: float) -> None:
        self.parts.append(f"m{fmt(x - self.x)} {fmt(y - self.y)}")
        self.x, self.y = x, y
        self.start = (x, y)

    def line_to(self, x: float, y: float) -> None:
        dx, dy = x - self.x, y - self.y
        if dy == 0 and dx != 0:
            self.parts.append(f"h{fmt(dx)}")
        elif dx == 0 and dy != 0:
            self.parts.append(f"v{fmt(dy)}")
        elif dx or dy:
            self.parts.append(f"l{fmt(dx)} {fmt(dy)}")
        self.x, self.y = x, y

    def arc_to(self, r: float, x: float, y: float, sweep: int, large: int = 0) -> None:
        dx, dy = fmt(x - self.x), fmt(y - self.y)
        self.parts.append(f"a{fmt(r)} {fmt(r)} 0 {large} {sweep} {dx} {dy}")
        self.x, self.y = x, y

    def close(self) -> None:
        self.parts.append("z")
        self.x, self.y = self.start

    def text(self) -> str:
        return "".join(self.parts)


def trace(pen: Pen, shape: Shape) -> None:
    if isinstance(shape, Ring):
        trace(pen, shape.outer)
        trace(pen, shape.inner)
    elif isinstance(shape, Disc):
        cx, cy, r = shape.cx, shape.cy, shape.r
        pen.move_to(cx - r, cy)
        pen.arc_to(r, cx + r, cy, sweep=1, large=1)
        pen.arc_to(r, cx - r, cy, sweep=1, large=1)
        pen.close()
    elif isinstance(shape, Quarter):
        cx, cy, r = shape.cx, shape.cy, shape.r
        pen.move_to(cx, cy)
        pen.line_to(cx + shape.dx * r, cy)
        pen.arc_to(r, cx, cy + shape.dy * r, sweep=1 if shape.dx * shape.dy > 0 else 0)
        pen.close()
    else:
        _trace_box(pen, shape)


def _trace_box(pen: Pen, box: Box) -> None:
    tl, tr, br, bl = (box.radius if flag else 0.0 for flag in box.corners)
    x0, y0, x1, y1 = box.x, box.y, box.x + box.w, box.y + box.h
    pen.move_to(x0 + tl, y0)
    pen.line_to(x1 - tr, y0)
    if tr:
        pen.arc_to(tr, x1, y0 + tr, sweep=1)
    pen.line_to(x1, y1 - br)
    if br:
        pen.arc_to(br, x1 - br, y1, sweep=1)
    pen.line_to(x0 + bl, y1)
    if bl:
        pen.arc_to(bl, x0, y1 - bl, sweep=1)
    pen.line_to(x0, y0 + tl)
    if tl:
        pen.arc_to(tl, x0 + tl, y0, sweep=1)
    pen.close()


def shapes_path(shapes: tuple[Shape, ...]) -> str:
    pen = Pen()
    for shape in shapes:
        trace(pen, shape)
    return pen.text()


@lru_cache(maxsize=32)
def templates(drawer: Drawer, variants: int) -> tuple[str, ...]:
    """Relative path of each neighbour variant, to be placed after ``M{x} {y}``."""
    return tuple(shapes_path(drawer.shapes(bits)) for bits in range(variants))
