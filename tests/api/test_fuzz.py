"""A few hundred generated bad requests: none may make the server answer 5xx."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from api.app import create_api_app
from core.ratelimit import RateDecision

if TYPE_CHECKING:
    from tests.api.conftest import Api

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_color = st.sampled_from(
    ["#000", "#ffffff", "red", "#12345", "", "transparent", "#ABCDEF"]
) | st.text(max_size=8)
_part = st.fixed_dictionaries(
    {},
    optional={
        "shape": st.sampled_from(["square", "dot", "dots", "rounded", "star", ""]) | _json,
        "color": _color,
        "gradient": _json
        | st.fixed_dictionaries(
            {"type": st.sampled_from(["linear", "radial", "conic"]), "stops": _json}
        ),
    },
)
_style = st.fixed_dictionaries(
    {},
    optional={
        "dots": _part | _json,
        "corner_squares": _part,
        "corner_dots": _part,
        "background": _part,
        "logo": st.fixed_dictionaries({"image": st.text(max_size=30)}, optional={"size": _json}),
        "unknown": _json,
    },
)
_generate = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["static", "dynamic", "other"]) | _json,
        "data": st.text(max_size=60) | st.sampled_from(["https://ok.example/", "javascript:x"]),
        "format": st.sampled_from(["png", "svg", "gif"]) | _json,
        "size": st.integers(-10, 5000) | _json,
        "margin": st.integers(-2, 20) | _json,
        "error_correction": st.sampled_from(["L", "M", "Q", "H", "Z"]) | _json,
        "name": st.text(max_size=300) | _json,
        "style": _style | _json,
    },
)
_request = st.one_of(
    st.tuples(st.just("POST"), st.just("/qr/generate"), _generate.map(json.dumps)),
    st.tuples(st.just("POST"), st.just("/qr/generate"), st.binary(max_size=40).map(repr)),
    st.tuples(
        st.just("POST"),
        st.just("/qr/bulk-generate"),
        st.fixed_dictionaries({"items": st.lists(_generate | _json, max_size=3)}).map(json.dumps)
        | _json.map(json.dumps),
    ),
    st.tuples(
        st.just("PATCH"),
        st.text(max_size=12).map(lambda s: f"/qr/{quote(s, safe='')}/destination"),
        _json.map(lambda v: json.dumps({"url": v})),
    ),
    st.tuples(
        st.just("GET"), st.text(max_size=12).map(lambda s: f"/qr/{quote(s, safe='')}"), st.just("")
    ),
)


def _examples(count: int) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(_request)
    def collect(example: tuple[str, str, str]) -> None:
        found.append(example)

    collect()
    return found


class _Unlimited:
    async def hit(self, key: str, rate: int) -> RateDecision:
        return RateDecision(True, rate, rate, 0, 0)


async def test_no_generated_request_gets_a_5xx(api: Api) -> None:
    services = dataclasses.replace(api.services, limiter=_Unlimited())
    transport = httpx.ASGITransport(app=create_api_app(services))
    headers = {**(await api.key("mega")), "Content-Type": "application/json"}
    statuses: dict[int, int] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://fuzz.test") as client:
        for method, path, body in _examples(300):
            response = await client.request(method, path, content=body.encode(), headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500, (method, path, body, response.text)
            if response.status_code >= 400:
                assert response.json()["error"]["code"], response.text
    assert set(statuses) & {400, 404, 422}, statuses
