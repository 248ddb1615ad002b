"""Scannability guard: contrast (every colour and gradient stop) and inverted codes."""

from __future__ import annotations

import pytest

from render import RenderError, RenderRequest, parse_request, parse_style, render
from render.colors import contrast_ratio, parse_hex
from render.guard import MIN_CONTRAST
from render.spec import WHITE, Color, Fill, PartStyle, Style
from tests.render.helpers import URL, decode


def low_contrast(style: dict[str, object]) -> RenderError:
    with pytest.raises(RenderError) as caught:
        parse_style(style)
    assert caught.value.code == "low_contrast"
    return caught.value


def grad(*colors: str) -> dict[str, object]:
    last = len(colors) - 1
    stops = [{"offset": i / last, "color": color} for i, color in enumerate(colors)]
    return {"type": "linear", "rotation": 0, "stops": stops}


def test_wcag_ratio_matches_reference_values() -> None:
    assert contrast_ratio(Color(0, 0, 0), WHITE) == pytest.approx(21.0)
    assert contrast_ratio(Color(0x76, 0x76, 0x76), WHITE) == pytest.approx(4.54, abs=0.01)
    assert parse_hex("#abc") == Color(0xAA, 0xBB, 0xCC)


def test_low_contrast_solid_colour_names_both_fields() -> None:
    error = low_contrast({"dots": {"color": "#aaaaaa"}})
    assert {"style.dots.color", "style.background.color"} <= {i.field for i in error.details}
    assert "contrast ratio of 2.32:1" in error.message


def test_low_contrast_via_one_gradient_stop() -> None:
    error = low_contrast({"corner_dots": {"gradient": grad("#000000", "#000000", "#bbbbbb")}})
    assert "style.corner_dots.gradient.stops[2].color" in [i.field for i in error.details]
    assert "style.corner_dots.gradient.stops[0].color" not in [i.field for i in error.details]


def test_low_contrast_via_a_background_stop() -> None:
    error = low_contrast({"background": {"gradient": grad("#ffffff", "#555555")}})
    assert "style.background.gradient.stops[1].color" in [i.field for i in error.details]


def test_transparent_background_is_judged_as_white() -> None:
    parse_style({"background": {"color": "transparent"}, "dots": {"color": "#595959"}})
    low_contrast({"background": {"color": "transparent"}, "dots": {"color": "#bbbbbb"}})


def test_inverted_code_is_refused_although_zxing_reads_it() -> None:
    error = low_contrast({"dots": {"color": "#ffffff"}, "background": {"color": "#000000"}})
    assert "lighter than" in error.message
    assert "inverted" in error.message


def test_threshold_boundary() -> None:
    # #949494 on white is 3.03:1, #959595 is 2.995:1.
    assert contrast_ratio(parse_hex("#949494") or WHITE, WHITE) >= MIN_CONTRAST
    parse_style({"dots": {"color": "#949494"}})
    low_contrast({"dots": {"color": "#959595"}})


def test_the_lightest_allowed_colour_decodes() -> None:
    style = {"dots": {"color": "#949494", "shape": "dots"}}
    assert decode(render(parse_request(URL, "png", 300, 4, "M", style))) == URL


def test_render_guards_hand_built_requests_too() -> None:
    grey = PartStyle("square", Fill(Color(200, 200, 200)))
    with pytest.raises(RenderError) as caught:
        render(RenderRequest(URL, style=Style(dots=grey)))
    assert caught.value.code == "low_contrast"
