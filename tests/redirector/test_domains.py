"""Domain verification through the domain itself, answered by a real redirector.

DNS is the one thing a test cannot change, so the verifier's resolver maps the test's
hostname to 127.0.0.1 and its port is the served redirector's; everything else is real:
the HTTP request by that Host, the proof the redirector computes, the private-address rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from core import accounts
from core.accounts import Principal
from core.bus import LocalBus
from core.config import Settings
from core.domain_proof import DomainVerifier
from core.domains import DomainService
from core.errors import Invalid
from core.links import LinkDirectory
from core.scans import ScanBatch, ScanRow
from core.tiers import load_tiers
from redirector.wiring import open_redirector

HOST = "go.brand.example"


async def _to_loopback(host: str, port: int) -> Sequence[str]:
    return ["127.0.0.1"] if host == HOST else []


@pytest.fixture
async def principal(db_settings: Settings) -> Principal:
    _, key = await accounts.create_account(load_tiers(), "pro")
    return await accounts.authenticate(load_tiers(), key)


class Rows(list[ScanRow]):
    async def commit(self, batch: ScanBatch) -> None:
        self.extend(batch.rows)


ROWS = Rows()


@pytest.fixture
async def served(db_settings: Settings, server: Any) -> AsyncIterator[tuple[str, LocalBus]]:
    bus = LocalBus()
    ROWS.clear()
    async with (
        open_redirector(db_settings, redis=None, bus=bus, sinks=[ROWS]) as app,
        server(app) as base,
    ):
        yield base, bus


def _service(settings: Settings, bus: LocalBus, port: int, **overrides: Any) -> DomainService:
    checked = replace(settings, **{"webhook_allow_private": True, **overrides})
    verifier = DomainVerifier(checked, resolver=_to_loopback, port=port)
    return DomainService(settings, LinkDirectory(None, bus), verifier)


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


async def test_a_domain_pointing_here_verifies_and_then_routes(
    db_settings: Settings, served: tuple[str, LocalBus], principal: Principal
) -> None:
    base, bus = served
    service = _service(db_settings, bus, _port(base))
    added = await service.add(principal, HOST)
    async with httpx.AsyncClient(base_url=base) as client:
        before = await client.get("/SomeCode12", headers={"host": HOST})
        assert before.status_code == 404  # an unknown host, cached as such
        verified = await service.verify(principal, added.id)
        assert verified.verified
        assert verified.verified_at is not None
        assert (await service.verify(principal, added.id)).verified  # idempotent
        # The redirector heard of it at once: the host is known now, and an unknown code on
        # it is an orphan scan of this account (before, nothing was recorded).
        assert (await client.get("/SomeCode12", headers={"host": HOST})).status_code == 404
    for _ in range(500):
        if ROWS:
            break
        await asyncio.sleep(0.01)
    assert [(r.domain, r.account_id, r.outcome) for r in ROWS] == [
        (HOST, principal.account_id, "not_found")
    ]


async def test_another_installations_redirector_does_not_prove_it(
    db_settings: Settings, served: tuple[str, LocalBus], principal: Principal
) -> None:
    base, bus = served
    other_secret = replace(db_settings, secret_key="another-installation-secret-0123")
    service = DomainService(
        db_settings,
        LinkDirectory(None, bus),
        DomainVerifier(
            replace(other_secret, webhook_allow_private=True),
            resolver=_to_loopback,
            port=_port(base),
        ),
    )
    added = await service.add(principal, HOST)
    with pytest.raises(Invalid) as caught:
        await service.verify(principal, added.id)
    assert caught.value.code == "domain_unverified"
    assert "not with this installation's proof" in caught.value.message
    assert not (await service.list_all(principal))[0].verified


async def test_a_server_that_is_not_qrmint_does_not_prove_it(
    db_settings: Settings, server: Any, principal: Principal
) -> None:
    async def anything(request: Any) -> PlainTextResponse:
        return PlainTextResponse("not found", status_code=404)

    async with server(Starlette(routes=[Route("/{path:path}", anything)])) as base:
        service = _service(db_settings, LocalBus(), _port(base))
        added = await service.add(principal, HOST)
        with pytest.raises(Invalid) as caught:
            await service.verify(principal, added.id)
    assert "answered HTTP 404" in caught.value.message


@pytest.mark.parametrize(
    ("hostname", "allow_private", "why"),
    [
        (HOST, False, "private or reserved address"),  # 127.0.0.1, outside tests and on-prem
        ("nowhere.example", True, "does not resolve"),
    ],
)
async def test_unreachable_or_private_names_are_refused(
    db_settings: Settings,
    served: tuple[str, LocalBus],
    principal: Principal,
    hostname: str,
    allow_private: bool,
    why: str,
) -> None:
    base, bus = served
    service = _service(db_settings, bus, _port(base), webhook_allow_private=allow_private)
    added = await service.add(principal, hostname)
    with pytest.raises(Invalid) as caught:
        await service.verify(principal, added.id)
    assert why in caught.value.message
