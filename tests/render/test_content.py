"""What is encoded: exact text for every level, length and script; standard symbols."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from render import parse_request, render
from tests.render.helpers import URL, decode, read, rgb, to_pil


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_every_error_correction_level(level: str, fmt: str) -> None:
    image = render(parse_request(URL, fmt, 400, 4, level))
    found = read(image)
    assert [code.text for code in found] == [URL]
    assert found[0].ec_level == level == image.error_correction
    extra = found[0].extra
    assert isinstance(extra, dict)
    assert extra["Version"] == str(image.version)
    assert image.modules == 17 + 4 * image.version


@pytest.mark.parametrize("length", [1, 100, 2000])
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_data_lengths(length: int, fmt: str) -> None:
    data = ("qrmint-" * 400)[:length]
    image = render(parse_request(data, fmt, 1200 if length > 1000 else 400, 4, "L"))
    assert decode(image) == data


@pytest.mark.parametrize(
    "text", ["Grüße 東京 🚀", "Grüße", "東京", "naïve café", "Привет, мир", "a\tb\r\nc"]
)
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_non_ascii_text_round_trips(text: str, fmt: str) -> None:
    assert decode(render(parse_request(text, fmt, 300))) == text


def _raw_with_eci(data: str) -> str:
    image = to_pil(render(parse_request(data, "png", 300)))
    found = zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.HexECI)
    return str(found[0].text)


def test_non_ascii_is_utf8_behind_eci_and_ascii_has_none() -> None:
    eci_utf8 = "5D 51 32 5C 30 30 30 30 32 36"  # "]Q2\\000026": ECI 26 = UTF-8
    assert _raw_with_eci("Grüße").startswith(eci_utf8 + " 47 72 C3 BC C3 9F 65")
    assert _raw_with_eci("HELLO").startswith("5D 51 31 ")  # "]Q1": no ECI


@pytest.mark.parametrize("size", [64, 333, 512, 1000])
def test_png_has_the_exact_size_and_plain_codes_are_one_bit(size: int) -> None:
    image = render(parse_request("hi", "png", size, 4))
    pil = Image.open(io.BytesIO(image.content))
    assert pil.size == (size, size)
    assert pil.mode == "1" or (pil.mode == "P" and len(pil.getcolors() or []) <= 2)
    assert decode(image) == "hi"


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("shape", ["square", "rounded"])
def test_transparent_background(fmt: str, shape: str) -> None:
    style = {"dots": {"shape": shape}, "background": {"color": "transparent"}}
    image = render(parse_request(URL, fmt, 300, 4, "M", style))
    if fmt == "png":
        pil = Image.open(io.BytesIO(image.content)).convert("RGBA")
        assert rgb(pil, (0, 0))[3] == 0
        assert rgb(pil, (0, 0))[:3] == (255, 255, 255)  # alpha-blind viewers see white
    else:
        assert b"<rect" not in image.content
    assert decode(image) == URL


@pytest.mark.parametrize("margin", [0, 1, 16])
def test_margins(margin: int) -> None:
    image = render(parse_request(URL, "png", 500, margin))
    assert decode(image) == URL or margin == 0  # zxing needs some quiet zone
    pil = Image.open(io.BytesIO(image.content)).convert("L")
    assert (pil.getpixel((0, 0)) == 0) == (margin == 0)


def test_square_codes_in_png_and_svg_cover_the_same_modules() -> None:
    png = to_pil(render(parse_request(URL, "png", 370, 4)))
    svg = to_pil(render(parse_request(URL, "svg", 370, 4)))
    # 370 px / 45 modules: sample every module centre in both rasterizations.
    for row in range(45):
        for col in range(45):
            xy = (int((col + 0.5) * 370 / 45), int((row + 0.5) * 370 / 45))
            assert (rgb(png, xy)[0] < 128) == (rgb(svg, xy)[0] < 128), (row, col)
