"""Reads and updates: qr, qrs, me, updateQrDestination, qrStats, scan endpoints."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx

from api.app import create_api_app
from core.accounts import authenticate
from core.qrcodes import GenerateSpec
from core.services import NoStats
from schema.app import graphql_routes
from tests.schema.conftest import error_of

if TYPE_CHECKING:
    from tests.schema.conftest import Gql

QR = "query($id: ID!) { qr(id: $id) { id type data destination shortUrl style name } }"
PAGE = """
query($first: Int, $after: String) {
  qrs(first: $first, after: $after) {
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
UPDATE = """
mutation($id: ID!, $url: String!) {
  updateQrDestination(id: $id, url: $url) { id destination shortUrl updatedAt }
}
"""
ME = """
{ me { id tier limits { ratePerSecond dynamicQrLimit generationsPerMonth bulk
       analyticsRetentionDays scanWebhooks maxScanEndpoints }
       usage { month generationsUsed dynamicQrCount } } }
"""
STATS = """
query($id: ID!, $from: Date, $to: Date) {
  qrStats(id: $id, from: $from, to: $to) {
    qrId retentionDays window { from to } totalScans uniqueScans repeatScans
    byDay { date scans uniqueScans } byCountry { key scans } byCity { key country scans }
    byDevice { key scans } byBrowser { key scans } byOs { key scans }
  }
}
"""


async def _create(gql: Gql, key: str, **spec: Any) -> str:
    principal = await authenticate(gql.services.tiers, key)
    spec.setdefault("data", "hello")
    return (await gql.services.qr.generate(principal, GenerateSpec(**spec))).qr.id


async def test_qr_shows_metadata(gql: Gql) -> None:
    key = await gql.key()
    qr_id = await _create(gql, key, name="poster", style={"dots": {"shape": "dots"}})
    qr = (await gql.run(QR, {"id": qr_id}, key=key))["data"]["qr"]
    assert (qr["id"], qr["type"], qr["data"], qr["name"]) == (qr_id, "STATIC", "hello", "poster")
    assert qr["style"]["dots"]["shape"] == "dots"


async def test_someone_elses_qr_is_not_found(gql: Gql) -> None:
    qr_id = await _create(gql, await gql.key(), type="dynamic", data="https://a.example/")
    other = await gql.key()
    result = await gql.run(QR, {"id": qr_id}, key=other)
    assert result["data"] == {"qr": None}
    assert error_of(result)["extensions"]["code"] == "not_found"
    update = await gql.run(UPDATE, {"id": qr_id, "url": "https://b.example/"}, key=other)
    assert error_of(update)["extensions"]["code"] == "not_found"
    stats = await gql.run(STATS, {"id": qr_id}, key=other)
    assert error_of(stats)["extensions"]["code"] == "not_found"


async def test_qrs_walks_pages_newest_first(gql: Gql) -> None:
    key = await gql.key()
    made = [await _create(gql, key, name=f"n{i}") for i in range(5)]
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        page = (await gql.run(PAGE, {"first": 2, "after": after}, key=key))["data"]["qrs"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        info = page["pageInfo"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        assert info["startCursor"] == page["edges"][0]["cursor"]
        pages += 1
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert pages == 3
    assert seen == made[::-1]


async def test_qrs_defaults_and_refuses_bad_arguments(gql: Gql) -> None:
    key = await gql.key()
    await _create(gql, key)
    page = (await gql.run(PAGE, {}, key=key))["data"]["qrs"]
    assert len(page["edges"]) == 1
    assert page["pageInfo"]["hasNextPage"] is False
    too_many = await gql.run(PAGE, {"first": 101}, key=key)
    assert error_of(too_many)["extensions"]["details"][0]["field"] == "first"
    bad_cursor = await gql.run(PAGE, {"after": "nonsense"}, key=key)
    assert error_of(bad_cursor)["extensions"]["code"] == "validation_error"


async def test_update_destination(gql: Gql) -> None:
    key = await gql.key()
    qr_id = await _create(gql, key, type="dynamic", data="https://old.example/")
    result = await gql.run(UPDATE, {"id": qr_id, "url": "https://new.example/"}, key=key)
    assert result["data"]["updateQrDestination"]["destination"] == "https://new.example/"
    assert gql.links.published[-1].destination == "https://new.example/"


async def test_update_destination_refusals(gql: Gql) -> None:
    key = await gql.key()
    static_id = await _create(gql, key)
    dynamic_id = await _create(gql, key, type="dynamic", data="https://old.example/")
    static = await gql.run(UPDATE, {"id": static_id, "url": "https://new.example/"}, key=key)
    assert error_of(static)["extensions"]["code"] == "not_dynamic"
    unsafe = await gql.run(UPDATE, {"id": dynamic_id, "url": "javascript:alert(1)"}, key=key)
    error = error_of(unsafe)
    assert error["extensions"]["code"] == "unsafe_url"
    assert error["extensions"]["details"][0]["field"] == "url"


async def test_me_shows_tier_limits_and_usage(gql: Gql) -> None:
    key = await gql.key("ultra")
    await _create(gql, key)
    await _create(gql, key, type="dynamic", data="https://a.example/")
    me = (await gql.run(ME, key=key))["data"]["me"]
    assert me["tier"] == "ultra"
    assert me["limits"] == {
        "ratePerSecond": 10,
        "dynamicQrLimit": 1000,
        "generationsPerMonth": 100_000,
        "bulk": True,
        "analyticsRetentionDays": 90,
        "scanWebhooks": False,
        "maxScanEndpoints": 0,
    }
    assert me["usage"]["generationsUsed"] == 2
    assert me["usage"]["dynamicQrCount"] == 1
    assert len(me["usage"]["month"]) == 7


async def test_qr_stats_translates_the_provider(gql: Gql) -> None:
    key = await gql.key("pro")
    qr_id = await _create(gql, key, type="dynamic", data="https://a.example/")
    variables = {"id": qr_id, "from": "2026-11-01", "to": "2026-11-25"}
    stats = (await gql.run(STATS, variables, key=key))["data"]["qrStats"]
    assert stats["qrId"] == qr_id
    assert stats["retentionDays"] == 30
    assert stats["window"] == {"from": "2026-11-01", "to": "2026-11-25"}
    assert (stats["totalScans"], stats["uniqueScans"], stats["repeatScans"]) == (12, 5, 7)
    assert stats["byDay"] == [{"date": "2026-11-20", "scans": 12, "uniqueScans": 5}]
    assert stats["byCountry"][1] == {"key": "unknown", "scans": 5}
    assert stats["byCity"] == [{"key": "Berlin", "country": "DE", "scans": 7}]
    assert stats["byOs"] == [{"key": "Android", "scans": 12}]


async def test_qr_stats_refusals(gql: Gql) -> None:
    key = await gql.key("basic")
    qr_id = await _create(gql, key)
    basic = await gql.run(STATS, {"id": qr_id}, key=key)
    assert error_of(basic)["extensions"]["code"] == "analytics_not_in_tier"
    bad_date = await gql.run(STATS, {"id": qr_id, "from": "yesterday"}, key=key)
    assert error_of(bad_date)["extensions"]["code"] == "validation_error"


async def test_qr_stats_without_analytics_is_not_implemented(gql: Gql) -> None:
    services = replace(gql.services, stats=NoStats())
    app = create_api_app(services, extra_routes=graphql_routes(services))
    key = await gql.key()
    qr_id = await _create(gql, key)
    body = {"query": STATS, "variables": {"id": qr_id}}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        response = await client.post(
            "/graphql", json=body, headers={"Authorization": f"Bearer {key}"}
        )
    assert error_of(response.json())["extensions"]["code"] == "not_implemented"


ENDPOINTS = "{ scanEndpoints { id url description createdAt } }"
REGISTER = """
mutation($url: String!, $description: String) {
  registerScanEndpoint(url: $url, description: $description) { id url description secret createdAt }
}
"""
DELETE = "mutation($id: ID!) { deleteScanEndpoint(id: $id) }"


async def test_scan_endpoints_lifecycle(gql: Gql) -> None:
    key = await gql.key("mega")
    variables = {"url": "https://127.0.0.1:9443/hook", "description": "ours"}
    registered = (await gql.run(REGISTER, variables, key=key))["data"]["registerScanEndpoint"]
    assert registered["secret"].startswith("whsec_")
    assert registered["description"] == "ours"
    listed = (await gql.run(ENDPOINTS, key=key))["data"]["scanEndpoints"]
    assert [item["id"] for item in listed] == [registered["id"]]
    leaked = await gql.run("{ scanEndpoints { secret } }", key=key)
    assert error_of(leaked)["extensions"]["code"] == "validation_error"
    other = await gql.run(DELETE, {"id": registered["id"]}, key=await gql.key("mega"))
    assert error_of(other)["extensions"]["code"] == "not_found"
    deleted = await gql.run(DELETE, {"id": registered["id"]}, key=key)
    assert deleted["data"] == {"deleteScanEndpoint": True}
    assert (await gql.run(ENDPOINTS, key=key))["data"]["scanEndpoints"] == []


async def test_scan_endpoint_refusals(gql: Gql) -> None:
    pro = await gql.run(REGISTER, {"url": "https://example.com/hook"}, key=await gql.key("pro"))
    assert error_of(pro)["extensions"]["code"] == "tier_required"
    key = await gql.key("mega")
    plain = await gql.run(REGISTER, {"url": "http://example.com/hook"}, key=key)
    assert error_of(plain)["extensions"]["code"] == "unsafe_url"
