"""Logos: every image kind, at the largest size the guard allows, must still decode."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from render import RenderError, parse_request, render
from render.guard import max_logo_size
from render.plan import encode_cached
from render.spec import Logo
from tests.render.helpers import URL, b64, decode, logo_bytes, rgb, to_pil

# A short link (version 4 at H), the benchmark URL (version 8: an alignment pattern sits
# under the logo) and a long text (version 24: the middle pattern is 2 modules off-centre).
DATA = ["http://127.0.0.1:8080/Ab3dE9x", URL, "https://ex.com/" + "x" * 470]


def largest(data: str, margin: float, hide: bool = True) -> float:
    probe = Logo(b"", "png", 0.1, margin, hide)
    return min(0.5, max_logo_size(encode_cached(data, "H"), probe))


def logo_style(kind: str, size: float, margin: float = 1, hide: bool = True) -> dict[str, object]:
    image = b64(logo_bytes(kind))
    return {"logo": {"image": image, "size": size, "margin": margin, "hide_background_dots": hide}}


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("kind", ["png", "jpeg", "svg"])
@pytest.mark.parametrize("data", DATA, ids=["v4", "v8", "v24"])
def test_largest_allowed_logo_decodes(data: str, kind: str, fmt: str) -> None:
    size = largest(data, 1)
    assert size >= 0.15
    image = render(parse_request(data, fmt, 700, 4, "L", logo_style(kind, size)))
    assert image.error_correction == "H"
    assert decode(image) == data


@pytest.mark.parametrize("margin", [0, 2])
@pytest.mark.parametrize("hide", [True, False])
def test_margin_and_hidden_dots_variants_decode(margin: float, hide: bool) -> None:
    size = largest(URL, margin, hide)
    image = render(parse_request(URL, "png", 500, 4, "M", logo_style("png", size, margin, hide)))
    assert decode(image) == URL


def test_one_step_beyond_the_largest_is_refused_naming_the_field() -> None:
    size = largest(URL, 1) + 0.02
    with pytest.raises(RenderError) as caught:
        parse_request(URL, "png", 500, 4, "M", logo_style("png", size))
    assert caught.value.code == "logo_too_large"
    assert [issue.field for issue in caught.value.details] == ["style.logo.size"]
    assert f"at most {largest(URL, 1):.2f}" in caught.value.message


def test_logo_is_centred_keeps_its_aspect_ratio_and_hides_dots() -> None:
    style = logo_style("png", 0.3, margin=1)
    pil = to_pil(render(parse_request(URL, "png", 570, 4, "M", style)))
    # 570 px / 57 modules = 10 px per module; the code is 49 modules, logo 14.7 modules.
    assert rgb(pil, (285, 285)) == (255, 255, 255)  # the logo's white disc
    assert rgb(pil, (285, 285 - 50))[0] > 200  # wide logo: red above centre...
    assert rgb(pil, (285, 285 - 70)) == (255, 255, 255)  # ...then the cleared margin


def test_svg_output_embeds_the_logo_as_a_data_uri() -> None:
    image = render(parse_request(URL, "svg", 500, 4, "M", logo_style("svg", 0.2)))
    assert b'xlink:href="data:image/svg+xml;base64,' in image.content


def test_exif_rotated_jpeg_is_upright() -> None:
    source = Image.new("RGB", (200, 100), (200, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    out = io.BytesIO()
    source.save(out, "JPEG", exif=exif)
    style = {"logo": {"image": b64(out.getvalue()), "size": 0.25}}
    image = render(parse_request(URL, "png", 570, 4, "M", style))
    pil = to_pil(image)
    # Upright the logo is tall, so there is red 50 px above the centre.
    assert rgb(pil, (285, 285 - 50))[0] > 150
    assert decode(image) == URL
