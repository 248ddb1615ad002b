"""The SVG logo limits: every known bomb shape is refused on its text, before rendering."""

from __future__ import annotations

import base64
import time

import pytest

from render.svg_check import MAX_DEPTH, MAX_ELEMENTS, MAX_EXPANDED, SvgProblem, check_svg_text
from tests.render import bombs


def refusal(text: str) -> str:
    with pytest.raises(SvgProblem) as caught:
        check_svg_text(text)
    return str(caught.value)


def test_a_normal_logo_passes() -> None:
    check_svg_text(bombs.NORMAL_SVG)
    check_svg_text(bombs.use_fanout(2, 10))  # reuse is fine in moderation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (bombs.use_fanout(3, 60), f"more than {MAX_EXPANDED} elements"),
        (bombs.use_fanout(6, 6), f"more than {MAX_EXPANDED} elements"),
        (bombs.deep_nesting(), f"more than {MAX_DEPTH} deep"),
        (bombs.many_elements(), f"more than {MAX_ELEMENTS} elements"),
        (bombs.billion_laughs(), "DTD"),
        (bombs.huge_declared(), "at most 100000"),
        (bombs.huge_declared("0", "10"), "more than 0"),
        (bombs.huge_declared("-5", "10"), "more than 0"),
        (bombs.huge_declared("wide", "10"), "expected a length"),
        (bombs.use_cycle(), "reference cycle"),
        (bombs.svg_with('<g id="x"><use href="#x"/></g>'), "reference cycle"),
        (bombs.svg_with('<image href="file:///etc/passwd"/>'), "external reference"),
        (bombs.svg_with('<image xlink:href="https://example.com/x.png"/>'), "external reference"),
        (bombs.svg_with('<rect fill="url(https://example.com/p)"/>'), "external reference"),
        (bombs.svg_with('<rect style="fill: url(file:///x)"/>'), "external reference"),
        (bombs.svg_with("<script>alert(1)</script>"), "scripts are refused"),
        (bombs.svg_with('<rect onload="alert(1)"/>'), "event handler"),
        (bombs.svg_with("<rect>"), "not well-formed"),
        ('<html><svg xmlns="http://www.w3.org/2000/svg"/></html>', "expected an <svg> root"),
    ],
    ids=[
        "use-fanout", "use-deep-fanout", "deep-nesting", "many-elements", "billion-laughs",
        "huge-size", "zero-size", "negative-size", "bad-length", "use-cycle", "self-use",
        "file-href", "http-href", "url-paint", "url-in-style", "script", "event-handler",
        "not-xml", "not-svg-root",
    ],
)  # fmt: skip
def test_bombs_are_refused_quickly_with_a_reason(text: str, expected: str) -> None:
    started = time.monotonic()
    assert expected in refusal(text)
    assert time.monotonic() - started < 2  # generous: the real cost is milliseconds


def test_viewbox_must_be_four_sane_numbers() -> None:
    assert "four numbers" in refusal(bombs.svg_with("").replace("0 0 10 10", "0 0 10"))
    huge = bombs.svg_with("").replace("0 0 10 10", "0 0 1e12 10")
    assert "at most 100000" in refusal(huge)


def _image(mime: str, payload: bytes) -> str:
    uri = f"data:{mime};base64,{base64.b64encode(payload).decode()}"
    return bombs.svg_with(f'<image width="5" height="5" href="{uri}"/>')


def test_embedded_bitmaps_are_checked_like_logos() -> None:
    check_svg_text(_image("image/png", bombs.small_png()))
    assert "over 4096x4096" in refusal(_image("image/png", bombs.png_bomb()))
    assert "over 4096x4096" in refusal(_image("image/png", bombs.png_declaring(4097, 4096)))
    assert "cannot be read" in refusal(_image("image/png", bombs.png_declaring(0, 5)))
    assert "cannot be read" in refusal(_image("image/png", b"not a png"))


def test_svg_inside_svg_is_refused() -> None:
    inner = bombs.use_fanout(3, 60).encode()
    assert "SVG inside SVG" in refusal(_image("image/svg+xml", inner))


def test_too_many_embedded_images() -> None:
    png = base64.b64encode(bombs.small_png()).decode()
    images = f'<image href="data:image/png;base64,{png}"/>' * 17
    assert "more than 16 images" in refusal(bombs.svg_with(images))
