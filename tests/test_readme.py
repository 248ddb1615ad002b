"""The README's examples, run as a newcomer would paste them, against a live `qrmint serve`.

Every ```sh block runs, in order, as one bash script (`set -euo pipefail`, and curl fails on
any HTTP error) in a scratch directory where `.venv` is this checkout's, with `API` and
`REDIRECT` pointing at a server started here on free ports with its own data dir. The files
the examples save are then decoded, and the ```python block is checked on real signatures.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.webhooks.signing import signed_headers
from tests.qrmint.serving import Served
from tests.support import QRMINT

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
PRELUDE = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'


def blocks(language: str) -> list[str]:
    return [body for info, body in _FENCE.findall(README.read_text()) if info == language]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    # No QRMINT_REDIRECT_BASE_URL: as after `make run`, links follow the redirector's port.
    server = Served(tmp_path / "var", base_url=False)
    server.start()
    yield server
    server.kill()


@pytest.mark.slow
def test_the_shell_examples_run(
    served: Served, tmp_path: Path, decode_image: Callable[[bytes, str], str]
) -> None:
    work = tmp_path / "newcomer"
    work.mkdir()
    (work / ".venv").symlink_to(Path(QRMINT).parent.parent)
    script = PRELUDE + "\n".join(blocks("sh"))
    env = {**served.env, "API": served.api_url, "REDIRECT": served.redirect_url}
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert time.monotonic() - started < 300
    out = result.stdout
    locations = re.findall(r"^location: (\S+)", out, re.MULTILINE | re.IGNORECASE)
    assert locations == ["https://example.com/menu", "https://example.com/winter-menu"]
    qr_id, short_url = re.search(r"^(\S+) is (\S+)$", out, re.MULTILINE).groups()  # type: ignore[union-attr]
    assert short_url.startswith(served.redirect_url + "/")
    assert f'"id":"{qr_id}"' in out.replace(" ", "")
    assert '"tier":"pro"' in out.replace(" ", "")
    assert "'totalScans':" in out  # the subscription's first message
    wifi = decode_image((work / "wifi.png").read_bytes(), "image/png")
    assert wifi == "WIFI:T:WPA;S:cafe;P:espresso;;"
    assert decode_image((work / "menu.svg").read_bytes(), "image/svg+xml") == short_url
    assert decode_image((work / "hello.svg").read_bytes(), "image/svg+xml") == "hello"


def test_the_webhook_verifier_accepts_real_signatures_only() -> None:
    (code,) = blocks("python")
    namespace: dict[str, object] = {}
    exec(code, namespace)
    verify = namespace["verify"]
    assert callable(verify)
    secret, body = "whsec_" + base64.b64encode(os.urandom(24)).decode(), b'{"id": "evt_1"}'
    now = int(time.time())
    header = signed_headers(secret, "evt_1", now, body)["X-Qrmint-Signature"]
    assert verify(secret, body, header)
    assert not verify(secret, body + b" ", header)
    assert not verify("whsec_other", body, header)
    stale = signed_headers(secret, "evt_1", now - 3600, body)["X-Qrmint-Signature"]
    assert not verify(secret, body, stale)
