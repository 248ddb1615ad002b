"""The canonical JSON form of a ``Style``: every part explicit, so that stored snapshots
re-render identically even if defaults change, and ``parse_style`` reads it back equal."""

from __future__ import annotations

import base64

from render.spec import Fill, Gradient, Logo, PartStyle, Style


def style_to_json(style: Style) -> dict[str, object]:
    bg = style.background
    return {
        "dots": _part(style.dots),
        "corner_squares": _part(style.corner_squares),
        "corner_dots": _part(style.corner_dots),
        "background": {
            "color": bg.color.hex if bg.color is not None else "transparent",
            "gradient": _gradient(bg.gradient),
        },
        "logo": _logo(style.logo),
    }


def _part(part: PartStyle) -> dict[str, object]:
    return {"shape": part.shape, **_fill(part.fill)}


def _fill(fill: Fill) -> dict[str, object]:
    return {"color": fill.color.hex, "gradient": _gradient(fill.gradient)}


def _gradient(gradient: Gradient | None) -> dict[str, object] | None:
    if gradient is None:
        return None
    stops = [{"offset": stop.offset, "color": stop.color.hex} for stop in gradient.stops]
    return {"type": gradient.type, "rotation": gradient.rotation, "stops": stops}


def _logo(logo: Logo | None) -> dict[str, object] | None:
    if logo is None:
        return None
    return {
        "image": base64.b64encode(logo.image).decode("ascii"),
        "size": logo.size,
        "margin": logo.margin,
        "hide_background_dots": logo.hide_background_dots,
    }
