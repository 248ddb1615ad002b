"""PATCH /qr/{id}/destination."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

if TYPE_CHECKING:
    from tests.api.conftest import Api


async def _dynamic(api: Api, headers: dict[str, str]) -> str:
    body = {"type": "dynamic", "data": "https://old.example/", "size": 128}
    response = await api.post("/qr/generate", body, headers)
    assert response.status_code == 201, response.text
    qr_id: str = response.json()["id"]
    return qr_id


async def test_update_destination_publishes_the_change(api: Api) -> None:
    headers = await api.key()
    qr_id = await _dynamic(api, headers)
    response = await api.client.patch(
        f"/qr/{qr_id}/destination", json={"url": "https://new.example/"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["destination"] == "https://new.example/"
    assert api.links.published[-1].destination == "https://new.example/"
    again = await api.client.get(f"/qr/{qr_id}", headers=headers)
    assert again.json()["destination"] == "https://new.example/"


async def test_static_qr_has_no_destination(api: Api) -> None:
    headers = await api.key()
    created = await api.post("/qr/generate", {"data": "plain"}, headers)
    response = await api.client.patch(
        f"/qr/{created.json()['id']}/destination",
        json={"url": "https://x.example/"},
        headers=headers,
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_dynamic"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://a@b.example/", "x" * 3000])
async def test_unsafe_new_destination(api: Api, url: str) -> None:
    headers = await api.key()
    qr_id = await _dynamic(api, headers)
    response = await api.client.patch(
        f"/qr/{qr_id}/destination", json={"url": url}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unsafe_url"
    assert response.json()["error"]["details"][0]["field"] == "url"


async def test_someone_elses_destination_is_not_found(api: Api) -> None:
    qr_id = await _dynamic(api, await api.key())
    response = await api.client.patch(
        f"/qr/{qr_id}/destination", json={"url": "https://mine.example/"}, headers=await api.key()
    )
    assert response.status_code == 404


async def test_redis_failing_after_the_save_is_a_clear_503(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await api.key()
    qr_id = await _dynamic(api, headers)

    async def broken(target: object) -> None:
        raise RedisConnectionError("redis went away")

    with monkeypatch.context() as patched:
        patched.setattr(api.links, "publish_change", broken)
        response = await api.client.patch(
            f"/qr/{qr_id}/destination", json={"url": "https://later.example/"}, headers=headers
        )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    again = await api.client.patch(
        f"/qr/{qr_id}/destination", json={"url": "https://later.example/"}, headers=headers
    )
    assert again.status_code == 200  # the retry the message asks for just works
