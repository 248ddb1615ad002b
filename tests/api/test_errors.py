"""Every row of CONTRACT.md §4 that the QR endpoints can produce, with its code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.api.conftest import Api


def _error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


async def test_malformed_json_is_400(api: Api) -> None:
    headers = {**(await api.key()), "Content-Type": "application/json"}
    response = await api.client.post("/qr/generate", content=b"{nope", headers=headers)
    assert response.status_code == 400
    assert _error(response)["code"] == "malformed_json"


async def test_wrong_content_type_is_400(api: Api) -> None:
    headers = {**(await api.key()), "Content-Type": "text/plain"}
    response = await api.client.post("/qr/generate", content=b'{"data":"x"}', headers=headers)
    assert response.status_code == 400
    assert _error(response)["code"] == "malformed_json"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer qm_nope"}, {"Authorization": "Basic abc"}, {"X-API-Key": ""}],
)
async def test_missing_or_unknown_key_is_401(api: Api, headers: dict[str, str]) -> None:
    response = await api.post("/qr/generate", {"data": "x"}, headers)
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthenticated"
    assert "X-RateLimit-Limit" in response.headers


async def test_revoked_key_is_401_at_once(api: Api) -> None:
    from core import accounts

    headers = await api.key()
    assert (await api.post("/qr/generate", {"data": "x"}, headers)).status_code == 201
    keys = await accounts.list_keys()
    raw = headers["Authorization"].removeprefix("Bearer ")
    key = next(k for k in keys if raw.startswith(k.prefix))
    await accounts.revoke_key(key.id)
    response = await api.post("/qr/generate", {"data": "x"}, headers)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"data": "x", "size": 10}, "size"),
        ({"data": "x", "size": "512"}, "size"),
        ({"data": "x", "margin": 17}, "margin"),
        ({"data": "x", "format": "gif"}, "format"),
        ({"data": "x", "error_correction": "X"}, "error_correction"),
        ({"data": "x", "colour": "red"}, "colour"),
        ({"data": "x", "style": {"dots": {"shape": "star"}}}, "style.dots.shape"),
        ({"data": "x", "style": {"dots": {"colour": "#000"}}}, "style.dots.colour"),
        ({"data": "x", "style": {"dots": {"color": "blue-ish"}}}, "style.dots.color"),
        ({"data": "x", "style": {"logo": {"image": "%%%"}}}, "style.logo.image"),
        ({"size": 512}, "data"),
        ({"data": "", "type": "static"}, "data"),
        ({"data": "x", "type": "sometimes"}, "type"),
        ({"data": "x", "name": "n" * 201}, "name"),
    ],
)
async def test_invalid_fields_are_422_with_details(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = await api.post("/qr/generate", body, await api.key())
    assert response.status_code == 422, response.text
    error = _error(response)
    assert error["code"] == "validation_error"
    assert field in [item["field"] for item in error["details"]]


async def test_low_contrast_is_refused(api: Api) -> None:
    style = {"dots": {"color": "#eeeeee"}, "background": {"color": "#ffffff"}}
    response = await api.post("/qr/generate", {"data": "x", "style": style}, await api.key())
    assert response.status_code == 422
    assert _error(response)["code"] == "low_contrast"


async def test_data_too_long(api: Api) -> None:
    response = await api.post(
        "/qr/generate", {"data": "x" * 8000, "error_correction": "H"}, await api.key()
    )
    assert response.status_code == 422
    assert _error(response)["code"] == "data_too_long"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,hi",
        "ftp://files.example/x",
        "https://user:pw@evil.example/",
        "https://" + "a" * 2050 + ".example/",
        "not a url",
        "https:///nohost",
    ],
)
async def test_unsafe_dynamic_destinations(api: Api, url: str) -> None:
    response = await api.post("/qr/generate", {"type": "dynamic", "data": url}, await api.key())
    assert response.status_code == 422
    assert _error(response)["code"] == "unsafe_url"


async def test_body_over_2_mib_is_413(api: Api) -> None:
    headers = {**(await api.key()), "Content-Type": "application/json"}
    payload = b'{"data": "' + b"x" * (2 * 1024 * 1024 + 10) + b'"}'
    response = await api.client.post("/qr/generate", content=payload, headers=headers)
    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"


async def test_chunked_body_over_2_mib_is_413(api: Api) -> None:
    headers = {**(await api.key()), "Content-Type": "application/json"}

    async def chunks() -> Any:
        yield b'{"data": "'
        for _ in range(33):
            yield b"x" * 65536
        yield b'"}'

    response = await api.client.post("/qr/generate", content=chunks(), headers=headers)
    assert response.status_code == 413


async def test_unknown_route_is_json_404(api: Api) -> None:
    response = await api.client.get("/nope", headers=await api.key())
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


async def test_deeply_nested_json_is_400(api: Api) -> None:
    headers = {**(await api.key()), "Content-Type": "application/json"}
    payload = b"[" * 100_000 + b"]" * 100_000
    response = await api.client.post("/qr/generate", content=payload, headers=headers)
    assert response.status_code == 400
    assert _error(response)["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/qr/generate", '{"type": "dynamic", "data": "https://a\\udc80.example/"}', "unsafe_url"),
        ("/qr/generate", '{"data": "x", "name": "bad\\udc80name"}', "validation_error"),
        ("/qr/generate", '{"data": "nul\\u0000inside"}', "validation_error"),
    ],
)
async def test_text_no_store_can_keep_is_refused(api: Api, path: str, body: str, code: str) -> None:
    headers = {**(await api.key()), "Content-Type": "application/json"}
    response = await api.client.post(path, content=body.encode(), headers=headers)
    assert response.status_code == 422, response.text
    assert _error(response)["code"] == code


async def test_guessing_keys_is_rate_limited(api: Api) -> None:
    statuses = [
        (await api.post("/qr/generate", {"data": "x"}, {"X-API-Key": f"qm_guess{n}"})).status_code
        for n in range(14)
    ]
    assert statuses[0] == 401
    assert 429 in statuses


async def test_declared_oversize_body_carries_rate_headers(api: Api) -> None:
    headers = {**(await api.key()), "Content-Type": "application/json"}
    headers["Content-Length"] = str(3 * 1024 * 1024)
    request = api.client.build_request("POST", "/qr/generate", content=b"{}", headers=headers)
    response = await api.client.send(request)
    assert response.status_code == 413
    assert "X-RateLimit-Remaining" in response.headers


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json"])
async def test_open_pages_carry_rate_headers(api: Api, path: str) -> None:
    response = await api.client.get(path)
    assert response.status_code == 200
    assert "X-RateLimit-Limit" in response.headers
