"""The canonical style JSON round-trips and makes byte-identical re-renders."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from render import parse_request, parse_style, render, style_to_json
from render.drawers import DRAWERS
from tests.render.helpers import URL, b64, logo_bytes

FULL = {
    "dots": {
        "shape": "classy-rounded",
        "gradient": {
            "type": "radial",
            "rotation": 10,
            "stops": [{"offset": 1, "color": "#123"}, {"offset": 0, "color": "#000000"}],
        },
    },
    "corner_squares": {"shape": "dot", "color": "#220000"},
    "background": {"color": "transparent"},
    "logo": {"image": b64(logo_bytes("png")), "size": 0.2, "margin": 0.5},
}


def test_round_trip_through_json_text() -> None:
    style = parse_style(FULL)
    snapshot = json.loads(json.dumps(style_to_json(style)))
    assert parse_style(snapshot) == style
    assert style_to_json(parse_style(snapshot)) == snapshot


def test_snapshot_is_explicit_and_canonical() -> None:
    snapshot = style_to_json(parse_style({"dots": {"color": "#A5C"}}))
    assert snapshot["dots"] == {"shape": "square", "color": "#aa55cc", "gradient": None}
    # Unset corners follow the dots' colour, and the snapshot says so explicitly.
    assert snapshot["corner_dots"] == {"shape": "square", "color": "#aa55cc", "gradient": None}
    assert snapshot["background"] == {"color": "#ffffff", "gradient": None}
    assert snapshot["logo"] is None


def test_re_render_from_snapshot_is_identical() -> None:
    first = parse_request(URL, "svg", 400, 2, "Q", FULL)
    again = parse_request(URL, "svg", 400, 2, "Q", style_to_json(first.style))
    assert render(again).content == render(first).content


# Channels up to 0x5f keep every colour dark enough (>= 6:1 on white).
colors = st.from_regex(r"#[0-5][0-9a-f][0-5][0-9a-f][0-5][0-9a-f]", fullmatch=True)
gradients = st.none() | st.fixed_dictionaries(
    {
        "type": st.sampled_from(["linear", "radial"]),
        "rotation": st.floats(-360, 360, allow_nan=False),
        "stops": st.lists(
            st.fixed_dictionaries({"offset": st.floats(0, 1), "color": colors}),
            min_size=2,
            max_size=4,
        ),
    }
)


def part(name: str) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {}, optional={"shape": st.sampled_from(list(DRAWERS[name])), "color": colors}
    ).flatmap(lambda d: st.builds(lambda g: {**d, "gradient": g}, gradients))


@settings(max_examples=60, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "dots": part("dots"),
            "corner_squares": part("corner_squares"),
            "corner_dots": part("corner_dots"),
        },
    )
)
def test_any_valid_style_round_trips(raw: dict[str, object]) -> None:
    style = parse_style(raw)
    assert parse_style(json.loads(json.dumps(style_to_json(style)))) == style
