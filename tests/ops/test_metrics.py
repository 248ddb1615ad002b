"""Metrics: component counters read at scrape time, one table of names, the token."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from ops.metrics import FAMILIES, Probe, exposition, observe_request, watching
from ops.routes import metrics_route

REQUIRED = {
    "qrmint_http_requests_total",
    "qrmint_http_request_duration_seconds",
    "qrmint_redirects_total",
    "qrmint_scans_recorded_total",
    "qrmint_scans_dropped_total",
    "qrmint_webhook_deliveries_total",
}


@dataclass
class Component:
    handled: int = 0
    backlog: int = 0


async def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, content_type = await exposition()
    assert content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_the_names_are_ours_and_complete() -> None:
    assert set(FAMILIES) >= REQUIRED
    assert all(name.startswith("qrmint_") for name in FAMILIES)


async def test_counters_follow_the_component() -> None:
    component = Component()
    probes = [
        Probe("qrmint_redirects_total", lambda: component.handled, ("redirected",)),
        Probe("qrmint_scan_backlog", lambda: component.backlog, ("journal",)),
    ]
    key = ("qrmint_redirects_total", (("outcome", "redirected"),))
    gauge = ("qrmint_scan_backlog", (("stage", "journal"),))
    with watching(probes):
        before = (await scrape()).get(key, 0.0)
        component.handled, component.backlog = 7, 3
        after = await scrape()
        assert after[key] == before + 7
        assert after[gauge] == 3
        component.handled, component.backlog = 9, 0
        again = await scrape()
        assert again[key] == before + 9
        assert again[gauge] == 0
        component.handled = 2  # a new component instance: counting goes on from there
        assert (await scrape())[key] == before + 9
        component.handled = 5
        assert (await scrape())[key] == before + 12


async def test_two_sources_of_one_gauge_add_up() -> None:
    first, second = Component(backlog=2), Component(backlog=5)
    probes = [
        Probe("qrmint_scan_backlog", lambda: first.backlog, ("journal",)),
        Probe("qrmint_scan_backlog", lambda: second.backlog, ("journal",)),
    ]
    with watching(probes):
        assert (await scrape())[("qrmint_scan_backlog", (("stage", "journal"),))] == 7


async def test_an_unreadable_source_does_not_fail_the_scrape() -> None:
    def broken() -> float:
        raise RuntimeError("gone")

    async def pending() -> float:
        return 4.0

    probes = [
        Probe("qrmint_scans_recorded_total", broken),
        Probe("qrmint_webhook_deliveries_pending", pending),
    ]
    with watching(probes):
        assert (await scrape())[("qrmint_webhook_deliveries_pending", ())] == 4.0


async def test_requests_are_counted_by_route_template() -> None:
    key = (
        "qrmint_http_requests_total",
        (("app", "api"), ("method", "GET"), ("route", "/qr/{qr_id}"), ("status", "404")),
    )
    before = (await scrape()).get(key, 0.0)
    observe_request("api", "GET", "/qr/{qr_id}", 404, 0.003)
    samples = await scrape()
    assert samples[key] == before + 1
    count = (
        "qrmint_http_request_duration_seconds_count",
        (("app", "api"), ("method", "GET"), ("route", "/qr/{qr_id}")),
    )
    assert samples[count] >= 1


@pytest.mark.parametrize("token", [None, "metrics-token-0123456789"])
async def test_the_token_guards_metrics_when_set(token: str | None) -> None:
    app = Starlette(routes=[metrics_route(token)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ops.test") as client:
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    if token is None:
        assert anonymous.status_code == wrong.status_code == 200
    else:
        assert anonymous.status_code == wrong.status_code == 401
        assert anonymous.json()["error"]["code"] == "unauthenticated"
        assert right.status_code == 200
        assert "qrmint_" in right.text
