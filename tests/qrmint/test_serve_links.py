"""Smart links on a real `qrmint serve`: REST and GraphQL write them, phones and laptops
scan them, the stats, the CSV export and the refused scans show what happened."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.qrmint.serving import Served
from tests.qrmint.test_serve import IPHONE

WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path / "var")
    server.start()
    yield server
    server.kill()


@pytest.mark.slow
def test_a_smart_link_on_qrmint_serve(served: Served) -> None:
    key = served.key("ultra")
    body = {
        "type": "dynamic", "data": "https://example.com/menu", "password": "open sesame",
        "rules": [{"if": {"device": ["desktop"]}, "destination": "https://example.com/desk"}],
        "split": [{"destination": "https://example.com/a", "weight": 1},
                  {"destination": "https://example.com/b", "weight": 1}],
        "utm": {"source": "poster"}, "forward_query": True,
    }  # fmt: skip
    with served.api(key) as client, httpx.Client() as phone:
        created = client.post("/qr/generate", json=body)
        assert created.status_code == 201, created.text
        qr_id, url = created.json()["id"], created.json()["short_url"]
        form = phone.get(url, headers={"User-Agent": IPHONE, "Accept-Language": "de-DE"})
        assert (form.status_code, "<form" in form.text) == (200, True)
        opened = phone.post(url + "?table=4", data={"password": "open sesame"},
                            headers={"User-Agent": IPHONE})  # fmt: skip
        assert opened.status_code == 302
        assert opened.headers["location"] in {
            f"https://example.com/{v}?utm_source=poster&table=4" for v in "ab"
        }
        desk = phone.post(url, data={"password": "open sesame"}, headers={"User-Agent": WINDOWS})
        assert desk.headers["location"] == "https://example.com/desk?utm_source=poster"

        mutation = """mutation($id: ID!) { updateQr(id: $id, input: {password: null, paused: true})
                      { hasPassword paused } }"""  # fmt: skip
        graphql = client.post("/graphql", json={"query": mutation, "variables": {"id": qr_id}})
        assert graphql.json()["data"]["updateQr"] == {"hasPassword": False, "paused": True}
        assert phone.get(url).status_code == 410
        client.patch(f"/qr/{qr_id}", json={"paused": False})
        assert phone.get(url, headers={"User-Agent": WINDOWS}).status_code == 302

        stats = _stats(client, qr_id, 3)
        targets = {item["key"]: item["scans"] for item in stats["by_target"]}
        assert targets["rule:0"] == 2
        assert sum(n for target, n in targets.items() if target.startswith("split:")) == 1
        outcomes = {item["key"]: item["scans"] for item in stats["by_outcome"]}
        assert outcomes == {"redirected": 3, "password_page": 1, "gone": 1}
        rows = list(csv.DictReader(io.StringIO(client.get(f"/qr/{qr_id}/scans.csv").text)))
        assert len(rows) == 5
        assert {row["language"] for row in rows if row["outcome"] == "password_page"} == {"de-DE"}

        assert client.delete(f"/qr/{qr_id}").status_code == 204
        assert phone.get(url).status_code == 410
        assert client.get(f"/qr/{qr_id}").status_code == 404
        refused = _refused(client, 2)
        assert refused["domains"][0]["by_reason"] == [
            {"key": "deleted", "scans": 1}, {"key": "paused", "scans": 1},
        ]  # fmt: skip


def _stats(client: httpx.Client, qr_id: str, expected: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        body: dict[str, Any] = client.get(f"/qr/{qr_id}/stats").json()
        outcomes = sum(item["scans"] for item in body["by_outcome"])
        if (body["total_scans"], outcomes) == (expected, 5) or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def _refused(client: httpx.Client, expected: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        body: dict[str, Any] = client.get("/refused-scans").json()
        domains = body["domains"]
        if (domains and domains[0]["refused_scans"] == expected) or time.monotonic() > deadline:
            return body
        time.sleep(0.3)
