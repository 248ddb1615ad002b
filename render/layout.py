"""Where things go on the symbol: function patterns, finder boxes and the logo area.

Coordinates are in modules. "Symbol" coordinates start at the first module of the code;
"image" coordinates add the quiet zone (``margin``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from render.spec import Logo

FINDER = 7
Mask = npt.NDArray[np.bool_]


def finder_origins(n: int) -> tuple[tuple[int, int], ...]:
    """(row, col) of the top-left module of the three 7x7 finder patterns."""
    return ((0, 0), (0, n - FINDER), (n - FINDER, 0))


def alignment_centres(version: int) -> tuple[int, ...]:
    """Row/column coordinates of alignment pattern centres (ISO 18004 Annex E)."""
    if version == 1:
        return ()
    count = version // 7 + 2
    n = 17 + 4 * version
    step = 26 if version == 32 else (version * 4 + count * 2 + 1) // (count * 2 - 2) * 2
    return (6, *sorted(n - 7 - i * step for i in range(count - 1)))


@lru_cache(maxsize=64)
def function_mask(version: int, keep_centre_alignment: bool = True) -> Mask:
    """Modules that are not data: finders with separators and format info, timing,
    version info and alignment patterns. Read-only (cached)."""
    n = 17 + 4 * version
    mask = np.zeros((n, n), dtype=bool)
    mask[:9, :9] = mask[:9, n - 8 :] = mask[n - 8 :, :9] = True
    mask[6, :] = mask[:, 6] = True
    if version >= 7:
        mask[:6, n - 11 : n - 8] = mask[n - 11 : n - 8, :6] = True
    _mark_alignment(mask, version, keep_centre_alignment)
    mask.setflags(write=False)
    return mask


def _mark_alignment(mask: Mask, version: int, keep_centre: bool) -> None:
    centres = alignment_centres(version)
    # With an odd count the middle pattern sits at (or 2 modules from) the centre.
    middle = centres[len(centres) // 2] if len(centres) % 2 else -1
    for row in centres:
        for col in centres:
            if _overlaps_finder(row, col, len(mask)):
                continue
            if not keep_centre and row == col == middle:
                continue
            mask[row - 2 : row + 3, col - 2 : col + 3] = True


def _overlaps_finder(row: int, col: int, n: int) -> bool:
    near, far = row < 9, row > n - 10
    return (near and col < 9) or (near and col > n - 10) or (far and col < 9)


@dataclass(frozen=True, slots=True)
class LogoArea:
    """The logo's side (modules, may be fractional) and the odd-sized square of modules
    starting at ``start`` (symbol coordinates) that it covers with its margin."""

    side: float
    start: int
    cleared: int

    @property
    def stop(self) -> int:
        return self.start + self.cleared


def odd_ceil(value: float) -> int:
    """Smallest odd integer >= value: an odd square centres exactly on the odd-sized grid."""
    k = int(np.ceil(value - 1e-9))
    return k if k % 2 else k + 1


def logo_area(logo: Logo, n: int) -> LogoArea:
    side = logo.size * n
    pad = 2 * logo.margin if logo.hide_background_dots else 0.0
    cleared = min(odd_ceil(side + pad), n)
    return LogoArea(side, (n - cleared) // 2, cleared)
