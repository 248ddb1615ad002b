"""A real `qrmint serve` process on free ports with its own data dir, as a user starts it
(shared by the tests that need the whole server: end to end, operations, fuzzing, hostile
input, the README)."""

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
    """`env` overrides the environment; by default short links name the redirector's port
    through QRMINT_REDIRECT_BASE_URL, `base_url=False` leaves it unset."""

    def __init__(
        self, data_dir: Path, *, env: dict[str, str] | None = None, base_url: bool = True
    ) -> None:
        self.api_port, self.redirect_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "QRMINT_DATA_DIR": str(data_dir),
            "QRMINT_CLICKHOUSE_URL": f"chdb://{data_dir / 'analytics'}",
        }
        for name in ("QRMINT_REDIS_URL", "QRMINT_REDIRECT_BASE_URL", "PROMETHEUS_MULTIPROC_DIR"):
            self.env.pop(name, None)
        if base_url:
            self.env["QRMINT_REDIRECT_BASE_URL"] = self.redirect_url
        self.env.update(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "serve.log"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def redirect_url(self) -> str:
        return f"http://127.0.0.1:{self.redirect_port}"

    def start(self) -> None:
        args = [QRMINT, "serve", "--api-port", str(self.api_port)]
        args += ["--redirect-port", str(self.redirect_port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(args, env=self.env, stderr=log, stdout=log)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.redirect_url}/healthz", timeout=1)
                httpx.get(f"{self.api_url}/healthz", timeout=1)
                return
            except httpx.TransportError:
                assert self.process.poll() is None, self.log.read_text()
                time.sleep(0.2)
        raise AssertionError("qrmint serve did not come up")

    def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=120) == 0, self.log.read_text()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def key(self, tier: str) -> str:
        result = subprocess.run(
            [QRMINT, "keys", "create", "--tier", tier], env=self.env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    def api(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=30)


def unlimited(data_dir: Path) -> Served:
    """A server whose mega tier has no rate limit or quota to hit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    tiers = data_dir.parent / "tiers.toml"
    tiers.write_text(UNLIMITED_TIERS)
    return Served(data_dir, env={"QRMINT_TIERS_FILE": str(tiers)})
