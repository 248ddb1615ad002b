"""Scan webhook endpoints over REST: tier, SSRF, limit, secret shown once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.api.conftest import Api

# A literal public address: no DNS is needed to register it.
PUBLIC = "https://93.184.215.14/hooks/qrmint"


@pytest.mark.parametrize("tier", ["basic", "pro", "ultra"])
async def test_every_endpoint_needs_mega(api: Api, tier: str) -> None:
    headers = await api.key(tier)
    created = await api.post("/webhooks/scan-endpoints", {"url": PUBLIC}, headers)
    listed = await api.client.get("/webhooks/scan-endpoints", headers=headers)
    deleted = await api.client.delete("/webhooks/scan-endpoints/wep_x", headers=headers)
    for response in (created, listed, deleted):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "tier_required"


async def test_register_list_delete(api: Api) -> None:
    headers = await api.key("mega")
    created = await api.post(
        "/webhooks/scan-endpoints", {"url": PUBLIC, "description": "orders"}, headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert set(body) == {"id", "url", "description", "secret", "created_at"}
    listed = await api.client.get("/webhooks/scan-endpoints", headers=headers)
    assert listed.status_code == 200
    assert body["secret"] not in listed.text
    [endpoint] = listed.json()["endpoints"]
    assert endpoint["id"] == body["id"]
    assert endpoint["description"] == "orders"
    stranger = await api.key("mega")
    other = await api.client.delete(f"/webhooks/scan-endpoints/{body['id']}", headers=stranger)
    assert other.status_code == 404
    gone = await api.client.delete(f"/webhooks/scan-endpoints/{body['id']}", headers=headers)
    assert gone.status_code == 204
    again = await api.client.delete(f"/webhooks/scan-endpoints/{body['id']}", headers=headers)
    assert again.status_code == 404


async def test_sixth_endpoint_is_a_conflict(api: Api) -> None:
    headers = await api.key("mega")
    for _ in range(5):
        assert (
            await api.post("/webhooks/scan-endpoints", {"url": PUBLIC}, headers)
        ).status_code == 201
    sixth = await api.post("/webhooks/scan-endpoints", {"url": PUBLIC}, headers)
    assert sixth.status_code == 409
    assert sixth.json()["error"]["code"] == "endpoint_limit"


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://2130706433/hook",
        "https://user:pw@93.184.215.14/hook",
    ],
)
async def test_unsafe_targets_are_refused(api: Api, url: str) -> None:
    response = await api.post("/webhooks/scan-endpoints", {"url": url}, await api.key("mega"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unsafe_url"
