"""generateQr and bulkGenerateQrs: real images, and the same refusals as REST."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import pytest

from tests.schema.conftest import error_of

if TYPE_CHECKING:
    from tests.schema.conftest import Gql

GENERATE = """
mutation Generate($input: GenerateQrInput!) {
  generateQr(input: $input) {
    id type format mimeType imageBase64 data destination shortCode shortUrl
    size margin errorCorrection name style createdAt updatedAt
  }
}
"""

BULK = """
mutation Bulk($items: [GenerateQrInput!]!) {
  bulkGenerateQrs(items: $items) {
    succeeded failed
    results { index ok qr { data mimeType imageBase64 } error { code message details { field } } }
  }
}
"""


def _image(qr: dict[str, Any]) -> bytes:
    return base64.b64decode(qr["imageBase64"])


async def test_static_png_encodes_the_data(gql: Gql, decode_image: Any) -> None:
    result = await gql.run(GENERATE, {"input": {"data": "Hello, menu!"}}, key=await gql.key())
    qr = result["data"]["generateQr"]
    assert (qr["type"], qr["format"], qr["mimeType"]) == ("STATIC", "PNG", "image/png")
    assert qr["shortCode"] is None
    assert qr["shortUrl"] is None
    assert qr["destination"] is None
    assert (qr["size"], qr["margin"], qr["errorCorrection"]) == (512, 4, "M")
    assert qr["createdAt"].endswith("Z")  # written as REST writes it
    assert decode_image(_image(qr), "image/png") == "Hello, menu!"


async def test_null_means_not_given(gql: Gql) -> None:
    style = {"dots": {"shape": "dots", "color": None, "gradient": None}}
    result = await gql.run(
        GENERATE, {"input": {"data": "x", "name": None, "style": style}}, key=await gql.key()
    )
    assert result["data"]["generateQr"]["style"]["dots"]["shape"] == "dots"


async def test_dynamic_svg_encodes_the_short_url(gql: Gql, decode_image: Any) -> None:
    style = {
        "dots": {"shape": "rounded", "color": "#1a1a1a"},
        "cornerSquares": {"shape": "extra-rounded", "color": "#0b3d91"},
        "cornerDots": {"shape": "dot"},
    }
    request = {"type": "DYNAMIC", "data": "https://shop.example/spring", "format": "SVG"}
    result = await gql.run(GENERATE, {"input": {**request, "style": style}}, key=await gql.key())
    qr = result["data"]["generateQr"]
    assert qr["destination"] == "https://shop.example/spring"
    assert qr["shortUrl"] == f"http://127.0.0.1:8080/{qr['shortCode']}"
    assert qr["mimeType"] == "image/svg+xml"
    assert decode_image(_image(qr), qr["mimeType"]) == qr["shortUrl"]
    assert gql.links.published[-1].short_code == qr["shortCode"]
    # The style is stored in the contract's snake_case JSON, as REST stores it.
    assert qr["style"]["corner_squares"]["shape"] == "extra-rounded"


# (REST body, GraphQL input): the same bad request on both surfaces.
REFUSALS = [
    (
        {"data": "x", "style": {"dots": {"color": "not-a-color"}}},
        {"data": "x", "style": {"dots": {"color": "not-a-color"}}},
    ),
    (
        {"data": "x", "style": {"dots": {"shape": "stars"}}},
        {"data": "x", "style": {"dots": {"shape": "stars"}}},
    ),
    ({"data": "x", "size": 10}, {"data": "x", "size": 10}),
    ({"data": "x", "margin": 17}, {"data": "x", "margin": 17}),
    (
        {"data": "x", "style": {"dots": {"color": "#eeeeee"}}},
        {"data": "x", "style": {"dots": {"color": "#eeeeee"}}},
    ),
    (
        {"data": "x" * 5000, "error_correction": "H"},
        {"data": "x" * 5000, "errorCorrection": "H"},
    ),
    (
        {"type": "dynamic", "data": "javascript:alert(1)"},
        {"type": "DYNAMIC", "data": "javascript:alert(1)"},
    ),
    (
        {"data": "x", "style": {"logo": {"image": "bm90IGFuIGltYWdl"}}},
        {"data": "x", "style": {"logo": {"image": "bm90IGFuIGltYWdl"}}},
    ),
]


@pytest.mark.parametrize(("rest_body", "gql_input"), REFUSALS)
async def test_refusals_match_rest(
    gql: Gql, rest_body: dict[str, Any], gql_input: dict[str, Any]
) -> None:
    key = await gql.key()
    rest = (await gql.rest("/qr/generate", rest_body, key)).json()["error"]
    error = error_of(await gql.run(GENERATE, {"input": gql_input}, key=key))
    assert error["path"] == ["generateQr"]
    assert error["extensions"]["code"] == rest["code"]
    assert error["message"] == rest["message"]
    fields = [detail["field"] for detail in error["extensions"]["details"]]
    assert fields == [detail["field"] for detail in rest.get("details", [])]


@pytest.mark.parametrize(
    ("gql_input", "code", "field"),
    [
        (
            {"data": "x", "style": {"dots": {"color": "not-a-color"}}},
            "validation_error",
            "style.dots.color",
        ),
        ({"data": "x", "style": {"dots": {"color": "#eeeeee"}}}, "low_contrast", None),
        ({"data": "x" * 5000, "errorCorrection": "H"}, "data_too_long", None),
        ({"data": "x", "size": 10}, "validation_error", "size"),
    ],
)
async def test_refusal_codes(
    gql: Gql, gql_input: dict[str, Any], code: str, field: str | None
) -> None:
    error = error_of(await gql.run(GENERATE, {"input": gql_input}, key=await gql.key()))
    assert error["extensions"]["code"] == code
    if field is not None:
        assert field in [detail["field"] for detail in error["extensions"]["details"]]


async def test_enum_outside_the_schema_is_a_validation_error(gql: Gql) -> None:
    result = await gql.run(GENERATE, {"input": {"data": "x", "format": "GIF"}}, key=await gql.key())
    assert error_of(result)["extensions"]["code"] == "validation_error"
    assert result.get("data") is None


async def test_bulk_needs_ultra_or_mega(gql: Gql) -> None:
    result = await gql.run(BULK, {"items": [{"data": "x"}]}, key=await gql.key("basic"))
    assert error_of(result)["extensions"]["code"] == "tier_required"


async def test_bulk_over_50_is_bulk_limit(gql: Gql) -> None:
    items = [{"data": str(i)} for i in range(51)]
    result = await gql.run(BULK, {"items": items}, key=await gql.key("ultra"))
    assert error_of(result)["extensions"]["code"] == "bulk_limit"


async def test_bulk_items_fail_alone(gql: Gql, decode_image: Any) -> None:
    items = [
        {"data": "first", "size": 128},
        {"data": "x", "size": 1},
        {"type": "DYNAMIC", "data": "javascript:alert(1)"},
        {"data": "fourth", "format": "SVG", "size": 256},
        {"data": "x", "style": {"dots": {"color": "#ffffff"}}},
    ]
    result = await gql.run(BULK, {"items": items}, key=await gql.key("mega"))
    assert "errors" not in result, result
    body = result["data"]["bulkGenerateQrs"]
    assert (body["succeeded"], body["failed"]) == (2, 3)
    results = {item["index"]: item for item in body["results"]}
    assert [results[i]["ok"] for i in range(5)] == [True, False, False, True, False]
    assert results[1]["error"]["code"] == "validation_error"
    assert results[1]["error"]["details"] == [{"field": "items.1.size"}]
    assert results[2]["error"]["code"] == "unsafe_url"
    assert results[4]["error"]["code"] == "low_contrast"
    assert results[0]["error"] is None
    assert results[1]["qr"] is None
    for index, text in ((0, "first"), (3, "fourth")):
        qr = results[index]["qr"]
        assert decode_image(_image(qr), qr["mimeType"]) == text
