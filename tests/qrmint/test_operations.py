"""What an operator sees of a real `qrmint serve`: JSON logs that parse line by line, metrics
that move with traffic, readiness that names a store that stopped, links on the real port."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.qrmint.serving import Served
from tests.support import QRMINT, free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
REPO = Path(__file__).resolve().parents[2]


def scrape(base_url: str, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{base_url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def wait_for(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(
        tmp_path / "var",
        base_url=False,
        env={"QRMINT_LOG_FORMAT": "json", "QRMINT_METRICS_TOKEN": "metrics-0123456789abcdef"},
    )
    server.start()
    yield server
    server.kill()


REDIRECTED = ("qrmint_redirects_total", (("outcome", "redirected"),))
NOT_FOUND = ("qrmint_redirects_total", (("outcome", "not_found"),))
RECORDED = ("qrmint_scans_recorded_total", ())
STORED = ("qrmint_scans_stored_total", (("source", "journal"),))
GENERATED = (
    "qrmint_http_requests_total",
    (("app", "api"), ("method", "POST"), ("route", "/qr/generate"), ("status", "201")),
)


@pytest.mark.slow
def test_logs_metrics_and_links_of_a_real_serve(served: Served) -> None:
    token = "metrics-0123456789abcdef"
    assert httpx.get(f"{served.api_url}/metrics").status_code == 401
    before, redirects_before = scrape(served.api_url, token), scrape(served.redirect_url, token)
    with served.api(served.key("pro")) as client:
        created = client.post(
            "/qr/generate",
            json={"type": "dynamic", "data": "https://example.com/"},
            headers={"X-Request-Id": "journey-1"},
        )
        assert created.headers["X-Request-Id"] == "journey-1"
    short_url = created.json()["short_url"]
    # QRMINT_REDIRECT_BASE_URL is unset: the link names the redirector's real port.
    assert short_url.startswith(f"{served.redirect_url}/")
    for _ in range(3):
        assert httpx.get(short_url).status_code == 302
    assert httpx.get(f"{served.redirect_url}/NoSuchCode9").status_code == 404
    wait_for(lambda: scrape(served.api_url, token).get(STORED, 0) >= before.get(STORED, 0) + 3)
    after = scrape(served.redirect_url, token)
    assert after[REDIRECTED] == redirects_before.get(REDIRECTED, 0) + 3
    assert after[NOT_FOUND] == redirects_before.get(NOT_FOUND, 0) + 1
    assert after[RECORDED] == redirects_before.get(RECORDED, 0) + 3
    assert scrape(served.api_url, token)[GENERATED] == before.get(GENERATED, 0) + 1
    for base in (served.api_url, served.redirect_url):
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "clickhouse": "ok"}
    served.stop()
    _check_json_log(served.log.read_text())


def _check_json_log(text: str) -> None:
    records = [json.loads(line) for line in text.splitlines()]  # every line is one record
    assert all(record["ts"].endswith("Z") and record["level"] for record in records)
    messages = [record["message"] for record in records]
    assert sum(message.startswith("qrmint serve: API on") for message in messages) == 1
    assert len([m for m in messages if "server process" in m or m == "Shutting down"]) == 0
    (access,) = [r for r in records if r.get("request_id") == "journey-1"]
    assert access["message"].startswith("POST /qr/generate 201 ")
    assert access["status"] == 201
    assert messages[-1] == "stopped"


@pytest.mark.slow
def test_multiprocess_metrics_mode_works(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    server = Served(tmp_path / "var", env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    server.start()
    try:
        with server.api(server.key("pro")) as client:
            created = client.post("/qr/generate", json={"type": "dynamic", "data": "https://a.b/"})
        assert httpx.get(created.json()["short_url"]).status_code == 302
        wait_for(lambda: scrape(server.api_url).get(REDIRECTED, 0) == 1, seconds=10)
        samples = scrape(server.redirect_url)  # either port answers for the whole process set
        assert samples[GENERATED] == 1
        assert any(path.suffix == ".db" for path in metrics_dir.iterdir())
        server.stop()
    finally:
        server.kill()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """A Redis server of this test's own, and a way to stop it."""
    port = free_port()
    server = shutil.which("redis-server") or "redis-server"
    options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    process = subprocess.Popen([server, "--port", str(port), *options], stdout=subprocess.DEVNULL)

    def stop() -> None:
        process.terminate()
        process.wait(timeout=30)

    wait_for(lambda: _answers(port), seconds=20)
    yield f"redis://127.0.0.1:{port}/0", stop
    if process.poll() is None:
        stop()


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
@pytest.mark.redis
def test_readiness_names_redis_once_it_stops(
    tmp_path: Path, own_redis: tuple[str, Callable[[], None]]
) -> None:
    url, stop_redis = own_redis
    server = Served(tmp_path / "var", env={"QRMINT_REDIS_URL": url})
    server.start()
    try:
        for base in (server.api_url, server.redirect_url):
            ready = httpx.get(f"{base}/readyz", timeout=10)
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["redis"] == "ok"
        stop_redis()
        for base in (server.api_url, server.redirect_url):
            ready = httpx.get(f"{base}/readyz", timeout=10)
            assert ready.status_code == 503
            body = ready.json()
            assert body["error"]["parts"] == ["redis"]
            assert "redis" in body["error"]["message"]
            assert body["checks"]["database"] == "ok"
    finally:
        server.kill()


def test_worker_serves_metrics_and_readiness_on_request(tmp_path: Path) -> None:
    port = free_port()
    env = {**Served(tmp_path / "var").env}
    subprocess.run([QRMINT, "migrate"], env=env, check=True, capture_output=True)
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [QRMINT, "worker", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    try:
        wait_for(lambda: _answers(port), seconds=60)
        samples = scrape(f"http://127.0.0.1:{port}")
        assert ("qrmint_webhook_deliveries_total", (("outcome", "delivered"),)) in samples
        assert ("qrmint_webhook_deliveries_pending", ()) in samples
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"
    finally:
        process.terminate()
        assert process.wait(timeout=60) == 0
        log.close()


def test_make_run_passes_the_ports_through() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "run", "API_PORT=8001", "REDIRECT_PORT=8081"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    (command,) = [line for line in result.stdout.splitlines() if "qrmint serve" in line]
    assert command.endswith("qrmint serve --host 127.0.0.1 --api-port 8001 --redirect-port 8081")
