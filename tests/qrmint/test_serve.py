"""`qrmint serve` end to end, as a new user follows the README: a real process and ports."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import QRMINT, free_port

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


class Served:
    def __init__(self, data_dir: Path) -> None:
        self.api_port, self.redirect_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "QRMINT_DATA_DIR": str(data_dir),
            "QRMINT_REDIRECT_BASE_URL": f"http://127.0.0.1:{self.redirect_port}",
        }
        self.env.pop("QRMINT_REDIS_URL", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "serve.log"

    def start(self) -> None:
        args = [QRMINT, "serve", "--api-port", str(self.api_port)]
        args += ["--redirect-port", str(self.redirect_port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(args, env=self.env, stderr=log, stdout=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.redirect_port}/healthz", timeout=1)
                httpx.get(f"http://127.0.0.1:{self.api_port}/healthz", timeout=1)
                return
            except httpx.TransportError:
                assert self.process.poll() is None, self.log.read_text()
                time.sleep(0.2)
        raise AssertionError("qrmint serve did not come up")

    def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=60) == 0

    def key(self, tier: str) -> str:
        result = subprocess.run(
            [QRMINT, "keys", "create", "--tier", tier], env=self.env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    def api(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.api_port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path / "var")
    server.start()
    yield server
    if server.process and server.process.poll() is None:
        server.process.kill()
        server.process.wait()


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
