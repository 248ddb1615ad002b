"""The redirect domain over a real uvicorn server, a migrated SQLite database and LocalBus."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from core.bus import LocalBus
from core.config import Settings
from core.links import LinkDirectory
from core.scans import ScanBatch, ScanRow
from redirector.visitor import COOKIE_NAME
from redirector.wiring import open_redirector

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
PLACES = {"198.51.100.7": ("DE", "Berlin")}


@dataclass
class Listener:
    """A durable sink that keeps the rows it is given."""

    rows: list[ScanRow] = field(default_factory=list)

    async def commit(self, batch: ScanBatch) -> None:
        self.rows.extend(batch.rows)


def locate(ip: str) -> tuple[str, str]:
    return PLACES.get(ip, ("unknown", "unknown"))


@dataclass
class Running:
    client: httpx.AsyncClient
    listener: Listener
    bus: LocalBus


Opener = Callable[..., AbstractAsyncContextManager[Running]]


@pytest.fixture
def redirector(db_settings: Settings, server: Any) -> Opener:
    """`async with redirector(trusted=...) as r:` a served redirector; closing it drains."""

    @asynccontextmanager
    async def run(trusted: str = "") -> AsyncIterator[Running]:
        networks = tuple(ipaddress.ip_network(cidr) for cidr in trusted.split(",") if cidr)
        settings = replace(db_settings, trusted_proxies=networks)
        bus, listener = LocalBus(), Listener()
        async with (
            open_redirector(
                settings,
                redis=None,
                bus=bus,
                sinks=[listener],
                geo_locator=locate,
            ) as app,
            server(app) as base,
            httpx.AsyncClient(base_url=base, follow_redirects=False) as client,
        ):
            yield Running(client, listener, bus)

    return run


async def test_redirect_answers_302_no_store_with_a_visitor_cookie(redirector, make_qr) -> None:
    await make_qr("httpcode1", "https://example.com/landing?x=1&y=ä")
    async with redirector() as r:
        response = await r.client.get("/httpcode1")
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/landing?x=1&y=%C3%A4"
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    for attribute in ("Max-Age=31536000", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert "Secure" not in cookie  # the base URL is http://
    assert len(r.listener.rows) == 1


async def test_head_answers_the_same_but_records_nothing(redirector, make_qr) -> None:
    await make_qr("httpcode2", "https://example.com/")
    async with redirector() as r:
        response = await r.client.head("/httpcode2")
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/"
    assert response.headers["cache-control"] == "no-store"
    assert r.listener.rows == []


@pytest.mark.parametrize("path", ["/nosuchcode", "/short", "/bad.code!", "/a/b/c", "/" + "x" * 40])
async def test_unknown_or_malformed_codes_are_404(redirector, path: str) -> None:
    async with redirector() as r:
        response = await r.client.get(path)
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("text/html")
    assert r.listener.rows == []


async def test_home_and_health(redirector) -> None:
    async with redirector() as r:
        home, health = await r.client.get("/"), await r.client.get("/healthz")
    assert (home.status_code, home.text) == (200, "qrmint redirector")
    assert (health.status_code, health.text) == (200, "ok")


async def test_scan_rows_carry_the_facts_and_recognise_the_visitor(redirector, make_qr) -> None:
    target = await make_qr("httpcode3", "https://example.com/")
    headers = {"user-agent": IPHONE, "referer": "https://social.example/p/123?utm=x"}
    async with redirector() as r:
        first = await r.client.get("/httpcode3", headers=headers)
        r.client.cookies.set(COOKIE_NAME, first.cookies[COOKIE_NAME])
        second = await r.client.get("/httpcode3", headers={"user-agent": "another agent"})
        assert "set-cookie" not in second.headers
    one, two = r.listener.rows
    assert (one.qr_id, one.account_id, one.short_code) == (
        target.qr_id,
        target.account_id,
        "httpcode3",
    )
    assert one.destination == "https://example.com/"
    assert one.referrer_host == "social.example"
    assert two.referrer_host == ""
    assert one.visitor == two.visitor, "the cookie recognises the device"
    assert (one.is_unique, two.is_unique) == (True, False)
    assert one.scanned_at.tzinfo is not None
    assert one.scanned_at.microsecond % 1000 == 0
    assert (one.country, one.city) == ("unknown", "unknown"), "peer 127.0.0.1 has no place"
    for row in (one, two):
        assert "127.0.0.1" not in repr(row)


async def test_device_and_browser_come_from_real_user_agents(redirector, make_qr) -> None:
    await make_qr("httpcode4", "https://example.com/")
    async with redirector() as r:
        await r.client.get("/httpcode4", headers={"user-agent": IPHONE})
        await r.client.get("/httpcode4", headers={"user-agent": GOOGLEBOT})
    phone, bot = r.listener.rows
    assert (phone.device, phone.browser, phone.os, phone.is_bot) == (
        "mobile",
        "Safari",
        "iOS",
        False,
    )
    assert (bot.device, bot.is_bot) == ("bot", True)


@pytest.mark.parametrize(("trusted", "place"), [("127.0.0.0/8", ("DE", "Berlin")), ("", None)])
async def test_forwarded_for_counts_only_behind_a_trusted_proxy(
    redirector, make_qr, trusted: str, place: tuple[str, str] | None
) -> None:
    await make_qr("httpcode5", "https://example.com/")
    async with redirector(trusted=trusted) as r:
        await r.client.get("/httpcode5", headers={"x-forwarded-for": "1.2.3.4, 198.51.100.7"})
    (row,) = r.listener.rows
    assert (row.country, row.city) == (place or ("unknown", "unknown"))
    assert "198.51.100.7" not in repr(row)


async def test_in_process_update_is_seen_by_the_next_scan(
    redirector, make_qr, change_destination
) -> None:
    target = await make_qr("httpcode6", "https://example.com/v0")
    async with redirector() as r:
        directory = LinkDirectory(None, r.bus)
        for version in range(1, 6):
            for _ in range(3):  # warm the cache
                assert (await r.client.get("/httpcode6")).status_code == 302
            target = await change_destination(target, f"https://example.com/v{version}")
            await directory.publish_change(target)
            response = await r.client.get("/httpcode6")
            assert response.headers["location"] == f"https://example.com/v{version}"


async def test_a_new_code_is_found_even_after_a_cached_miss(redirector, make_qr) -> None:
    async with redirector() as r:
        assert (await r.client.get("/httpcode7")).status_code == 404
        target = await make_qr("httpcode7", "https://example.com/new")
        await LinkDirectory(None, r.bus).publish_change(target)
        assert (await r.client.get("/httpcode7")).status_code == 302


async def test_closing_drains_every_recorded_scan(redirector, make_qr) -> None:
    await make_qr("httpcode8", "https://example.com/")
    async with redirector() as r:
        for n in range(200):
            await r.client.get("/httpcode8", headers={"user-agent": f"agent {n}"})
    assert len(r.listener.rows) == 200
    # The client keeps the cookie: one device, whatever its user agent says.
    assert sum(row.is_unique for row in r.listener.rows) == 1
