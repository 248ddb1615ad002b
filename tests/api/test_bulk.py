"""POST /qr/bulk-generate: each item stands alone."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.api.conftest import Api


async def test_bulk_needs_ultra_or_mega(api: Api) -> None:
    response = await api.post("/qr/bulk-generate", {"items": [{"data": "x"}]}, await api.key("pro"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tier_required"


async def test_more_than_50_items_is_bulk_limit(api: Api) -> None:
    items = [{"data": str(i)} for i in range(51)]
    response = await api.post("/qr/bulk-generate", {"items": items}, await api.key("ultra"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "bulk_limit"


async def test_items_fail_alone(api: Api, decode_image: Any) -> None:
    items = [
        {"data": "first", "size": 128},
        {"data": "x", "size": 1},
        {"type": "dynamic", "data": "javascript:alert(1)"},
        {"data": "fourth", "format": "svg", "size": 256},
        {"data": "x", "style": {"dots": {"color": "#ffffff"}}},
    ]
    response = await api.post("/qr/bulk-generate", {"items": items}, await api.key("mega"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["succeeded"] == 2
    assert body["failed"] == 3
    results = {item["index"]: item for item in body["results"]}
    assert [results[i]["ok"] for i in range(5)] == [True, False, False, True, False]
    assert results[1]["error"]["code"] == "validation_error"
    assert results[1]["error"]["details"][0]["field"] == "items.1.size"
    assert results[2]["error"]["code"] == "unsafe_url"
    assert results[4]["error"]["code"] == "low_contrast"
    for index, text in ((0, "first"), (3, "fourth")):
        qr = results[index]["qr"]
        assert decode_image(base64.b64decode(qr["image_base64"]), qr["mime_type"]) == text


async def test_size_is_checked_before_the_items(api: Api) -> None:
    items = [42] * 51  # not even objects: the count still answers first
    response = await api.post("/qr/bulk-generate", {"items": items}, await api.key("mega"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "bulk_limit"
