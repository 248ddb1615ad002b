"""Gradient geometry and gradient bitmaps.

The SVG writer and the PNG painter both take the gradient's end points from here, so a
gradient looks the same in both formats. A linear gradient runs through the centre of its
box at ``rotation`` degrees (0 = left to right, 90 = top to bottom) and is just long enough
for the box corners to reach offsets 0 and 1. A radial gradient is centred on the box and
reaches offset 1 at its corners; rotation does not change it. Outside the stops the end
colours continue (SVG's default ``spreadMethod="pad"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from render.spec import Gradient


@dataclass(frozen=True, slots=True)
class Region:
    """An axis-aligned box in image module coordinates."""

    x: float
    y: float
    w: float
    h: float


def linear_axis(region: Region, rotation: float) -> tuple[float, float, float, float]:
    angle = math.radians(rotation)
    dx, dy = math.cos(angle), math.sin(angle)
    half = (region.w * abs(dx) + region.h * abs(dy)) / 2
    cx, cy = region.x + region.w / 2, region.y + region.h / 2
    return (cx - half * dx, cy - half * dy, cx + half * dx, cy + half * dy)


def radial_circle(region: Region) -> tuple[float, float, float]:
    return (region.x + region.w / 2, region.y + region.h / 2, math.hypot(region.w, region.h) / 2)


def gradient_image(
    gradient: Gradient, region: Region, scale: float, box: tuple[int, ...]
) -> Image.Image:
    """RGB bitmap of the gradient over pixel box (x0, y0, x1, y1), ``scale`` px per module."""
    x0, y0, x1, y1 = box
    xs = (np.arange(x0, x1, dtype=np.float32) + 0.5) / scale
    ys = (np.arange(y0, y1, dtype=np.float32) + 0.5) / scale
    t = _parameter(gradient, region, xs[None, :], ys[:, None])
    # 256 steps are all an 8-bit channel can show: look colours up instead of
    # interpolating every pixel.
    index = (t * 255 + 0.5).astype(np.uint8)
    return Image.fromarray(_palette(gradient)[index], "RGB")


def _palette(gradient: Gradient) -> npt.NDArray[np.uint8]:
    stops = gradient.sorted_stops()
    offsets = [stop.offset for stop in stops]
    samples = np.linspace(0.0, 1.0, 256)
    channels = [
        np.interp(samples, offsets, [stop.color.rgb[c] for stop in stops]) for c in range(3)
    ]
    return np.rint(np.stack(channels, axis=1)).astype(np.uint8)


def _parameter(
    gradient: Gradient, region: Region, xs: npt.NDArray[np.float32], ys: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    if gradient.type == "radial":
        cx, cy, r = radial_circle(region)
        t = np.hypot(xs - cx, ys - cy) / r
    else:
        ax, ay, bx, by = linear_axis(region, gradient.rotation)
        length_sq = (bx - ax) ** 2 + (by - ay) ** 2
        t = ((xs - ax) * (bx - ax) + (ys - ay) * (by - ay)) / length_sq
    clipped: npt.NDArray[np.float32] = np.clip(t, 0.0, 1.0).astype(np.float32)
    return clipped
