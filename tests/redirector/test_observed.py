"""What the redirector tells an operator: redirect counts in plain ints (read at scrape time),
and an access line per request only when QRMINT_REDIRECT_ACCESS_LOG asks for it."""

from __future__ import annotations

import logging
from dataclasses import replace

import httpx
import pytest

from core.bus import LocalBus
from core.config import Settings
from redirector.wiring import open_redirector


async def _visit(settings: Settings, paths: list[str]) -> tuple[object, list[httpx.Response]]:
    async with open_redirector(
        settings,
        redis=None,
        bus=LocalBus(),
        sinks=[],
        listeners=[],
        geo_locator=lambda ip: ("", ""),
    ) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1"
        ) as client:  # the base domain
            responses = [await client.get(path) for path in paths]
        return app.state.redirects, responses


async def test_redirects_are_counted_by_outcome(db_settings: Settings, make_qr) -> None:
    await make_qr("countme1", "https://example.com/")
    counts, responses = await _visit(db_settings, ["/countme1", "/countme1", "/nosuchcode1", "/x"])
    assert [response.status_code for response in responses] == [302, 302, 404, 404]
    assert (counts.redirected, counts.not_found) == (2, 2)  # type: ignore[attr-defined]


async def test_no_access_line_unless_asked(
    db_settings: Settings, make_qr, caplog: pytest.LogCaptureFixture
) -> None:
    await make_qr("quietcode", "https://example.com/")
    caplog.set_level(logging.DEBUG)
    _, (response,) = await _visit(db_settings, ["/quietcode"])
    assert response.status_code == 302
    assert "x-request-id" not in response.headers
    assert not [record for record in caplog.records if record.name == "ops.requests"]


async def test_access_line_when_asked(
    db_settings: Settings, make_qr, caplog: pytest.LogCaptureFixture
) -> None:
    await make_qr("loudcode1", "https://example.com/")
    caplog.set_level(logging.INFO, logger="ops.requests")
    settings = replace(db_settings, redirect_access_log=True)
    _, (response,) = await _visit(settings, ["/loudcode1"])
    assert response.status_code == 302
    (line,) = [record for record in caplog.records if record.name == "ops.requests"]
    assert line.getMessage().startswith("GET /loudcode1 302 ")
    assert line.request_id == response.headers["x-request-id"]  # type: ignore[attr-defined]
    assert line.route == "/{short_code}"  # type: ignore[attr-defined]
