"""Refusals: the right code, and details naming every bad field by its dotted path."""

from __future__ import annotations

import base64

import pytest

from render import RenderError, parse_request, parse_style
from tests.render.helpers import URL, b64


def refusal(*args: object, **kwargs: object) -> RenderError:
    with pytest.raises(RenderError) as caught:
        parse_request(*args, **kwargs)  # type: ignore[arg-type]
    return caught.value


def fields(error: RenderError) -> list[str]:
    return [issue.field for issue in error.details]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"size": 63}, "size"),
        ({"size": 4097}, "size"),
        ({"size": "512"}, "size"),
        ({"size": True}, "size"),
        ({"size": 100.5}, "size"),
        ({"margin": -1}, "margin"),
        ({"margin": 17}, "margin"),
        ({"error_correction": "X"}, "error_correction"),
        ({"error_correction": None}, "error_correction"),
        ({"format": "jpeg"}, "format"),
        ({"format": "PNG"}, "format"),
    ],
)
def test_bad_scalar_fields(kwargs: dict[str, object], field: str) -> None:
    error = refusal(URL, **kwargs)
    assert error.code == "validation_error"
    assert fields(error) == [field]
    assert error.message.startswith(f"{field} is ")


@pytest.mark.parametrize("data", ["", None, 42, b"bytes", ["a"], "\ud800"])
def test_bad_data(data: object) -> None:
    error = refusal(data)
    assert (error.code, fields(error)) == ("validation_error", ["data"])


def test_all_problems_are_reported_at_once() -> None:
    style = {"dots": {"color": "red", "shape": "hexagon"}, "logo": {"image": "!!"}}
    error = refusal("", "gif", 10, 99, "Z", style)
    assert fields(error) == [
        "data",
        "format",
        "size",
        "margin",
        "error_correction",
        "style.dots.shape",
        "style.dots.color",
        "style.logo.image",
    ]
    assert "8 fields are invalid" in error.message


@pytest.mark.parametrize(
    ("style", "field"),
    [
        ({"dots": {"color": "#12345"}}, "style.dots.color"),
        ({"dots": {"color": "black"}}, "style.dots.color"),
        ({"dots": {"color": "#ggg"}}, "style.dots.color"),
        ({"corner_squares": {"color": "transparent"}}, "style.corner_squares.color"),
        ({"background": {"color": "#fffffff"}}, "style.background.color"),
        ({"corner_dots": {"shape": "extra-rounded"}}, "style.corner_dots.shape"),
        ({"corner_squares": {"shape": "rounded"}}, "style.corner_squares.shape"),
        ({"dots": "rounded"}, "style.dots"),
        ({"dots": {"gradient": {"type": "conic", "stops": []}}}, "style.dots.gradient.type"),
        (
            {"dots": {"gradient": {"stops": [{"offset": 0, "color": "#000"}]}}},
            "style.dots.gradient.stops",
        ),
        (
            {"dots": {"gradient": {"stops": [{"offset": 0, "color": "#000"}, {"offset": 2}]}}},
            "style.dots.gradient.stops[1].offset",
        ),
        (
            {"dots": {"gradient": {"stops": [{"offset": 0, "color": "#000"}, {"offset": 1}]}}},
            "style.dots.gradient.stops[1].color",
        ),
        (
            {"dots": {"gradient": {"rotation": "45deg", "stops": []}}},
            "style.dots.gradient.rotation",
        ),
        ({"logo": {"image": "not base64!"}}, "style.logo.image"),
        ({"logo": {"image": b64(b"GIF89a....")}}, "style.logo.image"),
        ({"logo": {"image": b64(b"\x89PNG\r\n\x1a\ntruncated")}}, "style.logo.image"),
        ({"logo": {"image": b64(b"<svg><unclosed></svg>")}}, "style.logo.image"),
        ({"logo": {}}, "style.logo.image"),
        ({"logo": {"image": b64(b"<svg/>"), "size": 0}}, "style.logo.size"),
        ({"logo": {"image": b64(b"<svg/>"), "size": 0.6}}, "style.logo.size"),
        ({"logo": {"image": b64(b"<svg/>"), "margin": -1}}, "style.logo.margin"),
        (
            {"logo": {"image": b64(b"<svg/>"), "hide_background_dots": "yes"}},
            "style.logo.hide_background_dots",
        ),
    ],
)
def test_bad_style_fields(style: dict[str, object], field: str) -> None:
    error = refusal(URL, style=style)
    assert error.code == "validation_error"
    assert field in fields(error), error.details
    with pytest.raises(RenderError):
        parse_style(style)


@pytest.mark.parametrize(
    ("style", "field"),
    [
        ({"colour": "#000"}, "style.colour"),
        ({"dots": {"shape": "dots", "size": 2}}, "style.dots.size"),
        ({"background": {"image": "x"}}, "style.background.image"),
        ({"dots": {"gradient": {"stops": [], "angle": 1}}}, "style.dots.gradient.angle"),
        (
            {"dots": {"gradient": {"stops": [{"offset": 0, "color": "#000", "alpha": 1}]}}},
            "style.dots.gradient.stops[0].alpha",
        ),
        ({"logo": {"image": b64(b"<svg/>"), "opacity": 1}}, "style.logo.opacity"),
    ],
)
def test_unknown_fields_at_any_depth(style: dict[str, object], field: str) -> None:
    error = refusal(URL, style=style)
    assert error.code == "validation_error"
    assert field in fields(error)
    assert "not a known field" in next(i.message for i in error.details if i.field == field)


def test_style_must_be_an_object() -> None:
    assert fields(refusal(URL, style=["dots"])) == ["style"]


def test_svg_logo_with_external_reference_is_refused() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/hosts"/></svg>'
    error = refusal(URL, style={"logo": {"image": b64(svg)}})
    assert fields(error) == ["style.logo.image"]
    assert "external reference" in error.message


def test_data_uri_logo_is_accepted() -> None:
    uri = "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode()
    assert parse_request(URL, style={"logo": {"image": uri}}).style.logo is not None


def test_data_too_long_names_data_and_respects_the_effective_level() -> None:
    text = "x" * 2000  # fits at L, not at H
    assert parse_request(text, "png", 1000, 4, "L").data == text
    error = refusal(text, "png", 1000, 4, "L", {"logo": {"image": b64(b"<svg/>")}})
    assert (error.code, fields(error)) == ("data_too_long", ["data"])
    assert "level H" in error.message
    huge = refusal("9" * 8000)
    assert huge.code == "data_too_long"


def test_size_too_small_for_the_version() -> None:
    error = refusal("x" * 2000, "png", 64, 4, "L")
    assert (error.code, fields(error)) == ("validation_error", ["size"])
    assert "at least" in error.message


def test_defaults_and_nulls() -> None:
    request = parse_request(URL)
    assert (request.format, request.size, request.margin, request.error_correction) == (
        "png",
        512,
        4,
        "M",
    )
    nulls = {"dots": None, "corner_squares": {"shape": None}, "background": None, "logo": None}
    assert parse_request(URL, style=nulls) == request
