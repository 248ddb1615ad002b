"""Tiers, rate limits and quotas: enforced atomically, reported in headers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

import render
from core import accounts
from core.errors import Invalid
from core.models import Account, MonthlyUsage, QrCode
from core.qrcodes import GenerateSpec
from core.quota import current_month

if TYPE_CHECKING:
    from tests.api.conftest import Api


async def _account_id(api: Api, headers: dict[str, str]) -> str:
    created = await api.post("/qr/generate", {"data": "probe"}, headers)
    qr = await QrCode.get(id=created.json()["id"])
    return qr.account_id


async def test_rate_limit_headers_on_every_response(api: Api) -> None:
    headers = await api.key()
    response = await api.post("/qr/generate", {"data": "x"}, headers)
    assert response.headers["X-RateLimit-Limit"] == "10"
    assert int(response.headers["X-RateLimit-Remaining"]) <= 9
    assert int(response.headers["X-RateLimit-Reset"]) >= 0
    missing = await api.client.get("/qr/nope", headers=headers)
    assert missing.status_code == 404
    assert "X-RateLimit-Remaining" in missing.headers


async def test_eleventh_request_in_a_second_is_429(api: Api) -> None:
    headers = await api.key()
    responses = await asyncio.gather(
        *(api.client.get("/qr/unknown", headers=headers) for _ in range(14))
    )
    refused = [r for r in responses if r.status_code == 429]
    assert refused, [r.status_code for r in responses]
    assert refused[0].json()["error"]["code"] == "rate_limited"
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert refused[0].headers["X-RateLimit-Remaining"] == "0"


async def test_twenty_concurrent_generations_never_make_a_sixth_dynamic_qr(api: Api) -> None:
    # Straight at the service: the per-second rate limit must not be what stops them.
    headers = await api.key("basic")
    raw = headers["Authorization"].removeprefix("Bearer ")
    principal = await accounts.authenticate(api.services.tiers, raw)
    spec = GenerateSpec(data="https://a.example/", type="dynamic", size=128)
    outcomes = await asyncio.gather(
        *(api.services.qr.generate(principal, spec) for _ in range(20)), return_exceptions=True
    )
    made = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, Invalid)]
    assert len(made) == 5
    assert len(refused) == 15
    assert {e.code for e in refused} == {"dynamic_qr_limit"}
    assert await QrCode.filter(account_id=principal.account_id, type="dynamic").count() == 5
    assert (await Account.get(id=principal.account_id)).dynamic_qr_count == 5


async def test_dynamic_limit_error_code(api: Api) -> None:
    headers = await api.key("basic")
    account_id = await _account_id(api, headers)
    await Account.filter(id=account_id).update(dynamic_qr_count=5)
    response = await api.post("/qr/generate", {"type": "dynamic", "data": "https://a.b/"}, headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "dynamic_qr_limit"


async def test_monthly_quota_is_429_and_refused_generation_is_not_stored(api: Api) -> None:
    headers = await api.key("basic")
    account_id = await _account_id(api, headers)
    await MonthlyUsage.filter(account_id=account_id, month=current_month()).update(generations=500)
    before = await QrCode.filter(account_id=account_id).count()
    response = await api.post("/qr/generate", {"data": "one more"}, headers)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert "Retry-After" in response.headers
    assert await QrCode.filter(account_id=account_id).count() == before


async def test_failed_render_does_not_spend_quota(api: Api) -> None:
    headers = await api.key("basic")
    account_id = await _account_id(api, headers)
    style = {"dots": {"color": "#fefefe"}}
    response = await api.post("/qr/generate", {"data": "x", "style": style}, headers)
    assert response.status_code == 422
    usage = await MonthlyUsage.get(account_id=account_id, month=current_month())
    assert usage.generations == 1


async def test_refusal_comes_before_the_render(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # A key with no room left is refused from a cheap read, not after an expensive render.
    headers = await api.key("basic")
    account_id = await _account_id(api, headers)
    await Account.filter(id=account_id).update(dynamic_qr_count=5)
    rendered: list[render.RenderRequest] = []
    original = render.render_cached

    def counting(request: render.RenderRequest) -> render.RenderedImage:
        rendered.append(request)
        return original(request)

    monkeypatch.setattr(render, "render_cached", counting)
    body = {"type": "dynamic", "data": "https://a.b/", "size": 4096}
    response = await api.post("/qr/generate", body, headers)
    assert response.json()["error"]["code"] == "dynamic_qr_limit"
    assert rendered == []
