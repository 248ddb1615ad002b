"""Every shape combination, fill kind and format must decode to the exact text."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from render import parse_request, render
from render.drawers import DRAWERS
from tests.render.helpers import URL, decode

FILLS: dict[str, dict[str, Any]] = {
    "solid": {"color": "#1a2b3c"},
    "linear": {
        "gradient": {
            "type": "linear",
            "rotation": 45,
            "stops": [{"offset": 0, "color": "#000000"}, {"offset": 1, "color": "#1f3f9f"}],
        }
    },
    "radial": {
        "gradient": {
            "type": "radial",
            "stops": [
                {"offset": 0, "color": "#5a0a2a"},
                {"offset": 0.5, "color": "#0a3a1a"},
                {"offset": 1, "color": "#202020"},
            ],
        }
    },
}

COMBINATIONS = list(
    itertools.product(
        DRAWERS["dots"], DRAWERS["corner_squares"], DRAWERS["corner_dots"], FILLS, ("png", "svg")
    )
)


@pytest.mark.parametrize(("dots", "squares", "centres", "fill", "fmt"), COMBINATIONS)
def test_every_style_combination_decodes(
    dots: str, squares: str, centres: str, fill: str, fmt: str
) -> None:
    style = {
        "dots": {"shape": dots, **FILLS[fill]},
        "corner_squares": {"shape": squares},
        "corner_dots": {"shape": centres},
    }
    image = render(parse_request(URL, fmt, 300, 4, "M", style))
    assert decode(image) == URL


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("fill", list(FILLS))
def test_fills_on_corners_and_background_decode(fmt: str, fill: str) -> None:
    style = {
        "dots": {"shape": "rounded"},
        "corner_squares": {"shape": "extra-rounded", **FILLS[fill]},
        "corner_dots": {"shape": "dot", **FILLS[fill]},
        "background": {
            "gradient": {
                "type": "linear",
                "rotation": 90,
                "stops": [{"offset": 0, "color": "#ffffff"}, {"offset": 1, "color": "#dfe8ff"}],
            }
        },
    }
    assert decode(render(parse_request(URL, fmt, 320, 4, "M", style))) == URL
