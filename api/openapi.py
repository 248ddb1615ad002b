"""/openapi.json, generated from the declared body models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.bodies import BulkBody, DestinationBody, EndpointBody, EndpointPatch, GenerateBody

_MODE: Literal["validation"] = "validation"
_ERROR = {"$ref": "#/components/schemas/Error"}
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}


def _body(name: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{name}"}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _responses(ok: str, *errors: str) -> dict[str, Any]:
    found = {ok: {"description": "success", "content": {"application/json": {}}}}
    for status in errors:
        found[status] = {
            "description": "error",
            "content": {"application/json": {"schema": _ERROR}},
        }
    return found


_COMMON = ("400", "401", "413", "422", "429")
_QR_ID = [{"name": "qr_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_DATES = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string", "format": "date"}}
    for name in ("from", "to")
]
_ID = [{"name": "endpoint_id", "in": "path", "required": True, "schema": {"type": "string"}}]

_PATHS: dict[str, Any] = {
    "/qr/generate": {
        "post": {"requestBody": _body("GenerateBody"), "responses": _responses("201", *_COMMON)}
    },
    "/qr/bulk-generate": {
        "post": {"requestBody": _body("BulkBody"), "responses": _responses("200", "403", *_COMMON)}
    },
    "/qr/{qr_id}": {"get": {"parameters": _QR_ID, "responses": _responses("200", "401", "404")}},
    "/qr/{qr_id}/destination": {
        "patch": {
            "parameters": _QR_ID,
            "requestBody": _body("DestinationBody"),
            "responses": _responses("200", "404", "409", *_COMMON),
        }
    },
    "/qr/{qr_id}/stats": {
        "get": {"parameters": _QR_ID + _DATES, "responses": _responses("200", "401", "403", "404")}
    },
    "/webhooks/scan-endpoints": {
        "post": {
            "requestBody": _body("EndpointBody"),
            "responses": _responses("201", "403", "409", *_COMMON),
        },
        "get": {"responses": _responses("200", "401")},
    },
    "/webhooks/scan-endpoints/{endpoint_id}": {
        "patch": {
            "parameters": _ID,
            "requestBody": _body("EndpointPatch"),
            "responses": _responses("200", "403", "404", *_COMMON),
        },
        "delete": {"parameters": _ID, "responses": _responses("204", "401", "404")},
    },
}


def openapi_document() -> dict[str, Any]:
    bodies: tuple[type[BaseModel], ...] = (
        GenerateBody,
        BulkBody,
        DestinationBody,
        EndpointBody,
        EndpointPatch,
    )
    models = [(model, _MODE) for model in bodies]
    _, schemas = models_json_schema(models, ref_template="#/components/schemas/{model}")
    components = {**schemas.get("$defs", {}), "Error": _ERROR_SCHEMA}
    return {
        "openapi": "3.1.0",
        "info": {"title": "qrmint", "version": "1"},
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": _PATHS,
    }
