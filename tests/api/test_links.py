"""PATCH /qr/{id}, DELETE /qr/{id} and the link options on generate, over REST."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from core.models import Account, QrCode
from core.passwords import verify_password

if TYPE_CHECKING:
    from tests.api.conftest import Api

RULE = {"if": {"country": ["de", "AT"], "device": ["mobile"]}, "destination": "https://de.example/"}
SPLIT = [
    {"destination": "https://a.example/", "weight": 70},
    {"destination": "https://b.example/", "weight": 30},
]


async def _dynamic(api: Api, headers: dict[str, str], **options: Any) -> dict[str, Any]:
    body = {"type": "dynamic", "data": "https://d.example/", "size": 128, **options}
    response = await api.post("/qr/generate", body, headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _patch(api: Api, qr_id: str, body: Any, headers: dict[str, str]) -> Any:
    return await api.client.patch(f"/qr/{qr_id}", json=body, headers=headers)


async def test_patch_changes_only_what_is_sent_and_announces_it(api: Api) -> None:
    headers = await api.key("ultra")
    qr = await _dynamic(api, headers, name="poster")
    body = {
        "destination": "https://new.example/",
        "paused": True,
        "expires_at": "2030-01-02T03:04:05+01:00",
        "max_scans": 50,
        "forward_query": True,
        "utm": {"source": "qr", "campaign": "fall"},
        "rules": [RULE],
        "split": SPLIT,
    }
    response = await _patch(api, qr["id"], body, headers)
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["name"] == "poster"  # not sent: unchanged
    assert (view["destination"], view["paused"], view["max_scans"]) == (
        "https://new.example/", True, 50,
    )  # fmt: skip
    assert view["expires_at"] == "2030-01-02T02:04:05Z"
    assert view["utm"] == {"source": "qr", "campaign": "fall"}
    # Normalized: countries upper case, lists sorted.
    assert view["rules"] == [
        {
            "if": {"country": ["DE", "AT"], "device": ["mobile"]},
            "destination": "https://de.example/",
        }
    ]
    assert view["split"] == SPLIT
    assert (view["forward_query"], view["has_password"], view["domain"]) == (True, False, None)
    announced = api.links.published[-1]
    assert announced.key == qr["short_code"]
    assert announced.policy is not None
    assert announced.policy.paused
    assert announced.options.max_scans == 50
    # null removes an option; what is not sent stays.
    removed = await _patch(api, qr["id"], {"rules": None, "expires_at": None, "utm": None}, headers)
    view = removed.json()
    assert (view["rules"], view["expires_at"], view["utm"], view["split"]) == (
        [],
        None,
        None,
        SPLIT,
    )
    assert (await api.client.get(f"/qr/{qr['id']}", headers=headers)).json() == view


async def test_the_password_is_hashed_write_only_and_removable(api: Api) -> None:
    headers = await api.key("pro")
    qr = await _dynamic(api, headers, password="open sesame")
    assert qr["has_password"] is True
    assert "open sesame" not in str(qr)
    stored = await QrCode.get(id=qr["id"])
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("scrypt$")
    assert verify_password("open sesame", stored.password_hash)
    assert not verify_password("open sesame!", stored.password_hash)
    assert "open sesame" not in repr(api.links.published[-1])
    cleared = await _patch(api, qr["id"], {"password": None}, headers)
    assert cleared.json()["has_password"] is False
    assert (await QrCode.get(id=qr["id"])).password_hash is None


@pytest.mark.parametrize(
    ("tier", "body", "status", "code", "field"),
    [
        ("basic", {"password": "secret1"}, 403, "tier_required", None),
        ("pro", {"rules": [RULE]}, 403, "tier_required", None),
        ("pro", {"split": SPLIT}, 403, "tier_required", None),
        ("ultra", {"rules": [RULE] * 11}, 422, "validation_error", "rules"),
        ("ultra", {"split": SPLIT[:1]}, 422, "validation_error", "split"),
        ("ultra", {"split": SPLIT * 3}, 422, "validation_error", "split"),
        ("pro", {"password": "abc"}, 422, "validation_error", "password"),
        ("pro", {"expires_at": "2030-01-01T00:00:00"}, 422, "validation_error", "expires_at"),
        ("pro", {"expires_at": "tomorrow"}, 422, "validation_error", "expires_at"),
        ("pro", {"max_scans": 0}, 422, "validation_error", "max_scans"),
        ("pro", {"paused": "yes"}, 422, "validation_error", "paused"),
        ("pro", {"utm": {"source": "x", "medium2": "y"}}, 422, "validation_error", "utm.medium2"),
        ("pro", {"destination": None}, 422, "unsafe_url", "destination"),
        ("pro", {"destination": "ftp://x.example/"}, 422, "unsafe_url", "destination"),
        ("mega", {"rules": [{"if": {}, "destination": "https://x.example/"}]}, 422,
         "validation_error", "rules.0.if"),
        ("mega", {"rules": [{"if": {"country": ["GER"]}, "destination": "https://x.example/"}]},
         422, "validation_error", "rules.0.if.country.0"),
        ("mega", {"rules": [{"if": {"os": ["beos"]}, "destination": "https://x.example/"}]},
         422, "validation_error", "rules.0.if.os.0"),
        ("mega", {"rules": [{"if": {"language": ["en_US!"]}, "destination": "https://x.example/"}]},
         422, "validation_error", "rules.0.if.language.0"),
        ("mega", {"rules": [{"if": {"time": {"from": "8:00"}}, "destination": "https://x.example/"}]},
         422, "validation_error", "rules.0.if.time.from"),
        ("mega", {"rules": [{"if": {"time": {"tz": "Mars/Olympus"}}, "destination": "https://x.example/"}]},
         422, "validation_error", "rules.0.if.time.tz"),
        ("mega", {"rules": [{"if": {"device": ["mobile"]}, "destination": "javascript:x"}]},
         422, "unsafe_url", "rules.0.destination"),
        ("mega", {"split": [{"destination": "https://a.example/", "weight": 0}] * 2},
         422, "validation_error", "split.0.weight"),
    ],
)  # fmt: skip
async def test_refusals_say_what_and_where(
    api: Api, tier: str, body: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    headers = await api.key(tier)
    qr = await _dynamic(api, headers)
    published = len(api.links.published)
    response = await _patch(api, qr["id"], body, headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if field is not None:
        assert error["details"][0]["field"] == field
    assert len(api.links.published) == published  # nothing changed, nothing announced


async def test_generate_takes_the_options_for_dynamic_codes_only(api: Api) -> None:
    headers = await api.key("ultra")
    qr = await _dynamic(api, headers, rules=[RULE], paused=True, max_scans=3, password="pass1234")
    assert (qr["paused"], qr["max_scans"], qr["has_password"], len(qr["rules"])) == (
        True, 3, True, 1,
    )  # fmt: skip
    assert api.links.published[-1].policy is not None
    static = await api.post("/qr/generate", {"data": "hello", "paused": True}, headers)
    assert static.status_code == 422
    assert static.json()["error"]["details"][0]["field"] == "paused"
    assert (await api.post("/qr/generate", {"data": "x", "domain": "a.example"}, headers)).json()[
        "error"
    ]["details"][0]["field"] == "domain"
    unknown = await api.post(
        "/qr/generate", {"type": "dynamic", "data": "https://d.example/", "domain": "no.example"},
        headers,
    )  # fmt: skip
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["field"] == "domain"


async def test_static_codes_may_only_be_renamed(api: Api) -> None:
    headers = await api.key()
    created = (await api.post("/qr/generate", {"data": "plain text"}, headers)).json()
    renamed = await _patch(api, created["id"], {"name": "label"}, headers)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "label"
    assert renamed.json()["paused"] is None
    refused = await _patch(api, created["id"], {"paused": True}, headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "not_dynamic")


async def test_delete_is_soft_frees_the_slot_and_answers_404_after(api: Api) -> None:
    headers = await api.key("basic")  # 5 dynamic codes
    codes = [await _dynamic(api, headers) for _ in range(5)]
    account_id = (await QrCode.get(id=codes[0]["id"])).account_id
    full = await api.post(
        "/qr/generate", {"type": "dynamic", "data": "https://x.example/"}, headers
    )
    assert full.json()["error"]["code"] == "dynamic_qr_limit"
    victim = codes[0]
    deleted = await api.client.delete(f"/qr/{victim['id']}", headers=headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    announced = api.links.published[-1]
    assert (announced.short_code, announced.options.deleted) == (victim["short_code"], True)
    row = await QrCode.get(id=victim["id"])
    assert row.deleted_at is not None
    assert row.short_code == victim["short_code"]
    assert (await Account.get(id=account_id)).dynamic_qr_count == 4
    await asyncio.sleep(1.1)  # the key's 10/s bucket refills
    for response in (
        await api.client.get(f"/qr/{victim['id']}", headers=headers),
        await _patch(api, victim["id"], {"name": "x"}, headers),
        await api.client.patch(
            f"/qr/{victim['id']}/destination", json={"url": "https://y.example/"}, headers=headers
        ),
        await api.client.delete(f"/qr/{victim['id']}", headers=headers),
    ):
        assert response.status_code == 404, response.text
    assert api.links.published[-1].options.deleted  # the repeated DELETE announced it again
    assert (await _dynamic(api, headers))["short_code"] != victim["short_code"]  # the slot


async def test_someone_elses_code_cannot_be_changed_or_deleted(api: Api) -> None:
    qr = await _dynamic(api, await api.key("ultra"))
    other = await api.key("ultra")
    assert (await _patch(api, qr["id"], {"paused": True}, other)).status_code == 404
    assert (await api.client.delete(f"/qr/{qr['id']}", headers=other)).status_code == 404
    assert (await QrCode.get(id=qr["id"])).paused is False


async def test_the_old_destination_route_still_works(api: Api) -> None:
    headers = await api.key("ultra")
    qr = await _dynamic(api, headers, rules=[RULE])
    moved = await api.client.patch(
        f"/qr/{qr['id']}/destination", json={"url": "https://moved.example/"}, headers=headers
    )
    assert moved.status_code == 200
    assert (moved.json()["destination"], moved.json()["rules"][0]["destination"]) == (
        "https://moved.example/", "https://de.example/",
    )  # fmt: skip
