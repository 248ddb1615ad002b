"""Smart links through a real redirector (uvicorn) with real headers: rules on country (a
trusted proxy's X-Forwarded-For in a test GeoIP database), device, OS, language and time;
sticky splits; UTM and forwarded queries; 410 pages; the password form; max_scans; Host
routing, orphans and the domain proof. Links are written by the real QR service and reach
the redirector as in `qrmint serve`, through the link directory and the bus."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics.geo import GeoLocator
from core import accounts
from core.accounts import Principal
from core.bus import LocalBus
from core.config import Settings
from core.domain_proof import domain_proof
from core.generate_input import GenerateBody
from core.link_input import UpdateBody
from core.links import LinkDirectory
from core.models import Domain, QrCode, ScanCounter, new_id
from core.qrcodes import QrService
from core.scans import ScanBatch, ScanRow
from core.tiers import load_tiers
from redirector.visitor import COOKIE_NAME
from redirector.wiring import open_redirector
from tests.support import write_test_geoip

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
PIXEL = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
BERLIN, NEW_YORK = "203.0.113.7", "198.51.100.7"


@dataclass
class Listener:
    """A durable sink that keeps the rows it is given."""

    rows: list[ScanRow] = field(default_factory=list)

    async def commit(self, batch: ScanBatch) -> None:
        self.rows.extend(batch.rows)


@dataclass
class Links:
    """A served redirector and the QR service that writes its links."""

    client: httpx.AsyncClient
    qr: QrService
    principal: Principal
    listener: Listener
    directory: LinkDirectory

    async def generate(self, **body: Any) -> Any:
        spec = GenerateBody.model_validate(
            {"type": "dynamic", "data": "https://d.example/", "size": 128, **body}
        ).to_spec()
        return (await self.qr.generate(self.principal, spec)).qr

    async def patch(self, qr_id: str, **body: Any) -> Any:
        return await self.qr.update(
            self.principal, qr_id, UpdateBody.model_validate(body).changes()
        )

    async def scan(
        self, code: str, *, ip: str = BERLIN, agent: str = IPHONE, **headers: str
    ) -> Any:
        sent = {"user-agent": agent, "x-forwarded-for": ip, **headers}
        return await self.client.get(f"/{code}", headers=sent)


@pytest.fixture(scope="session")
def geo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_geoip(tmp_path_factory.mktemp("geo") / "city.mmdb")


@pytest.fixture
async def links(db_settings: Settings, server: Any, geo_db: Path) -> AsyncIterator[Links]:
    settings = replace(db_settings, trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),))
    _, key = await accounts.create_account(load_tiers(), "mega")
    principal = await accounts.authenticate(load_tiers(), key)
    bus, listener, geo = LocalBus(), Listener(), GeoLocator(geo_db)
    directory = LinkDirectory(None, bus)
    try:
        async with (
            open_redirector(
                settings, redis=None, bus=bus, sinks=[listener], geo_locator=geo.locate
            ) as app,
            server(app) as base,
            httpx.AsyncClient(base_url=base, follow_redirects=False) as client,
        ):
            yield Links(client, QrService(settings, directory), principal, listener, directory)
    finally:
        geo.close()


def _location(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def test_rules_route_on_country_device_os_and_language(links: Links) -> None:
    qr = await links.generate(
        rules=[
            {"if": {"country": ["US"], "device": ["desktop"]}, "destination": "https://us-desk.example/"},
            {"if": {"os": ["android"], "language": ["de"]}, "destination": "https://de-droid.example/"},
            {"if": {"country": ["DE"], "language": ["en-GB"]}, "destination": "https://uk-in-de.example/"},
            {"if": {"device": ["mobile"], "country": ["DE"]}, "destination": "https://de-phone.example/"},
        ]
    )  # fmt: skip
    code = qr.short_code
    assert (
        _location(await links.scan(code, ip=NEW_YORK, agent=WINDOWS)) == "https://us-desk.example/"
    )
    assert _location(await links.scan(code, ip=NEW_YORK, agent=IPHONE)) == "https://d.example/"
    german = {"accept-language": "de-DE,de;q=0.9,en;q=0.5"}
    assert _location(await links.scan(code, agent=PIXEL, **german)) == "https://de-droid.example/"
    british = {"accept-language": "en-GB,en;q=0.9"}
    assert _location(await links.scan(code, agent=PIXEL, **british)) == "https://uk-in-de.example/"
    assert _location(await links.scan(code, agent=IPHONE)) == "https://de-phone.example/"
    # Without a trusted proxy the peer (127.0.0.1) has no country: the rules for DE miss.
    assert _location(await links.scan(code, ip="", agent=IPHONE)) == "https://d.example/"


async def test_a_time_rule_follows_the_clock_in_its_zone(links: Links) -> None:
    now = datetime.now(UTC)
    open_now = {"from": (now - timedelta(hours=1)).strftime("%H:%M"),
                "to": (now + timedelta(hours=1)).strftime("%H:%M"), "tz": "UTC"}  # fmt: skip
    closed_now = {**open_now, "tz": "Pacific/Kiritimati"}  # UTC+14: another time of day
    qr = await links.generate(
        rules=[{"if": {"time": closed_now}, "destination": "https://closed.example/"},
               {"if": {"time": open_now}, "destination": "https://open.example/"}],
    )  # fmt: skip
    assert _location(await links.scan(qr.short_code)) == "https://open.example/"


async def test_a_split_keeps_each_visitor_on_their_variant(links: Links) -> None:
    qr = await links.generate(
        split=[{"destination": f"https://v{n}.example/", "weight": 1} for n in range(3)],
        rules=[{"if": {"device": ["desktop"]}, "destination": "https://desk.example/"}],
    )
    seen: dict[str, str] = {}
    for n in range(40):
        links.client.cookies.clear()
        first = await links.scan(qr.short_code, agent=f"{IPHONE} visitor/{n}")
        cookie = first.cookies[COOKIE_NAME]
        links.client.cookies.set(COOKIE_NAME, cookie)
        again = {_location(await links.scan(qr.short_code, agent=IPHONE)) for _ in range(3)}
        assert again == {_location(first)}, "a returning visitor keeps the variant"
        seen[cookie] = _location(first)
    assert set(seen.values()) == {f"https://v{n}.example/" for n in range(3)}
    links.client.cookies.clear()
    assert _location(await links.scan(qr.short_code, agent=WINDOWS)) == "https://desk.example/"


async def test_utm_and_the_scanned_query_reach_the_destination(links: Links) -> None:
    qr = await links.generate(
        data="https://shop.example/p?id=7", utm={"source": "qr", "medium": "print"},
        forward_query=True,
    )  # fmt: skip
    response = await links.client.get(f"/{qr.short_code}?id=8&ref=flyer")
    assert (
        _location(response)
        == "https://shop.example/p?utm_source=qr&utm_medium=print&id=8&ref=flyer"
    )
    plain = await links.client.get(f"/{qr.short_code}")
    assert _location(plain) == "https://shop.example/p?id=7&utm_source=qr&utm_medium=print"


@pytest.mark.parametrize(
    ("change", "reason", "text"),
    [
        ({"paused": True}, "paused", "This link is paused"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expired", "This link has expired"),
    ],
)
async def test_paused_and_expired_links_are_gone_until_changed_back(
    links: Links, change: dict[str, Any], reason: str, text: str
) -> None:
    qr = await links.generate()
    assert (await links.scan(qr.short_code)).status_code == 302  # cached as live
    await links.patch(qr.id, **change)
    gone = await links.scan(qr.short_code)
    assert gone.status_code == 410
    assert gone.headers["cache-control"] == "no-store"
    assert text in gone.text
    assert '<html lang="en">' in gone.text
    assert (await links.client.head(f"/{qr.short_code}")).status_code == 410
    await links.patch(qr.id, **dict.fromkeys(change, None if reason == "expired" else False))
    assert (await links.scan(qr.short_code)).status_code == 302


async def test_a_deleted_link_is_gone_for_good(links: Links) -> None:
    qr = await links.generate()
    assert (await links.scan(qr.short_code)).status_code == 302
    await links.qr.delete(links.principal, qr.id)
    response = await links.scan(qr.short_code)
    assert response.status_code == 410
    assert "This link no longer exists" in response.text


async def test_the_password_form_works_without_javascript(links: Links) -> None:
    qr = await links.generate(password="correct horse", forward_query=True)
    path = f"/{qr.short_code}?ref=flyer"
    form = await links.client.get(path, headers={"user-agent": IPHONE})
    assert form.status_code == 200
    assert form.headers["content-type"].startswith("text/html")
    page = form.text
    assert "<script" not in page
    assert re.search(r'<form method="post" action="/' + qr.short_code + r'\?ref=flyer">', page)
    assert '<label for="password">Password</label>' in page
    assert 'id="password" name="password" type="password" required' in page
    wrong = await links.client.post(path, data={"password": "battery staple"})
    assert wrong.status_code == 403
    assert 'role="alert"' in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    right = await links.client.post(path, data={"password": "correct horse"})
    assert _location(right) == "https://d.example/?ref=flyer"
    assert (await links.client.post(f"/{qr.short_code}", content=b"x" * 10_000)).status_code == 403


async def test_wrong_passwords_are_rate_limited_per_visitor(links: Links) -> None:
    qr = await links.generate(password="correct horse")
    path = f"/{qr.short_code}"
    guesser = {"x-forwarded-for": NEW_YORK}
    for _ in range(10):
        assert (
            await links.client.post(path, data={"password": "guess"}, headers=guesser)
        ).status_code == 403
    locked = await links.client.post(path, data={"password": "correct horse"}, headers=guesser)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "Too many wrong passwords" in locked.text
    links.client.cookies.clear()  # dropping the cookie does not help the guesser
    again = await links.client.post(path, data={"password": "guess"}, headers=guesser)
    assert again.status_code == 429
    other = await links.client.post(
        path, data={"password": "correct horse"}, headers={"x-forwarded-for": BERLIN}
    )
    assert _location(other) == "https://d.example/"


async def test_max_scans_is_exact_and_kept_behind(links: Links) -> None:
    qr = await links.generate(max_scans=3)
    statuses = [(await links.scan(qr.short_code)).status_code for _ in range(5)]
    assert statuses == [302, 302, 302, 410, 410]
    assert (await links.client.head(f"/{qr.short_code}")).status_code == 302  # HEAD takes none
    exhausted = await links.scan(qr.short_code)
    assert "reached its limit" in exhausted.text
    await links.patch(qr.id, max_scans=4)  # one more
    assert [(await links.scan(qr.short_code)).status_code for _ in range(2)] == [302, 410]


async def test_post_to_a_link_without_a_password_is_refused(links: Links) -> None:
    qr = await links.generate()
    response = await links.client.post(f"/{qr.short_code}", data={"password": "x"})
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")


async def test_rows_say_what_served_and_how_it_ended(links: Links) -> None:
    qr = await links.generate(
        rules=[{"if": {"device": ["desktop"]}, "destination": "https://desk.example/"}],
        password="pass word",
    )
    code = qr.short_code
    await links.scan(code, agent=WINDOWS, **{"accept-language": "fr-CH, fr;q=0.9"})
    await links.client.post(
        f"/{code}", data={"password": "pass word"}, headers={"user-agent": WINDOWS}
    )
    await links.client.post(f"/{code}", data={"password": "nope"})
    await links.client.head(f"/{code}")
    await links.patch(qr.id, paused=True)
    await links.scan(code)
    rows = await _rows(links, 4)
    assert [(r.outcome, r.target, r.destination) for r in rows] == [
        ("password_page", "", ""),
        ("redirected", "rule:0", "https://desk.example/"),
        ("password_page", "", ""),
        ("gone", "paused", ""),
    ]
    assert rows[0].language == "fr-CH"
    assert (rows[0].country, rows[0].device, rows[0].os) == ("DE", "desktop", "Windows")
    assert all(row.qr_id == qr.id and row.domain == "" for row in rows)


async def test_hosts_route_to_their_own_links(links: Links, db_settings: Settings) -> None:
    account = links.principal.account_id
    for slot, host in enumerate(("go.one.example", "go.two.example")):
        await Domain.create(id=new_id("dom"), account_id=account, slot=slot,
                            hostname=host, verified_hostname=host, token="t" * 32)  # fmt: skip
    first = await links.generate(domain="go.one.example", data="https://one.example/")
    second = await links.generate(domain="go.two.example", data="https://two.example/")
    # The same code on the other domain (codes are unique per domain only).
    await QrCode.filter(id=second.id).update(short_code=first.short_code)
    await links.directory.publish_change(await _target(second.id))
    code = first.short_code
    assert first.short_url == f"http://go.one.example/{code}"
    one = await links.scan(code, host="go.one.example")
    two = await links.scan(code, host="GO.TWO.EXAMPLE:8080")
    assert (_location(one), _location(two)) == ("https://one.example/", "https://two.example/")
    assert (await links.scan(code)).status_code == 404  # not on the base domain
    unknown = await links.scan(code, host="go.three.example")
    assert unknown.status_code == 404
    orphan = await links.scan("NoSuchCode", host="go.one.example")
    assert orphan.status_code == 404
    rows = await _rows(links, 3)
    assert [(r.domain, r.outcome) for r in rows] == [
        ("go.one.example", "redirected"), ("go.two.example", "redirected"),
        ("go.one.example", "not_found"),
    ]  # fmt: skip
    assert (rows[2].qr_id, rows[2].account_id, rows[2].short_code, rows[2].target) == (
        "", account, "NoSuchCode", "unknown",
    )  # fmt: skip


async def test_the_domain_proof_answers_for_the_host_asked(
    links: Links, db_settings: Settings
) -> None:
    token = "A" * 32
    response = await links.client.get(
        f"/.well-known/qrmint-domain/{token}", headers={"host": "Go.Brand.Example"}
    )
    assert response.status_code == 200
    assert response.text == domain_proof(db_settings.secret_key, "go.brand.example", token)
    bad = await links.client.get("/.well-known/qrmint-domain/short")
    assert bad.status_code == 404


async def _target(qr_id: str) -> Any:
    from core.links import LINK_COLUMNS, target_of

    row = await QrCode.get(id=qr_id).values(*LINK_COLUMNS)
    return target_of(row)


async def _rows(links: Links, count: int) -> list[ScanRow]:
    import asyncio

    for _ in range(500):
        if len(links.listener.rows) >= count:
            break
        await asyncio.sleep(0.01)
    assert len(links.listener.rows) == count, links.listener.rows
    return list(links.listener.rows)


async def test_counts_are_written_behind(links: Links) -> None:
    qr = await links.generate(max_scans=10)
    for _ in range(4):
        await links.scan(qr.short_code)
    import asyncio

    for _ in range(300):  # written about once a second
        counter = await ScanCounter.get_or_none(qr_id=qr.id)
        if counter is not None and counter.taken == 4:
            break
        await asyncio.sleep(0.05)
    assert counter is not None
    assert counter.taken == 4
