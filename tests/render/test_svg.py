"""SVG output: well-formed XML with vector shapes and real SVG gradients."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from render import parse_request, render
from render.drawers import DRAWERS
from tests.render.helpers import URL, b64, logo_bytes

NS = "{http://www.w3.org/2000/svg}"


def tree(style: object = None, size: int = 512) -> ET.Element:
    image = render(parse_request(URL, "svg", size, 4, "M", style))
    assert image.mime_type == "image/svg+xml"
    return ET.fromstring(image.content)


@pytest.mark.parametrize("shape", list(DRAWERS["dots"]))
def test_well_formed_with_vector_paths_only(shape: str) -> None:
    root = tree({"dots": {"shape": shape}})
    assert root.tag == f"{NS}svg"
    assert root.get("width") == root.get("height") == "512"
    assert root.get("viewBox") == "0 0 45 45"
    assert root.findall(f".//{NS}path")
    assert not root.findall(f".//{NS}image")


@pytest.mark.parametrize("kind", ["linear", "radial"])
def test_gradients_are_svg_gradients(kind: str) -> None:
    stops = [{"offset": 0, "color": "#000000"}, {"offset": 1, "color": "#202080"}]
    gradient = {"type": kind, "rotation": 30, "stops": stops}
    root = tree({"dots": {"gradient": gradient}, "corner_squares": {"gradient": gradient}})
    found = root.findall(f".//{NS}{kind}Gradient")
    assert len(found) == 1 + 3 + 3  # dots, 3 corner squares, 3 corner dots (inherited)
    assert [s.get("stop-color") for s in found[0]] == ["#000000", "#202080"]
    paths = root.findall(f".//{NS}path")
    assert all(p.get("fill", "").startswith("url(#") for p in paths)


def test_logo_is_a_data_uri_image_element() -> None:
    style = {"logo": {"image": b64(logo_bytes("jpeg")), "size": 0.2}}
    images = tree(style).findall(f".//{NS}image")
    assert len(images) == 1
    href = images[0].get("{http://www.w3.org/1999/xlink}href") or ""
    assert href.startswith("data:image/jpeg;base64,")


def test_svg_size_does_not_change_the_geometry() -> None:
    small = render(parse_request(URL, "svg", 128)).content
    large = render(parse_request(URL, "svg", 4096)).content
    assert small.replace(b'"128"', b'"4096"') == large
