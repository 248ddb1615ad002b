"""/domains over REST. The verifier is a stand-in here; the real check, through a real
redirector reached by the domain's name, is in tests/redirector/test_domains.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from core.errors import Invalid

if TYPE_CHECKING:
    from tests.api.conftest import Api


class StandInVerifier:
    def __init__(self) -> None:
        self.reachable: set[str] = set()

    async def verify(self, hostname: str, token: str) -> None:
        if hostname not in self.reachable:
            raise Invalid("not reachable", code="domain_unverified")


@pytest.fixture
def verifier(api: Api) -> Iterator[StandInVerifier]:
    stand_in = StandInVerifier()
    service = api.services.domains
    real, service._verifier = service._verifier, stand_in  # type: ignore[assignment]
    yield stand_in
    service._verifier = real


async def _add(api: Api, headers: dict[str, str], hostname: Any) -> Any:
    return await api.post("/domains", {"hostname": hostname}, headers)


@pytest.mark.parametrize(
    "hostname",
    ["", "https://go.example/", "go.example:8080", "go.example/path", "203.0.113.9", "localhost",
     "-go.example", "a..example", "x" * 64 + ".example", "127.0.0.1", "go.123"],
)  # fmt: skip
async def test_a_hostname_is_a_plain_name(api: Api, hostname: str) -> None:
    response = await _add(api, await api.key("pro"), hostname)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "hostname"


async def test_add_verify_use_and_delete(api: Api, verifier: StandInVerifier) -> None:
    headers = await api.key("ultra")
    added = await _add(api, headers, "Go.Brand.Example.")
    assert added.status_code == 201, added.text
    domain = added.json()
    assert (domain["hostname"], domain["verified"], domain["verified_at"]) == (
        "go.brand.example", False, None,
    )  # fmt: skip
    url = domain["verification"]["url"]
    assert url.startswith("http://go.brand.example/.well-known/qrmint-domain/")
    assert (await _add(api, headers, "go.brand.example")).json()["error"]["code"] == "domain_exists"
    body = {"type": "dynamic", "data": "https://d.example/", "domain": "go.brand.example"}
    unverified = await api.post("/qr/generate", body, headers)
    assert unverified.json()["error"]["details"][0]["field"] == "domain"

    refused = await api.client.post(f"/domains/{domain['id']}/verify", headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "domain_unverified")
    verifier.reachable.add("go.brand.example")
    verified = await api.client.post(f"/domains/{domain['id']}/verify", headers=headers)
    assert verified.status_code == 200
    assert verified.json()["verified"] is True
    assert api.links.domains[-1] == ("go.brand.example", tuple[str, ...]())

    qr = await api.post("/qr/generate", body, headers)
    assert qr.status_code == 201, qr.text
    code = qr.json()["short_code"]
    assert qr.json()["short_url"] == f"http://go.brand.example/{code}"
    assert qr.json()["data"] == qr.json()["short_url"]
    assert api.links.published[-1].key == f"go.brand.example/{code}"
    listed = (await api.client.get("/domains", headers=headers)).json()["domains"]
    assert [d["hostname"] for d in listed] == ["go.brand.example"]
    await asyncio.sleep(1.1)  # the key's 10/s bucket refills

    in_use = await api.client.delete(f"/domains/{domain['id']}", headers=headers)
    assert (in_use.status_code, in_use.json()["error"]["code"]) == (409, "domain_in_use")
    await api.client.delete(f"/qr/{qr.json()['id']}", headers=headers)
    gone = await api.client.delete(f"/domains/{domain['id']}", headers=headers)
    assert gone.status_code == 204
    # The deleted code's cached entry goes with the domain: the host is unknown now.
    assert api.links.domains[-1] == ("go.brand.example", (f"go.brand.example/{code}",))
    assert (await api.client.get("/domains", headers=headers)).json()["domains"] == []


async def test_a_hostname_serves_one_account(api: Api, verifier: StandInVerifier) -> None:
    verifier.reachable.add("shared.example")
    first, second = await api.key("pro"), await api.key("pro")
    mine = (await _add(api, first, "shared.example")).json()
    theirs = (await _add(api, second, "shared.example")).json()  # a claim is not ownership
    assert (
        await api.client.post(f"/domains/{mine['id']}/verify", headers=first)
    ).status_code == 200
    taken = await api.client.post(f"/domains/{theirs['id']}/verify", headers=second)
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "domain_taken")
    for response in (
        await api.client.post(f"/domains/{mine['id']}/verify", headers=second),
        await api.client.delete(f"/domains/{mine['id']}", headers=second),
    ):
        assert response.status_code == 404


async def test_domains_per_tier(api: Api) -> None:
    basic = await _add(api, await api.key("basic"), "b.example")
    assert (basic.status_code, basic.json()["error"]["code"]) == (403, "tier_required")
    pro = await api.key("pro")  # one domain
    assert (await _add(api, pro, "one.example")).status_code == 201
    second = await _add(api, pro, "two.example")
    assert (second.status_code, second.json()["error"]["code"]) == (409, "domain_limit")


async def test_concurrent_additions_never_pass_the_limit(api: Api) -> None:
    headers = await api.key("ultra")  # five domains
    answers = await asyncio.gather(*(_add(api, headers, f"d{n}.example") for n in range(8)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(201) == 5
    assert set(statuses) <= {201, 409, 429}
