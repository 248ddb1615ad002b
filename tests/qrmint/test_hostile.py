"""Hostile input against a real `qrmint serve`: every case answers with a 4xx in the
contract's shape within a generous bound, while redirects on the same process keep being
answered (the timings that matter are measured by `make bench`, bench/hostile.py)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.qrmint.serving import Served, unlimited
from tests.render import bombs

BOUND_S = 20.0  # generous: a loaded 2-core machine; the real answers take milliseconds
URL = "https://example.com/landing"


@dataclass
class Redirects:
    """Scans one code in a loop until stopped; records every answer's status and time."""

    url: str
    statuses: list[int] = field(default_factory=list)
    slowest: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                status = client.get(self.url).status_code
                self.slowest = max(self.slowest, time.monotonic() - started)
                self.statuses.append(status)


@dataclass
class Target:
    server: Served
    key: str
    short_code: str

    def client(self) -> httpx.Client:
        return self.server.api(self.key)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    server = unlimited(tmp_path_factory.mktemp("hostile") / "var")
    server.start()
    try:
        key = server.key("mega")
        with server.api(key) as client:
            made = client.post("/qr/generate", json={"type": "dynamic", "data": URL}).json()
        yield Target(server, key, made["short_code"])
    finally:
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]


@pytest.fixture
def redirects(target: Target) -> Iterator[Redirects]:
    probe = Redirects(f"{target.server.redirect_url}/{target.short_code}")
    thread = threading.Thread(target=probe.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + BOUND_S
    while not probe.statuses and time.monotonic() < deadline:
        time.sleep(0.01)  # redirects are flowing before the hostile request starts
    yield probe
    probe.stop.set()
    thread.join(30)
    assert probe.statuses, "no redirect was answered while the hostile request ran"
    assert set(probe.statuses) == {302}
    assert probe.slowest < BOUND_S


def _logo(image: bytes | str) -> dict[str, Any]:
    raw = image.encode() if isinstance(image, str) else image
    return {"data": URL, "style": {"logo": {"image": base64.b64encode(raw).decode()}}}


LOGOS: dict[str, bytes | str] = {
    "svg-use-fanout": bombs.use_fanout(3, 60),
    "svg-deep": bombs.deep_nesting(),
    "svg-entities": bombs.billion_laughs(),
    "svg-huge-size": bombs.huge_declared(),
    "svg-cycle": bombs.use_cycle(),
    "svg-external": bombs.svg_with('<image href="file:///etc/passwd"/>'),
    "png-bomb": bombs.png_bomb(),
    "png-zero": bombs.png_declaring(0, 10),
    "png-truncated": bombs.truncated("PNG"),
    "jpeg-huge": bombs.jpeg_declaring(60_000, 60_000),
}


def _answer(response: httpx.Response, started: float, statuses: tuple[int, ...]) -> dict[str, Any]:
    assert time.monotonic() - started < BOUND_S
    assert response.status_code in statuses, response.text[:500]
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("kind", sorted(LOGOS))
def test_logo_bombs_are_422_while_redirects_go_on(
    target: Target, redirects: Redirects, kind: str
) -> None:
    with target.client() as client:
        started = time.monotonic()
        body = _answer(client.post("/qr/generate", json=_logo(LOGOS[kind])), started, (422,))
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"][0]["field"] == "style.logo.image"


def test_a_bulk_of_50_bombs_fails_item_by_item_while_redirects_go_on(
    target: Target, redirects: Redirects
) -> None:
    items = [_logo(bombs.use_fanout(3, 60)) for _ in range(25)]
    items += [_logo(bombs.png_declaring(60_000, 60_000)) for _ in range(25)]
    with target.client() as client:
        started = time.monotonic()
        body = _answer(client.post("/qr/bulk-generate", json={"items": items}), started, (200,))
    assert (body["succeeded"], body["failed"]) == (0, 50)
    assert {item["error"]["code"] for item in body["results"]} == {"validation_error"}


def test_graphql_logo_bomb_is_a_field_error(target: Target, redirects: Redirects) -> None:
    query = "mutation($input: GenerateQrInput!) { generateQr(input: $input) { id } }"
    variables = {"input": _logo(bombs.use_fanout(3, 60))}
    with target.client() as client:
        started = time.monotonic()
        response = client.post("/graphql", json={"query": query, "variables": variables})
        body = _answer(response, started, (200,))
    assert body["data"] == {"generateQr": None}
    assert body["errors"][0]["extensions"]["code"] == "validation_error"


def _deep(depth: int = 20_000) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/qr/generate"),
        ("POST", "/qr/bulk-generate"),
        ("PATCH", "/qr/qr_00000000000000000000/destination"),
        ("POST", "/webhooks/scan-endpoints"),
        ("PATCH", "/webhooks/scan-endpoints/wep_00000000000000000000"),
        ("POST", "/graphql"),
    ],
)
def test_deeply_nested_json_is_400_on_every_surface(
    target: Target, redirects: Redirects, method: str, path: str
) -> None:
    with target.client() as client:
        started = time.monotonic()
        response = client.request(method, path, content=_deep(), headers=_json())
        body = _answer(response, started, (400,))
    code = body["errors"][0]["extensions"]["code"] if path == "/graphql" else body["error"]["code"]
    assert code == "malformed_json"


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def test_oversized_and_flooding_graphql_documents(target: Target, redirects: Redirects) -> None:
    with target.client() as client:
        huge = "{ me { " + "tier " * 600_000 + "} }"  # 3 MB
        started = time.monotonic()
        too_big = _answer(client.post("/graphql", json={"query": huge}), started, (413,))
        assert too_big["errors"][0]["extensions"]["code"] == "payload_too_large"
        flood = "{ me { " + "tier " * 300_000 + "} }"  # under 2 MiB, far over the token cap
        started = time.monotonic()
        tokens = _answer(client.post("/graphql", json={"query": flood}), started, (200,))
        assert tokens["errors"][0]["extensions"]["code"] == "query_too_complex"
        aliases = "{ " + " ".join(f"a{n}: me {{ tier }}" for n in range(5000)) + " }"
        started = time.monotonic()
        alias = _answer(client.post("/graphql", json={"query": aliases}), started, (200,))
        assert alias["errors"][0]["extensions"]["code"] == "query_too_complex"


def test_rest_and_graphql_stay_answerable_after_all_of_it(target: Target) -> None:
    with target.client() as client:
        made = client.post("/qr/generate", json={"data": "still here", "size": 128})
        assert made.status_code == 201
        me = client.post("/graphql", json={"query": "{ me { tier } }"}).json()
        assert me == {"data": {"me": {"tier": "mega"}}}
