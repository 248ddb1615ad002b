"""`qrmint serve` end to end, as a new user follows the README: a real process and ports."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.qrmint.serving import Served

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path / "var")
    server.start()
    yield server
    server.kill()


def _stats(client: httpx.Client, qr_id: str, expected: int) -> dict[str, object]:
    deadline = time.monotonic() + 15
    while True:
        body: dict[str, object] = client.get(f"/qr/{qr_id}/stats").json()
        if body["total_scans"] == expected or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


@pytest.mark.slow
def test_the_readme_journey(served: Served) -> None:
    key = served.key("pro")
    with served.api(key) as client, httpx.Client() as phone:
        created = client.post(
            "/qr/generate", json={"type": "dynamic", "data": "https://example.com/menu"}
        ).json()
        short_url = created["short_url"]
        for _ in range(3):
            scan = phone.get(short_url, headers={"User-Agent": IPHONE})
            assert scan.status_code == 302
            assert scan.headers["location"] == "https://example.com/menu"
        assert phone.head(short_url).status_code == 302  # HEAD counts nothing
        patched = client.patch(
            f"/qr/{created['id']}/destination", json={"url": "https://example.com/winter"}
        )
        assert patched.status_code == 200
        with httpx.Client() as laptop:  # a second device: no cookie, another user agent
            assert laptop.get(short_url).headers["location"] == "https://example.com/winter"
        stats = _stats(client, created["id"], 4)
        assert stats["total_scans"] == 4
        assert stats["unique_scans"] == 2  # the phone (recognised by its cookie) and the laptop
        assert {"key": "mobile", "scans": 3} in stats["by_device"]  # type: ignore[operator]


@pytest.mark.slow
def test_scans_survive_a_restart(served: Served) -> None:
    key = served.key("mega")
    with served.api(key) as client:
        created = client.post(
            "/qr/generate", json={"type": "dynamic", "data": "https://example.com/"}
        ).json()
    with httpx.Client() as phone:
        for _ in range(200):
            assert phone.get(created["short_url"]).status_code == 302
    served.stop()  # graceful: everything recorded so far must be written
    served.start()
    with served.api(key) as client:
        assert _stats(client, created["id"], 200)["total_scans"] == 200
