"""Parsing and validating the contract's ``style`` JSON (section 5) into a ``Style``.

Every part is optional and null means "default". Unset corner colours follow the dots: a
``corner_squares`` or ``corner_dots`` part that gives neither ``color`` nor ``gradient``
takes the dots' fill, so ``{"dots": {"color": "#c00"}}`` gives an all-red code.
"""

from __future__ import annotations

from collections.abc import Mapping

from render.colors import parse_hex
from render.drawers import shape_names
from render.errors import Issues
from render.fields import describe, read_bool, read_choice, read_number, read_object
from render.guard import check_contrast
from render.logo import LogoProblem, decode_logo
from render.spec import (
    BLACK,
    WHITE,
    Background,
    Color,
    Fill,
    Gradient,
    GradientStop,
    Logo,
    LogoKind,
    PartStyle,
    Style,
)

STYLE_KEYS = ("dots", "corner_squares", "corner_dots", "background", "logo")
PART_KEYS = ("shape", "color", "gradient")
MAX_STOPS = 16


def parse_style(raw: Mapping[str, object] | None) -> Style:
    """Validate a style JSON object; raises RenderError listing every bad field."""
    issues = Issues()
    style = read_style(raw, issues)
    issues.raise_if_any()
    check_contrast(style)
    return style


def read_style(raw: object, issues: Issues) -> Style:
    obj = read_object(raw, "style", STYLE_KEYS, issues)
    if obj is None:
        return Style()
    dots = _part(obj.get("dots"), "dots", issues, None)
    return Style(
        dots=dots,
        corner_squares=_part(obj.get("corner_squares"), "corner_squares", issues, dots.fill),
        corner_dots=_part(obj.get("corner_dots"), "corner_dots", issues, dots.fill),
        background=_background(obj.get("background"), issues),
        logo=_logo(obj.get("logo"), issues),
    )


def _part(raw: object, name: str, issues: Issues, inherit: Fill | None) -> PartStyle:
    path = f"style.{name}"
    obj = read_object(raw, path, PART_KEYS, issues)
    if obj is None:
        return PartStyle(fill=inherit or Fill())
    shape = "square"
    if obj.get("shape") is not None:
        shape = read_choice(obj["shape"], f"{path}.shape", shape_names(name), issues) or shape
    if inherit is not None and obj.get("color") is None and obj.get("gradient") is None:
        return PartStyle(shape, inherit)
    color = _color(obj.get("color"), f"{path}.color", issues) or BLACK
    return PartStyle(shape, Fill(color, _gradient(obj.get("gradient"), f"{path}.gradient", issues)))


def _color(raw: object, path: str, issues: Issues) -> Color | None:
    if raw is None:
        return None
    color = parse_hex(raw)
    if color is None:
        issues.add(path, f"{path} is {describe(raw)}; expected a colour like #1a1a1a or #fff.")
    return color


def _background(raw: object, issues: Issues) -> Background:
    obj = read_object(raw, "style.background", ("color", "gradient"), issues)
    if obj is None:
        return Background()
    gradient = _gradient(obj.get("gradient"), "style.background.gradient", issues)
    raw_color = obj.get("color")
    if raw_color == "transparent":
        return Background(None, gradient)
    color = parse_hex(raw_color) if raw_color is not None else WHITE
    if color is None:
        expected = "expected a colour like #ffffff, or transparent"
        issues.add(
            "style.background.color",
            f"style.background.color is {describe(raw_color)}; {expected}.",
        )
    return Background(color or WHITE, gradient)


def _gradient(raw: object, path: str, issues: Issues) -> Gradient | None:
    obj = read_object(raw, path, ("type", "rotation", "stops"), issues)
    if obj is None:
        return None
    kind = read_choice(obj.get("type", "linear"), f"{path}.type", ("linear", "radial"), issues)
    rotation = read_number(obj.get("rotation", 0), f"{path}.rotation", issues, -3600, 3600)
    stops = _stops(obj.get("stops"), f"{path}.stops", issues)
    if kind is None or rotation is None or stops is None:
        return None
    return Gradient("radial" if kind == "radial" else "linear", rotation, stops)


def _stops(raw: object, path: str, issues: Issues) -> tuple[GradientStop, ...] | None:
    if not isinstance(raw, list | tuple):
        issues.add(path, f"{path} is {describe(raw)}; expected a list of 2 to {MAX_STOPS} stops.")
        return None
    stops = [_stop(item, f"{path}[{i}]", issues) for i, item in enumerate(raw)]
    if not 2 <= len(raw) <= MAX_STOPS:
        issues.add(path, f"{path} has {len(raw)} stops; expected 2 to {MAX_STOPS}.")
        return None
    return tuple(stop for stop in stops if stop is not None) if all(stops) else None


def _stop(raw: object, path: str, issues: Issues) -> GradientStop | None:
    obj = read_object(raw, path, ("offset", "color"), issues)
    if obj is None:
        if raw is None:
            issues.add(path, f"{path} is null; expected a stop object.")
        return None
    offset = read_number(obj.get("offset"), f"{path}.offset", issues, 0, 1)
    color = _color(obj.get("color"), f"{path}.color", issues)
    if color is None and obj.get("color") is None:
        issues.add(f"{path}.color", f"{path}.color is missing; expected a colour like #000000.")
    return GradientStop(offset, color) if offset is not None and color is not None else None


def _logo(raw: object, issues: Issues) -> Logo | None:
    keys = ("image", "size", "margin", "hide_background_dots")
    obj = read_object(raw, "style.logo", keys, issues)
    if obj is None:
        return None
    image = _logo_image(obj.get("image"), issues)
    size = read_number(obj.get("size", 0.25), "style.logo.size", issues, 0, 0.5, open_low=True)
    margin = read_number(obj.get("margin", 1), "style.logo.margin", issues, 0, 16)
    hide = read_bool(
        obj.get("hide_background_dots", True), "style.logo.hide_background_dots", issues
    )
    if image is None or size is None or margin is None or hide is None:
        return None
    return Logo(image[0], image[1], size, margin, hide)


def _logo_image(raw: object, issues: Issues) -> tuple[bytes, LogoKind] | None:
    path = "style.logo.image"
    if not isinstance(raw, str) or not raw:
        issues.add(path, f"{path} is {describe(raw)}; expected a base64 PNG, JPEG or SVG image.")
        return None
    try:
        return decode_logo(raw)
    except LogoProblem as problem:
        issues.add(path, f"{path} {problem}; expected a base64 PNG, JPEG or SVG image.")
        return None
