"""The whole path of a smart link: REST and GraphQL write it, a real redirector (uvicorn)
serves real phones, desktops and a bot through a trusted proxy with a test GeoIP database,
the analytics writer stores every request in the embedded ClickHouse, and the new stats,
the CSV export and the refused scans read it back. Custom domains are verified through the
domain itself (DNS pointed at the served redirector by the verifier's resolver)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from analytics.geo import GeoLocator
from analytics.service import StatsService
from analytics.sinks import StoreSink
from analytics.store import ScanStore
from api.app import create_api_app
from core import accounts
from core.bus import LocalBus
from core.config import Settings, load_settings
from core.db import close_database, migrate_database, open_database
from core.domain_proof import DomainVerifier
from core.domains import DomainService
from core.links import LinkDirectory
from core.qrcodes import QrService
from core.ratelimit import RateDecision
from core.services import Services
from core.tiers import load_tiers
from redirector.wiring import open_redirector
from schema.app import graphql_routes
from tests.redirector.conftest import serve

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BERLIN, NEW_YORK = "203.0.113.7", "198.51.100.7"
DOMAIN = "go.journey.example"  # the session's store is shared: nobody else uses this host


class Unlimited:
    async def hit(self, key: str, rate: int) -> RateDecision:
        return RateDecision(True, rate, rate, 0, 0)


@dataclass
class Journey:
    api: httpx.AsyncClient
    phone: httpx.AsyncClient
    key: dict[str, str]

    async def scan(self, code: str, ip: str, agent: str, **headers: str) -> httpx.Response:
        self.phone.cookies.clear()
        sent = {"user-agent": agent, "x-forwarded-for": ip, **headers}
        return await self.phone.get(f"/{code}", headers=sent)

    async def graphql(self, query: str, **variables: Any) -> Any:
        body = {"query": query, "variables": variables}
        found = (await self.api.post("/graphql", json=body, headers=self.key)).json()
        assert "errors" not in found, found
        return found["data"]


@pytest.fixture
async def settings(tmp_path: Path, geoip_db: Path) -> AsyncIterator[Settings]:
    env = {"QRMINT_DATA_DIR": str(tmp_path), "QRMINT_SECRET_KEY": "journey-secret-0123456789",
           "QRMINT_TRUSTED_PROXIES": "127.0.0.0/8", "QRMINT_GEOIP_DB": str(geoip_db),
           "QRMINT_WEBHOOK_ALLOW_PRIVATE": "true"}  # fmt: skip
    loaded = load_settings(env, env_file="/nonexistent")
    await migrate_database(loaded)
    EXECUTOR_CACHE.clear()
    await open_database(loaded)
    yield loaded
    await close_database()


async def test_a_smart_link_from_rest_to_stats(
    settings: Settings, store: ScanStore, tmp_path: Path, geoip_db: Path
) -> None:
    bus = LocalBus()
    directory = LinkDirectory(None, bus)
    sink = StoreSink(store)
    geo = GeoLocator(geoip_db)
    try:
        async with (
            open_redirector(
                settings, redis=None, bus=bus, sinks=[sink], geo_locator=geo.locate
            ) as redirect_app,
            serve(redirect_app) as redirect_base,
            httpx.AsyncClient(base_url=redirect_base, follow_redirects=False) as phone,
        ):
            port = int(redirect_base.rsplit(":", 1)[1])

            async def to_redirector(host: str, _: int) -> Sequence[str]:
                return ["127.0.0.1"] if host == DOMAIN else []

            verifier = DomainVerifier(settings, resolver=to_redirector, port=port)
            services = Services(
                settings=settings, tiers=load_tiers(), qr=QrService(settings, directory),
                limiter=Unlimited(), bus=bus, stats=StatsService(store),
                domains=DomainService(settings, directory, verifier),
            )  # fmt: skip
            app = create_api_app(services, extra_routes=graphql_routes(services))
            _, raw = await accounts.create_account(services.tiers, "mega")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as api:
                journey = Journey(api, phone, {"Authorization": f"Bearer {raw}"})
                qr_id, code = await _write_the_link(journey)
                await _scan_it(journey, code, qr_id)
                await _domain_and_orphan(journey)
                await _stored(store, qr_id, 11)  # the journal consumer commits in batches
                await _read_it_back(journey, qr_id, code)
    finally:
        geo.close()


async def _stored(store: ScanStore, qr_id: str, count: int) -> None:
    """Wait for the raw rows, then for the rollups: a view's part may become visible a
    moment after its insert's own."""
    raw = "SELECT count() FROM $scans WHERE qr_id = {q:String} OR domain = {d:String}"
    rolled = """
        SELECT (SELECT sum(bot_scans) + sum(scans) FROM $scans_daily WHERE qr_id = {q:String}),
               (SELECT sum(scans) FROM $refusals_daily WHERE domain = {d:String})"""
    for _ in range(300):
        found = store.query(raw, {"q": qr_id, "d": DOMAIN})[0][0]
        if found >= count and store.query(rolled, {"q": qr_id, "d": DOMAIN})[0] == (9, 1):
            break
        await asyncio.sleep(0.1)
    assert found == count


async def _write_the_link(journey: Journey) -> tuple[str, str]:
    rules = [{"if": {"country": ["DE"], "device": ["mobile"]}, "destination": "https://de.example/"},
             {"if": {"device": ["desktop"]}, "destination": "https://desk.example/"}]  # fmt: skip
    created = await journey.api.post(
        "/qr/generate",
        json={"type": "dynamic", "data": "https://d.example/", "rules": rules, "size": 128},
        headers=journey.key,
    )
    assert created.status_code == 201, created.text
    qr_id, code = created.json()["id"], created.json()["short_code"]
    # The split and UTM through GraphQL's updateQr.
    mutation = """mutation($id: ID!, $input: UpdateQrInput!) {
      updateQr(id: $id, input: $input) { split { destination weight } utm { source } } }"""
    split = [{"destination": "https://a.example/", "weight": 1},
             {"destination": "https://b.example/", "weight": 1}]  # fmt: skip
    data = await journey.graphql(
        mutation, id=qr_id, input={"split": split, "utm": {"source": "qr"}}
    )
    assert data["updateQr"]["split"] == split
    return qr_id, code


async def _scan_it(journey: Journey, code: str, qr_id: str) -> None:
    german = {"accept-language": "de-DE,de;q=0.9", "referer": "https://news.example/a"}
    for _ in range(3):
        answer = await journey.scan(code, BERLIN, IPHONE, **german)
        assert answer.headers["location"] == "https://de.example/?utm_source=qr"
    answer = await journey.scan(code, NEW_YORK, WINDOWS, **{"accept-language": "en-US"})
    assert answer.headers["location"] == "https://desk.example/?utm_source=qr"
    for n in range(4):  # US phones fall through to the split
        answer = await journey.scan(code, NEW_YORK, f"{IPHONE} n/{n}")
        assert answer.headers["location"] in {
            "https://a.example/?utm_source=qr", "https://b.example/?utm_source=qr",
        }  # fmt: skip
    await journey.scan(code, NEW_YORK, GOOGLEBOT)
    paused = await journey.api.patch(f"/qr/{qr_id}", json={"paused": True}, headers=journey.key)
    assert paused.json()["paused"] is True
    assert (await journey.scan(code, BERLIN, IPHONE)).status_code == 410
    await journey.api.patch(f"/qr/{qr_id}", json={"paused": False}, headers=journey.key)


async def _domain_and_orphan(journey: Journey) -> None:
    added = await journey.api.post("/domains", json={"hostname": DOMAIN}, headers=journey.key)
    domain_id = added.json()["id"]
    verified = await journey.graphql(
        "mutation($id: ID!) { verifyDomain(id: $id) { hostname verified } }", id=domain_id
    )
    assert verified["verifyDomain"] == {"hostname": DOMAIN, "verified": True}
    answer = await journey.scan("NotACode1", BERLIN, IPHONE, host=DOMAIN)
    assert answer.status_code == 404


async def _read_it_back(journey: Journey, qr_id: str, code: str) -> None:
    path = f"/qr/{qr_id}/stats?tz=Europe/Berlin"
    stats = (await journey.api.get(path, headers=journey.key)).json()
    assert (stats["total_scans"], stats["bot_scans"], stats["tz"]) == (8, 1, "Europe/Berlin")
    targets = {item["key"]: item["scans"] for item in stats["by_target"]}
    split = targets.get("split:0", 0) + targets.get("split:1", 0)
    assert (targets["rule:0"], targets["rule:1"], split) == (3, 1, 4)
    languages = [(item["key"], item["scans"]) for item in stats["by_language"]]
    assert languages == [("unknown", 4), ("de-DE", 3), ("en-US", 1)]
    assert {"key": "news.example", "scans": 3} in stats["by_referrer"]
    assert {"key": "gone", "scans": 1} in stats["by_outcome"]
    hours = {h["hour"]: h["scans"] for h in stats["by_hour"]}
    assert (len(stats["by_hour"]), sum(hours.values())) == (24, 8)
    berlin = datetime.now(ZoneInfo("Europe/Berlin")).hour  # the scans were a moment ago
    assert hours[berlin] + hours[(berlin - 1) % 24] == 8
    weekdays = [d["day"] for d in stats["by_weekday"]]
    assert weekdays == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert stats["by_country"][0] == {"key": "US", "scans": 5}

    exported = await journey.api.get(f"/qr/{qr_id}/scans.csv", headers=journey.key)
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 10  # 8 redirects, the bot and the refused one
    assert sorted(r["outcome"] for r in rows).count("gone") == 1
    assert {r["target"] for r in rows if r["outcome"] == "gone"} == {"paused"}

    refused = (await journey.api.get("/refused-scans", headers=journey.key)).json()
    domains = {d["domain"]: d for d in refused["domains"]}
    assert domains[None]["by_reason"] == [{"key": "paused", "scans": 1}]
    assert domains[DOMAIN]["by_code"] == [{"key": "NotACode1", "scans": 1}]

    query = """query($id: ID!) {
      qrStats(id: $id, tz: "Asia/Kolkata") { totalScans botScans tz byTarget { key scans }
        byHour { hour scans } byWeekday { day scans } }
      qrScans(id: $id, first: 4) { scans { outcome target } endCursor hasNextPage }
      refusedScans { domains { domain refusedScans byReason { key scans } } } }"""
    data = await journey.graphql(query, id=qr_id)
    assert (data["qrStats"]["totalScans"], data["qrStats"]["botScans"]) == (8, 1)
    assert sum(h["scans"] for h in data["qrStats"]["byHour"]) == 8
    assert data["qrScans"]["hasNextPage"] is True
    more = """query($id: ID!, $after: String) {
      qrScans(id: $id, first: 100, after: $after) { scans { outcome } hasNextPage } }"""
    rest = await journey.graphql(more, id=qr_id, after=data["qrScans"]["endCursor"])
    assert len(rest["qrScans"]["scans"]) == 6
    assert rest["qrScans"]["hasNextPage"] is False
    assert sorted(d["refusedScans"] for d in data["refusedScans"]["domains"]) == [1, 1]

    # Deleted, its scans stay readable (the short code answers 410: the redirector tests).
    assert (await journey.api.delete(f"/qr/{qr_id}", headers=journey.key)).status_code == 204
    again = (await journey.api.get(f"/qr/{qr_id}/stats", headers=journey.key)).json()
    assert again["total_scans"] == 8
    _, basic = await accounts.create_account(load_tiers(), "basic")
    refused_csv = await journey.api.get(
        f"/qr/{qr_id}/scans.csv", headers={"Authorization": f"Bearer {basic}"}
    )
    assert refused_csv.json()["error"]["code"] == "analytics_not_in_tier"
