"""Refuse styles that would not scan: too little contrast, inverted codes, big logos.

Contrast. Every dark colour that is drawn (the solid colour, or each gradient stop, of the
dots, corner squares and corner dots) is paired with every background colour (its solid
colour or each of its stops); each pair needs a WCAG contrast ratio >= 3.0. A transparent
background is judged as white, the most common thing a code is placed on: a transparent
code on a dark page is the caller's choice. Why 3.0: against white it means a dark
reflectance <= 0.30, i.e. the ISO/IEC 15415 symbol-contrast grade A (>= 70 %), which phone
cameras read in poor light. zxing-cpp 3.1 decodes grey-on-white down to 1.25:1 from a
clean 400 px file (measured), so the bound protects cameras and print, not zxing.

Inverted codes (dark element lighter than the background) are refused with
``low_contrast`` even when zxing reads them (it tries inversion): ISO 18004 defines dark
modules on light, and many phone readers (ZXing-based apps, several in-app scanners) do
not try the inverted image.

Logo. Hidden modules are read as errors, so the modules under the logo and its margin may
hold at most 0.30 (level H recovery) x 0.5 (safety: a hidden block also clips the
codewords around its edge, and the code must survive some print/camera damage too) = 15 %
of the data modules. The area may never touch finder patterns, separators, timing, format
or version information, or any alignment pattern except the middle one (versions 7-13,
21-27 and 35-40 put one at, or 2 modules from, the centre, where every centred logo goes;
refusing it would forbid logos on most URL-sized codes at level H). Decoders locate the
bottom-right alignment pattern; the tests decode the largest allowed logo on such codes.
"""

from __future__ import annotations

import numpy as np

from render.colors import contrast_ratio, luminance
from render.encode import Symbol
from render.errors import FieldIssue, RenderError
from render.layout import LogoArea, function_mask, logo_area
from render.spec import WHITE, Color, Fill, Logo, Style

MIN_CONTRAST = 3.0
LOGO_BUDGET = 0.30 * 0.5


def _fill_colors(fill: Fill, path: str) -> list[tuple[str, Color]]:
    if fill.gradient is None:
        return [(f"{path}.color", fill.color)]
    return [
        (f"{path}.gradient.stops[{i}].color", stop.color)
        for i, stop in enumerate(fill.gradient.stops)
    ]


def _background_colors(style: Style) -> list[tuple[str, Color]]:
    bg = style.background
    if bg.gradient is not None:
        return _fill_colors(Fill(WHITE, bg.gradient), "style.background")
    return [("style.background.color", bg.color or WHITE)]


def _dark_colors(style: Style) -> list[tuple[str, Color]]:
    parts = style.dark_parts()
    return [pair for name, part in parts for pair in _fill_colors(part.fill, f"style.{name}")]


def check_contrast(style: Style) -> None:
    issues: dict[str, str] = {}
    for dark_field, dark in _dark_colors(style):
        for bg_field, bg in _background_colors(style):
            problem = _pair_problem(dark_field, dark, bg_field, bg)
            if problem is not None:
                issues.setdefault(dark_field, problem)
                issues.setdefault(bg_field, problem)
    if issues:
        details = [FieldIssue(field, message) for field, message in issues.items()]
        raise RenderError("low_contrast", next(iter(issues.values())), details)


def _pair_problem(dark_field: str, dark: Color, bg_field: str, bg: Color) -> str | None:
    if luminance(dark) > luminance(bg):
        return (
            f"{dark_field} ({dark.hex}) is lighter than {bg_field} ({bg.hex}); inverted "
            "(light-on-dark) codes are refused because many phone scanners cannot read them."
        )
    ratio = contrast_ratio(dark, bg)
    if ratio < MIN_CONTRAST:
        return (
            f"{dark_field} ({dark.hex}) on {bg_field} ({bg.hex}) has a contrast ratio of "
            f"{ratio:.2f}:1; at least {MIN_CONTRAST:.1f}:1 is needed to scan reliably."
        )
    return None


def hidden_modules(symbol: Symbol, area: LogoArea) -> int | None:
    """Data modules under the area, or None when it touches a protected pattern."""
    window = slice(area.start, area.stop)
    if function_mask(symbol.version, False)[window, window].any():
        return None
    return int(area.cleared**2 - function_mask(symbol.version)[window, window].sum())


def logo_budget(symbol: Symbol) -> int:
    data_modules = symbol.n**2 - int(function_mask(symbol.version).sum())
    return int(data_modules * LOGO_BUDGET)


def check_logo(symbol: Symbol, logo: Logo) -> LogoArea:
    area = logo_area(logo, symbol.n)
    hidden = hidden_modules(symbol, area)
    if hidden is not None and hidden <= logo_budget(symbol):
        return area
    allowed = max_logo_size(symbol, logo)
    message = (
        f"style.logo.size {logo.size:g} (with margin {logo.margin:g}) hides too much of this "
        f"version-{symbol.version} code to scan; at most {allowed:.2f} fits here."
    )
    raise RenderError("logo_too_large", message, (FieldIssue("style.logo.size", message),))


def max_logo_size(symbol: Symbol, logo: Logo) -> float:
    """Largest ``size`` (rounded down to 0.01) the guard accepts for this symbol."""
    pad = 2 * logo.margin if logo.hide_background_dots else 0.0
    best = 0.0
    for cleared in range(1, symbol.n + 1, 2):
        area = LogoArea(0.0, (symbol.n - cleared) // 2, cleared)
        hidden = hidden_modules(symbol, area)
        if hidden is None or hidden > logo_budget(symbol):
            break
        best = (cleared - pad) / symbol.n
    return float(np.floor(max(best, 0.0) * 100) / 100)
