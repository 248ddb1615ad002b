"""Everything decided before drawing: the symbol, its pixel scale, what each layer covers.

Making a plan runs every check that needs the encoded symbol (capacity, pixel density,
logo bound), so ``parse_request`` can refuse early and ``render`` stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from render.encode import Symbol, encode
from render.errors import FieldIssue, RenderError
from render.fills import Region
from render.guard import check_contrast, check_logo
from render.layout import FINDER, LogoArea, Mask, finder_origins
from render.spec import EcLevel, RenderRequest, Style


@lru_cache(maxsize=64)
def encode_cached(data: str, ec_level: EcLevel) -> Symbol:
    """parse_request and render encode the same text back to back; keep the result."""
    symbol = encode(data, ec_level)
    symbol.dark.setflags(write=False)
    return symbol


@dataclass(frozen=True, eq=False)
class Plan:
    request: RenderRequest
    symbol: Symbol
    logo: LogoArea | None

    @property
    def style(self) -> Style:
        return self.request.style

    @property
    def n(self) -> int:
        return self.symbol.n

    @property
    def total(self) -> int:
        """Modules across the whole image, quiet zone included."""
        return self.symbol.n + 2 * self.request.margin

    @property
    def scale(self) -> float:
        """Pixels per module."""
        return self.request.size / self.total

    def finders(self) -> tuple[tuple[int, int], ...]:
        """Image (x, y) of each finder's top-left module."""
        m = self.request.margin
        return tuple((m + col, m + row) for row, col in finder_origins(self.n))

    @cached_property
    def dots(self) -> Mask:
        """Dark data modules to draw as dots: not finders, not under a hiding logo."""
        dots = self.symbol.dark.copy()
        for row, col in finder_origins(self.n):
            dots[row : row + FINDER, col : col + FINDER] = False
        logo = self.style.logo
        if self.logo is not None and logo is not None and logo.hide_background_dots:
            window = slice(self.logo.start, self.logo.stop)
            dots[window, window] = False
        return dots

    def dots_region(self) -> Region:
        m = self.request.margin
        return Region(m, m, self.n, self.n)


def make_plan(request: RenderRequest) -> Plan:
    check_contrast(request.style)
    symbol = encode_cached(request.data, request.effective_ec)
    total = symbol.n + 2 * request.margin
    if request.size < total:
        message = (
            f"size is {request.size} px, less than one pixel per module: this code is "
            f"{symbol.n} modules wide plus a {request.margin}-module margin on each side, "
            f"so it needs at least {total} px."
        )
        raise RenderError("validation_error", message, (FieldIssue("size", message),))
    logo = request.style.logo
    area = check_logo(symbol, logo) if logo is not None else None
    return Plan(request, symbol, area)
