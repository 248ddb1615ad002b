"""Hostile logos through parse_request: each is a 422 naming style.logo.image, in bounded
time, and nothing is decoded beyond the declared-size check."""

from __future__ import annotations

import time

import pytest

from render import RenderError, parse_request, render
from render.logo import rasterize
from tests.render import bombs
from tests.render.helpers import URL, b64, decode


def refusal(image: bytes) -> str:
    started = time.monotonic()
    with pytest.raises(RenderError) as caught:
        parse_request(URL, "png", 512, 4, "M", {"logo": {"image": b64(image)}})
    assert time.monotonic() - started < 5  # generous: these are milliseconds
    error = caught.value
    assert [issue.field for issue in error.details] == ["style.logo.image"]
    return error.message


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (bombs.png_bomb(), "more than 4096x4096"),
        (bombs.png_declaring(4097, 4096), "more than 4096x4096"),
        (bombs.png_declaring(0, 10), "not a PNG, JPEG or SVG"),
        (bombs.jpeg_declaring(60_000, 60_000), "more than 4096x4096"),
        (bombs.jpeg_declaring(0, 16), "not a PNG, JPEG or SVG"),
        (bombs.truncated("PNG"), "could not be decoded"),
        (bombs.truncated("JPEG"), "could not be decoded"),
        (bombs.use_fanout(3, 60).encode(), "more than 20000 elements"),
        (bombs.deep_nesting().encode(), "deep"),
        (bombs.billion_laughs().encode(), "DTD"),
        (bombs.huge_declared().encode(), "at most 100000"),
        (b"", "expected a base64 PNG"),
    ],
    ids=[
        "png-bomb", "png-just-over", "png-zero", "jpeg-huge", "jpeg-zero", "png-truncated",
        "jpeg-truncated", "svg-fanout", "svg-deep", "svg-entities", "svg-huge",
        "empty",
    ],
)  # fmt: skip
def test_hostile_logos_are_refused(image: bytes, expected: str) -> None:
    assert expected in refusal(image)


def test_a_refused_svg_is_remembered() -> None:
    # A bulk request repeats its logo: the verdict is computed once.
    image = bombs.svg_with('<rect width="4" height="4"/>' * 3).encode()
    parse_request(URL, "png", 512, 4, "M", {"logo": {"image": b64(image)}})
    started = time.monotonic()
    for _ in range(50):
        parse_request(URL, "png", 512, 4, "M", {"logo": {"image": b64(image)}})
    assert time.monotonic() - started < 5


def test_a_drawing_over_budget_at_full_size_is_a_render_error() -> None:
    # The parse-time probe draws at 16 px; the real size has its own (larger) budget,
    # and failing it is a RenderError for the field, never an unexpected exception.
    with pytest.raises(RenderError) as caught:
        rasterize(b"<svg><g></svg>", "svg", 64)
    assert caught.value.details[0].field == "style.logo.image"
    with pytest.raises(RenderError, match="4096x4096"):
        rasterize(bombs.NORMAL_SVG.encode(), "svg", 5000)


def test_a_normal_svg_logo_still_renders_and_scans() -> None:
    style = {"logo": {"image": b64(bombs.NORMAL_SVG.encode()), "size": 0.2}}
    assert decode(render(parse_request(URL, "png", 600, 4, "M", style))) == URL
