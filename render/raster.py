"""Exact point-in-shape rasterization of the shared geometry into binary stamps.

Pixel centres are tested analytically, so every module of one variant gets an identical
stamp; the PNG painter tiles stamps at an integer supersampled module size and box-filters
the result down to the requested size (that filter is the antialiasing).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from render.drawers import BOTTOM, LEFT, RIGHT, TOP, Drawer
from render.geometry import Box, Disc, Quarter, Ring, Shape

Mask = npt.NDArray[np.bool_]
Coords = npt.NDArray[np.float64]
VARIANTS = 16  # four neighbour bits


def contains(shape: Shape, x: Coords, y: Coords) -> Mask:
    if isinstance(shape, Ring):
        return contains(shape.outer, x, y) & ~contains(shape.inner, x, y)
    if isinstance(shape, Disc):
        return np.asarray((x - shape.cx) ** 2 + (y - shape.cy) ** 2 <= shape.r**2)
    if isinstance(shape, Quarter):
        ahead = ((x - shape.cx) * shape.dx >= 0) & ((y - shape.cy) * shape.dy >= 0)
        return ahead & ((x - shape.cx) ** 2 + (y - shape.cy) ** 2 <= shape.r**2)
    return _in_box(shape, x, y)


def _in_box(box: Box, x: Coords, y: Coords) -> Mask:
    inside = (x >= box.x) & (x < box.x + box.w) & (y >= box.y) & (y < box.y + box.h)
    r = box.radius
    centres = (
        (box.x + r, box.y + r, -1, -1),
        (box.x + box.w - r, box.y + r, 1, -1),
        (box.x + box.w - r, box.y + box.h - r, 1, 1),
        (box.x + r, box.y + box.h - r, -1, 1),
    )
    for flag, (cx, cy, sx, sy) in zip(box.corners, centres, strict=True):
        if flag and r > 0:
            in_corner = ((x - cx) * sx > 0) & ((y - cy) * sy > 0)
            inside &= ~in_corner | ((x - cx) ** 2 + (y - cy) ** 2 <= r * r)
    return np.asarray(inside)


def stamp(shapes: tuple[Shape, ...], extent: int, k: int) -> npt.NDArray[np.uint8]:
    """0/255 bitmap of ``shapes`` over an ``extent`` x ``extent`` module box, k px/module."""
    centres = (np.arange(extent * k, dtype=np.float64) + 0.5) / k
    x, y = centres[None, :], centres[:, None]
    mask = np.zeros((extent * k, extent * k), dtype=bool)
    for shape in shapes:
        mask |= contains(shape, x, y)
    return mask.astype(np.uint8) * 255


@lru_cache(maxsize=32)
def dot_stamps(drawer: Drawer, k: int) -> npt.NDArray[np.uint8]:
    """(17, k, k): index 0 is an empty module, 1 + neighbour bits a dark one."""
    empty = np.zeros((1, k, k), dtype=np.uint8)
    variants = [stamp(drawer.shapes(bits), 1, k) for bits in range(VARIANTS)]
    return np.concatenate([empty, np.stack(variants)])


@lru_cache(maxsize=32)
def corner_stamp(drawer: Drawer, k: int) -> npt.NDArray[np.uint8]:
    return stamp(drawer.shapes(0), 7, k)


def neighbour_bits(dark: Mask) -> npt.NDArray[np.uint8]:
    """Per module, which of its four neighbours are dark (outside the symbol: light)."""
    padded = np.pad(dark, 1)
    bits = np.zeros(dark.shape, dtype=np.uint8)
    bits |= padded[1:-1, :-2].astype(np.uint8) * LEFT
    bits |= padded[1:-1, 2:].astype(np.uint8) * RIGHT
    bits |= padded[:-2, 1:-1].astype(np.uint8) * TOP
    bits |= padded[2:, 1:-1].astype(np.uint8) * BOTTOM
    return bits
