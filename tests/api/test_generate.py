"""POST /qr/generate and GET /qr/{id}: real images, decoded by a real reader."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.api.conftest import Api

STYLE = {
    "dots": {"shape": "rounded", "color": "#1a1a1a"},
    "corner_squares": {"shape": "extra-rounded", "color": "#0b3d91"},
    "corner_dots": {"shape": "dot", "color": "#0b3d91"},
    "background": {"color": "#ffffff"},
}


def _image(body: dict[str, Any]) -> bytes:
    return base64.b64decode(body["image_base64"])


async def test_static_png_encodes_the_data(api: Api, decode_image: Any) -> None:
    headers = await api.key()
    response = await api.post("/qr/generate", {"data": "Hello, menu!"}, headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["type"] == "static"
    assert body["mime_type"] == "image/png"
    assert body["short_code"] is None
    assert body["short_url"] is None
    assert body["destination"] is None
    assert body["created_at"].endswith("Z")
    assert decode_image(_image(body), "image/png") == "Hello, menu!"


@pytest.mark.parametrize("fmt", ["png", "svg"])
async def test_dynamic_encodes_the_short_url(api: Api, decode_image: Any, fmt: str) -> None:
    headers = await api.key()
    request = {"type": "dynamic", "data": "https://shop.example/spring", "format": fmt}
    response = await api.post("/qr/generate", {**request, "style": STYLE}, headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["destination"] == "https://shop.example/spring"
    assert body["short_url"] == f"http://127.0.0.1:8080/{body['short_code']}"
    assert len(body["short_code"]) >= 7
    assert decode_image(_image(body), body["mime_type"]) == body["short_url"]
    assert api.links.published[-1].short_code == body["short_code"]


async def test_metadata_shows_style_and_ec(api: Api) -> None:
    headers = await api.key()
    created = await api.post(
        "/qr/generate",
        {"data": "x", "name": "poster", "error_correction": "Q", "style": STYLE},
        headers,
    )
    qr_id = created.json()["id"]
    response = await api.client.get(f"/qr/{qr_id}", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "poster"
    assert body["error_correction"] == "Q"
    assert body["style"]["dots"]["shape"] == "rounded"
    assert "image_base64" not in body
    assert set(body) >= {"id", "type", "data", "created_at", "updated_at", "style"}


async def test_someone_elses_qr_is_not_found(api: Api) -> None:
    owner, stranger = await api.key(), await api.key()
    created = await api.post("/qr/generate", {"data": "mine"}, owner)
    qr_id = created.json()["id"]
    response = await api.client.get(f"/qr/{qr_id}", headers=stranger)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "mine" not in response.text


async def test_x_api_key_header_works(api: Api) -> None:
    headers = await api.key()
    raw = headers["Authorization"].removeprefix("Bearer ")
    response = await api.post("/qr/generate", {"data": "k"}, {"X-API-Key": raw})
    assert response.status_code == 201


async def test_logo_raises_error_correction_to_h(api: Api, decode_image: Any) -> None:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (64, 64), "#d62828").save(buffer, "PNG")
    logo = {"image": base64.b64encode(buffer.getvalue()).decode(), "size": 0.2}
    headers = await api.key()
    body = {"data": "https://cafe.example", "style": {"logo": logo}}
    response = await api.post("/qr/generate", body, headers)
    assert response.status_code == 201, response.text
    assert response.json()["error_correction"] == "H"
    assert decode_image(_image(response.json()), "image/png") == "https://cafe.example"
