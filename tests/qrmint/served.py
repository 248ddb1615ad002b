"""A real `qrmint serve` process on free ports, as a user starts it (shared by the tests of
this package that need the whole server: end to end, fuzzing, hostile input)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.support import QRMINT, free_port

# A tier table that lifts what a tier sells (rate, quotas): for load and fuzz tests.
UNLIMITED_TIERS = """
[mega]
rate_per_second = 1000000
generations_per_month = 1000000000
dynamic_qr_limit = 100000000
"""


class Served:
    def __init__(self, data_dir: Path, **env: str) -> None:
        self.api_port, self.redirect_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "QRMINT_DATA_DIR": str(data_dir),
            "QRMINT_REDIRECT_BASE_URL": f"http://127.0.0.1:{self.redirect_port}",
            **env,
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

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def redirect_url(self) -> str:
        return f"http://127.0.0.1:{self.redirect_port}"


def unlimited(data_dir: Path) -> Served:
    """A server whose mega tier has no rate limit or quota to hit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    tiers = data_dir.parent / "tiers.toml"
    tiers.write_text(UNLIMITED_TIERS)
    return Served(data_dir, QRMINT_TIERS_FILE=str(tiers))
