"""The GraphQL twins of the link options, deletion and domains: same answers, same codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from core.models import QrCode
from tests.schema.conftest import error_of

if TYPE_CHECKING:
    from tests.schema.conftest import Gql

GENERATE = """
mutation($input: GenerateQrInput!) {
  generateQr(input: $input) {
    id shortCode shortUrl domain paused expiresAt maxScans hasPassword forwardQuery
    utm { source campaign } split { destination weight }
    rules { if { country device os language time { from to days tz } } destination }
  }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdateQrInput!) {
  updateQr(id: $id, input: $input) {
    id name destination paused maxScans hasPassword rules { destination }
  }
}
"""
WINDOW = {"from": "08:00", "to": "18:00", "days": ["mon"], "tz": "Europe/Berlin"}
RULE = {"if": {"country": ["de"], "time": WINDOW}, "destination": "https://de.example/"}


async def _generate(gql: Gql, key: str, **extra: Any) -> dict[str, Any]:
    body = {"data": "https://d.example/", "type": "DYNAMIC", "size": 64, **extra}
    result = await gql.run(GENERATE, {"input": body}, key=key)
    assert "errors" not in result, result
    qr: dict[str, Any] = result["data"]["generateQr"]
    return qr


async def test_generate_and_update_with_options(gql: Gql) -> None:
    key = await gql.key("ultra")
    qr = await _generate(
        gql, key, rules=[RULE], split=[{"destination": "https://a.example/", "weight": 2},
                                       {"destination": "https://b.example/", "weight": 1}],
        utm={"source": "qr"}, maxScans=9, password="letmein!", expiresAt="2031-01-01T00:00:00Z",
    )  # fmt: skip
    assert qr["rules"] == [
        {"if": {"country": ["DE"], "device": None, "os": None, "language": None,
                "time": {"from": "08:00", "to": "18:00", "days": ["mon"], "tz": "Europe/Berlin"}},
         "destination": "https://de.example/"}
    ]  # fmt: skip
    assert (qr["maxScans"], qr["hasPassword"], qr["expiresAt"]) == (9, True, "2031-01-01T00:00:00Z")
    assert qr["utm"] == {"source": "qr", "campaign": None}
    assert gql.links.published[-1].options.password_hash is not None
    # Given fields change, null removes, unset stays.
    changed = await gql.run(
        UPDATE,
        {
            "id": qr["id"],
            "input": {"name": "poster", "paused": True, "password": None, "rules": None},
        },
        key=key,
    )
    assert changed["data"]["updateQr"] == {
        "id": qr["id"], "name": "poster", "destination": "https://d.example/", "paused": True,
        "maxScans": 9, "hasPassword": False, "rules": [],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("tier", "change", "code", "field"),
    [
        ("basic", {"password": "secret!"}, "tier_required", None),
        ("pro", {"rules": [RULE]}, "tier_required", None),
        ("ultra", {"destination": "ftp://x.example/"}, "unsafe_url", "destination"),
        ("ultra", {"expiresAt": "2031-01-01T00:00:00"}, "validation_error", "expires_at"),
        ("ultra", {"rules": [{"if": {"os": ["beos"]}, "destination": "https://x.example/"}]},
         "validation_error", "rules.0.if.os.0"),
        ("ultra", {"rules": [{"if": {"time": {"tz": "Mars/Base"}}, "destination": "https://x.example/"}]},
         "validation_error", "rules.0.if.time.tz"),
    ],
)  # fmt: skip
async def test_the_same_refusals_as_rest(
    gql: Gql, tier: str, change: dict[str, Any], code: str, field: str | None
) -> None:
    key = await gql.key(tier)
    qr = await _generate(gql, key)
    error = error_of(await gql.run(UPDATE, {"id": qr["id"], "input": change}, key=key))
    assert error["extensions"]["code"] == code
    if field is not None:
        assert error["extensions"]["details"][0]["field"] == field


async def test_delete_qr_and_the_list(gql: Gql) -> None:
    key = await gql.key("pro")
    kept, gone = await _generate(gql, key), await _generate(gql, key)
    deleted = await gql.run("mutation($id: ID!) { deleteQr(id: $id) }", {"id": gone["id"]}, key=key)
    assert deleted["data"] == {"deleteQr": True}
    listed = await gql.run("{ qrs { edges { node { id } } } }", key=key)
    assert [edge["node"]["id"] for edge in listed["data"]["qrs"]["edges"]] == [kept["id"]]
    again = await gql.run("mutation($id: ID!) { deleteQr(id: $id) }", {"id": gone["id"]}, key=key)
    assert error_of(again)["extensions"]["code"] == "not_found"
    assert (await QrCode.get(id=gone["id"])).deleted_at is not None
    me = await gql.run(
        "{ me { usage { dynamicQrCount } limits { passwords maxRules maxDomains } } }", key=key
    )
    assert me["data"]["me"]["usage"]["dynamicQrCount"] == 1
    assert me["data"]["me"]["limits"] == {"passwords": True, "maxRules": 0, "maxDomains": 1}


async def test_domains(gql: Gql) -> None:
    key = await gql.key("pro")
    add = 'mutation { addDomain(hostname: "Go.Twin.Example") { id hostname verified %s } }'
    added = await gql.run(add % "verificationUrl", key=key)
    domain = added["data"]["addDomain"]
    assert (domain["hostname"], domain["verified"]) == ("go.twin.example", False)
    assert domain["verificationUrl"].startswith("http://go.twin.example/.well-known/qrmint-domain/")
    again = await gql.run('mutation { addDomain(hostname: "go.other.example") { id } }', key=key)
    assert error_of(again)["extensions"]["code"] == "domain_limit"
    listed = await gql.run("{ domains { hostname } }", key=key)
    assert listed["data"]["domains"] == [{"hostname": "go.twin.example"}]
    removed = await gql.run(
        "mutation($id: ID!) { deleteDomain(id: $id) }", {"id": domain["id"]}, key=key
    )
    assert removed["data"] == {"deleteDomain": True}
    unknown = await gql.run(
        "mutation($id: ID!) { verifyDomain(id: $id) { id } }", {"id": domain["id"]}, key=key
    )
    assert error_of(unknown)["extensions"]["code"] == "not_found"
