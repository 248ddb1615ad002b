"""/openapi.json: valid OpenAPI 3.1, complete (every route, every success schema), and true
(its examples and the API's real answers validate against the schemas it declares)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import Route

from api.app import create_api_app
from api.openapi import openapi_document
from ops.routes import ops_routes
from schema.app import graphql_routes

if TYPE_CHECKING:
    from tests.api.conftest import Api

PUBLIC = "https://93.184.215.14/hooks/qrmint"  # a literal public address: no DNS needed
PAGES = {("GET", "/graphql"), ("POST", "/graphql"), ("GET", "/docs"), ("GET", "/openapi.json")}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document()


def _validator(document: dict[str, Any], ref: str) -> Draft202012Validator:
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:qrmint", resource)
    return Draft202012Validator({"$ref": f"urn:qrmint{ref}"}, registry=registry)


def _check(document: dict[str, Any], ref: str, instance: Any) -> None:
    problems = [error.message for error in _validator(document, ref).iter_errors(instance)]
    assert not problems, (ref, problems)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, spec)
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
    ]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_every_operation_is_described(document: dict[str, Any]) -> None:
    ids = [spec["operationId"] for _, _, spec in _operations(document)]
    assert len(ids) == len(set(ids))
    for method, path, spec in _operations(document):
        assert spec["summary"], (method, path)
        success = [status for status in spec["responses"] if status.startswith("2")]
        assert len(success) == 1, (method, path)
        response = spec["responses"][success[0]]
        assert success[0] == "204" or "schema" in next(iter(response["content"].values()))


async def test_every_api_route_is_in_the_document(api: Api, document: dict[str, Any]) -> None:
    services = api.services
    app = create_api_app(services, [*graphql_routes(services), *ops_routes(None, {})])
    routed = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(method, path) for method, path, _ in _operations(document)}
    assert routed - PAGES == documented


def test_examples_follow_their_schemas(document: dict[str, Any]) -> None:
    for method, path, spec in _operations(document):
        body = spec.get("requestBody", {}).get("content", {}).get("application/json", {})
        for example in body.get("examples", {}).values():
            _check(document, body["schema"]["$ref"], example["value"])
        for status, response in spec["responses"].items():
            content = response.get("content", {}).get("application/json")
            if content and "$ref" in content["schema"]:
                assert "example" in content, (method, path, status)
                _check(document, content["schema"]["$ref"], content["example"])


def _schema_of(document: dict[str, Any], method: str, path: str, status: int) -> str:
    content = document["paths"][path][method.lower()]["responses"][str(status)]["content"]
    ref: str = content["application/json"]["schema"]["$ref"]
    return ref


def _answer(
    document: dict[str, Any], response: httpx.Response, method: str, path: str
) -> dict[str, Any]:
    _check(document, _schema_of(document, method, path, response.status_code), response.json())
    body: dict[str, Any] = response.json()
    return body


async def test_real_answers_follow_the_schemas(api: Api, document: dict[str, Any]) -> None:
    headers = await api.key("mega")
    dynamic = {"type": "dynamic", "data": "https://example.com/", "name": "menu"}
    created = _answer(
        document, await api.post("/qr/generate", dynamic, headers), "POST", "/qr/generate"
    )
    static = await api.post("/qr/generate", {"data": "hello", "format": "svg"}, headers)
    _answer(document, static, "POST", "/qr/generate")
    bulk = await api.post("/qr/bulk-generate", {"items": [{"data": "a"}, {"size": 1}]}, headers)
    _answer(document, bulk, "POST", "/qr/bulk-generate")
    metadata = await api.client.get(f"/qr/{created['id']}", headers=headers)
    _answer(document, metadata, "GET", "/qr/{qr_id}")
    moved = await api.client.patch(
        f"/qr/{created['id']}/destination", json={"url": "https://example.com/b"}, headers=headers
    )
    _answer(document, moved, "PATCH", "/qr/{qr_id}/destination")
    endpoint = await api.post("/webhooks/scan-endpoints", {"url": PUBLIC}, headers)
    _answer(document, endpoint, "POST", "/webhooks/scan-endpoints")
    listed = await api.client.get("/webhooks/scan-endpoints", headers=headers)
    _answer(document, listed, "GET", "/webhooks/scan-endpoints")
    patched = await api.client.patch(
        f"/qr/{created['id']}",
        json={"paused": True, "rules": [{"if": {"os": ["ios"]}, "destination": PUBLIC}]},
        headers=headers,
    )
    _answer(document, patched, "PATCH", "/qr/{qr_id}")
    domain = await api.post("/domains", {"hostname": "go.openapi.example"}, headers)
    _answer(document, domain, "POST", "/domains")
    _answer(document, await api.client.get("/domains", headers=headers), "GET", "/domains")
    missing = await api.client.get("/qr/qr_nope", headers=headers)
    _check(document, "#/components/schemas/Error", missing.json())


async def test_served_at_openapi_json_without_a_key(api: Api, document: dict[str, Any]) -> None:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == document
