"""Scan webhook endpoints over REST: tier, SSRF, ports, limit, secret shown once,
turning them off and on again."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from core import accounts

if TYPE_CHECKING:
    from tests.api.conftest import Api

# A literal public address: no DNS is needed to register it.
PUBLIC = "https://93.184.215.14/hooks/qrmint"


@pytest.mark.parametrize("tier", ["basic", "pro", "ultra"])
async def test_registering_and_enabling_need_mega_listing_and_deleting_do_not(
    api: Api, tier: str
) -> None:
    headers = await api.key(tier)
    created = await api.post("/webhooks/scan-endpoints", {"url": PUBLIC}, headers)
    enabled = await api.client.patch(
        "/webhooks/scan-endpoints/wep_x", json={"enabled": True}, headers=headers
    )
    for response in (created, enabled):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "tier_required"
    listed = await api.client.get("/webhooks/scan-endpoints", headers=headers)
    assert (listed.status_code, listed.json()) == (200, {"endpoints": []})
    deleted = await api.client.delete("/webhooks/scan-endpoints/wep_x", headers=headers)
    assert (deleted.status_code, deleted.json()["error"]["code"]) == (404, "not_found")


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
        "https://93.184.215.14:22/hook",
        "https://93.184.215.14:25/hook",
        "https://93.184.215.14:80/hook",
        "https://93.184.215.14:0/hook",
        "https://93.184.215.14:1023/hook",
    ],
)
async def test_unsafe_targets_are_refused(api: Api, url: str) -> None:
    response = await api.post("/webhooks/scan-endpoints", {"url": url}, await api.key("mega"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unsafe_url"


@pytest.mark.parametrize("port", [443, 1024, 8443, 65535])
async def test_allowed_ports(api: Api, port: int) -> None:
    url = f"https://93.184.215.14:{port}/hook"
    response = await api.post("/webhooks/scan-endpoints", {"url": url}, await api.key("mega"))
    assert response.status_code == 201, response.text


async def test_disable_and_enable_by_patch(api: Api) -> None:
    headers = await api.key("mega")
    created = (await api.post("/webhooks/scan-endpoints", {"url": PUBLIC}, headers)).json()
    path = f"/webhooks/scan-endpoints/{created['id']}"
    off = await api.client.patch(path, json={"enabled": False}, headers=headers)
    assert off.status_code == 200, off.text
    assert (off.json()["enabled"], off.json()["disabled_reason"]) == (False, "manual")
    assert off.json()["disabled_at"]
    on = await api.client.patch(path, json={"enabled": True}, headers=headers)
    body = on.json()
    assert (body["enabled"], body["disabled_at"], body["failing_since"]) == (True, None, None)
    assert "secret" not in body
    stranger = await api.client.patch(path, json={"enabled": True}, headers=await api.key("mega"))
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (404, "not_found")
    for bad in ({}, {"enabled": "yes"}, {"enabled": True, "url": PUBLIC}):
        refused = await api.client.patch(path, json=bad, headers=headers)
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "validation_error")


async def test_after_a_downgrade_endpoints_stay_listed_and_deletable(api: Api) -> None:
    headers = await api.key("mega")
    created = (await api.post("/webhooks/scan-endpoints", {"url": PUBLIC}, headers)).json()
    principal = await accounts.authenticate(api.services.tiers, headers["Authorization"][7:])
    await accounts.set_tier(api.services.tiers, principal.key_id, "pro")
    path = f"/webhooks/scan-endpoints/{created['id']}"
    listed = await api.client.get("/webhooks/scan-endpoints", headers=headers)
    assert [item["id"] for item in listed.json()["endpoints"]] == [created["id"]]
    enable = await api.client.patch(path, json={"enabled": True}, headers=headers)
    assert (enable.status_code, enable.json()["error"]["code"]) == (403, "tier_required")
    disable = await api.client.patch(path, json={"enabled": False}, headers=headers)
    assert disable.status_code == 200
    assert (await api.client.delete(path, headers=headers)).status_code == 204
