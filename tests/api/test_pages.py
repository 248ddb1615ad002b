"""GraphiQL and the API reference: served whole by qrmint (no CDN), under a strict CSP."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest

from api.app import create_api_app
from ops.pages import STATIC_DIR
from schema.app import graphql_routes

if TYPE_CHECKING:
    from tests.api.conftest import Api

HTML = {"Accept": "text/html"}
_ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')
_CLIENTS = itertools.count(1)


@pytest.fixture
async def browser(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A visitor without a key, from an address of its own (its own anonymous bucket)."""
    address = (f"198.51.100.{next(_CLIENTS)}", 5000)
    app = create_api_app(api.services, graphql_routes(api.services))
    transport = httpx.ASGITransport(app=app, client=address)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


def _policy(response: httpx.Response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    directives = (part.strip().split(" ", 1) for part in header.split(";"))
    return {name: value for name, value in directives}


@pytest.mark.parametrize("path", ["/graphql", "/docs"])
async def test_pages_are_locked_down(browser: httpx.AsyncClient, path: str) -> None:
    response = await browser.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = _policy(response)
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval, no other host
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "<script>" not in response.text  # every script is a file


@pytest.mark.parametrize("path", ["/graphql", "/docs"])
async def test_every_asset_is_served_by_qrmint(browser: httpx.AsyncClient, path: str) -> None:
    page = (await browser.get(path, headers=HTML)).text
    assets = _ASSET.findall(page)
    assert len(assets) >= 3
    assert "http://" not in page
    assert "https://" not in page
    for asset in assets:
        response = await browser.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        expected = "text/css" if asset.endswith(".css") else "javascript"
        assert expected in response.headers["content-type"], asset


async def test_vendored_packages_carry_their_licences() -> None:
    vendored = [folder for folder in STATIC_DIR.iterdir() if folder.name != "qrmint"]
    assert {folder.name.rsplit("-", 1)[0] for folder in vendored} == {
        "graphiql",
        "react",
        "react-dom",
        "swagger-ui-dist",
    }
    for folder in vendored:
        assert (folder / "LICENSE").is_file(), folder


async def test_our_scripts_reach_no_other_host() -> None:
    for script in (STATIC_DIR / "qrmint").iterdir():
        text = script.read_text()
        assert not re.search(r"https?://", text), script


async def test_vendored_assets_are_cached_ours_revalidated(browser: httpx.AsyncClient) -> None:
    vendored = await browser.get("/static/react-18.3.1/react.production.min.js")
    assert "immutable" in vendored.headers["Cache-Control"]
    ours = await browser.get("/static/qrmint/graphiql.js")
    assert ours.headers["Cache-Control"] == "no-cache"
    again = await browser.get(
        "/static/qrmint/graphiql.js", headers={"If-None-Match": ours.headers["ETag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path", ["/static/../core/config.py", "/static/%2e%2e/core/config.py", "/static/qrmint"]
)
async def test_nothing_outside_the_assets_is_served(browser: httpx.AsyncClient, path: str) -> None:
    response = await browser.get(path)
    assert response.status_code == 404
