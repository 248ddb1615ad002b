"""Every REST operation as /openapi.json describes it: one `Operation` per route.

To document a new route, add one entry below: method and path as routed, the GraphQL
twin's name as `operation_id` (camelCase), a one-line summary, the success status and
its response model (`api.responses`), the request body model, the error statuses beyond
those every call can get (401 and 429; 400, 413 and 422 for a body), and examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from api.bodies import (
    BulkBody,
    DestinationBody,
    DomainBody,
    EndpointBody,
    EndpointPatch,
    GenerateBody,
    UpdateBody,
)
from api.responses import (
    BulkResult,
    Domain,
    DomainList,
    Endpoint,
    EndpointCreated,
    EndpointList,
    QrGenerated,
    QrMetadata,
    QrStats,
    Readiness,
    RefusedScans,
)


@dataclass(frozen=True)
class QueryParam:
    name: str
    description: str
    format: str | None = None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    ok: int
    response: type[BaseModel] | None
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    query: tuple[QueryParam, ...] = ()
    description: str = ""
    request_examples: Mapping[str, Any] = field(default_factory=dict)
    response_example: Any = None
    ok_description: str = "success"
    media_type: str = "application/json"
    open: bool = False  # needs no API key


ERROR_EXAMPLES: dict[int, tuple[str, str]] = {
    400: ("malformed_json", "The request body is not valid JSON."),
    401: (
        "unauthenticated",
        "No API key was sent; pass it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'.",
    ),
    403: ("tier_required", "Bulk generation needs the ultra or mega tier; this key is pro."),
    404: ("not_found", "No QR code with id 'qr_x'."),
    409: ("not_dynamic", "QR code 'qr_x' is static: its data is in the image and cannot change."),
    413: ("payload_too_large", "The body is 3000000 bytes; at most 2097152 bytes are accepted."),
    422: ("validation_error", "size is 10; expected an integer from 64 to 4096."),
    429: ("rate_limited", "More than 10 requests per second with this key; retry after 1 s."),
    501: ("not_implemented", "Scan analytics are not available in this process."),
    503: ("service_unavailable", "Not ready: redis: ConnectionError: Connection refused"),
}

_NOW = "2026-11-25T18:00:00Z"
_PNG = "iVBORw0KGgoAAAANSUhEUgAAAgAAAAIAAQAAAADcA+lXAAAD…"
_DYNAMIC = {
    "id": "qr_5f2c1d0e9b8a7c6d",
    "type": "dynamic",
    "format": "png",
    "mime_type": "image/png",
    "image_base64": _PNG,
    "data": "http://127.0.0.1:8080/Xb7kPq2m",
    "destination": "https://example.com/menu",
    "short_code": "Xb7kPq2m",
    "short_url": "http://127.0.0.1:8080/Xb7kPq2m",
    "size": 512,
    "margin": 4,
    "error_correction": "M",
    "name": "Menu",
    "created_at": _NOW,
}
_METADATA = {
    **{key: value for key, value in _DYNAMIC.items() if key not in ("mime_type", "image_base64")},
    "style": {"dots": {"shape": "rounded", "color": "#0b3d91"}},
    "updated_at": _NOW,
}
_TZ = QueryParam("tz", "IANA time zone of by_hour and by_weekday; default UTC")
_STYLED = {
    "type": "dynamic",
    "data": "https://example.com/menu",
    "format": "svg",
    "name": "Menu",
    "style": {
        "dots": {"shape": "rounded", "color": "#0b3d91"},
        "corner_squares": {"shape": "extra-rounded", "color": "#0b3d91"},
        "corner_dots": {"shape": "dot", "color": "#d62828"},
    },
}
_WINDOW = (
    QueryParam("from", "first day (YYYY-MM-DD); default and floor: the retention's start", "date"),
    QueryParam("to", "last day (YYYY-MM-DD); default: today (UTC)", "date"),
)
_STATS = {
    "qr_id": "qr_5f2c1d0e9b8a7c6d",
    "retention_days": 30,
    "window": {"from": "2026-10-27", "to": "2026-11-25"},
    "total_scans": 12,
    "unique_scans": 5,
    "repeat_scans": 7,
    "by_day": [{"date": "2026-11-25", "scans": 12, "unique_scans": 5}],
    "by_country": [{"key": "DE", "scans": 7}, {"key": "unknown", "scans": 5}],
    "by_city": [{"key": "Berlin", "country": "DE", "scans": 7}],
    "by_device": [{"key": "mobile", "scans": 9}, {"key": "desktop", "scans": 3}],
    "by_browser": [{"key": "Chrome", "scans": 6}],
    "by_os": [{"key": "Android", "scans": 6}],
    "bot_scans": 2,
    "by_referrer": [{"key": "direct", "scans": 10}, {"key": "news.example", "scans": 2}],
    "by_language": [{"key": "de-DE", "scans": 7}, {"key": "unknown", "scans": 5}],
    "tz": "Europe/Berlin",
    "by_hour": [{"hour": hour, "scans": 12 if hour == 19 else 0} for hour in range(24)],
    "by_weekday": [
        {"day": day, "scans": 12 if day == "wed" else 0}
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    ],
    "by_target": [{"key": "rule:0", "scans": 7}, {"key": "split:1", "scans": 5}],
    "by_outcome": [{"key": "redirected", "scans": 12}, {"key": "gone", "scans": 1}],
}
_LINK: dict[str, Any] = {
    "domain": None, "paused": False, "expires_at": None, "max_scans": None,
    "has_password": False, "forward_query": False, "utm": None, "rules": [], "split": [],
}  # fmt: skip
_RULE = {
    "if": {"country": ["DE", "AT"], "device": ["mobile"]},
    "destination": "https://example.com/de",
}
_DOMAIN = {
    "id": "dom_7a1b2c3d4e5f60718293",
    "hostname": "go.brand.example",
    "verified": True,
    "verified_at": _NOW,
    "created_at": _NOW,
    "verification": {
        "method": "http",
        "url": "http://go.brand.example/.well-known/qrmint-domain/K3v9xQ2mWb7LpR4tYz8NcH1j",
    },
}
_ENDPOINT = {
    "id": "wh_3c9d2e1f0a",
    "url": "https://hooks.example.com/qrmint",
    "description": "CRM",
    "created_at": _NOW,
}
_ENDPOINT_VIEW = {
    **_ENDPOINT,
    "enabled": True,
    "disabled": False,
    "disabled_at": None,
    "disabled_reason": None,
    "failing_since": None,
}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/qr/generate",
        "generateQr",
        "Generate a static or dynamic QR code",
        "QR codes",
        201,
        QrGenerated,
        GenerateBody,
        errors=(403, 429),
        description="Static codes encode `data`; dynamic codes encode a short link to it "
        "(`data` is the destination, http/https only). A style that would not scan is "
        "refused (422 `low_contrast`, `logo_too_large`), never returned.",
        request_examples={
            "static PNG": {"data": "WIFI:T:WPA;S:cafe;P:espresso;;", "size": 512},
            "dynamic, styled SVG": _STYLED,
        },
        response_example={**_DYNAMIC, **_LINK},
    ),
    Operation(
        "POST",
        "/qr/bulk-generate",
        "bulkGenerateQrs",
        "Generate 1 to 50 codes at once (ultra and mega)",
        "QR codes",
        200,
        BulkResult,
        BulkBody,
        errors=(403,),
        description="Each item stands alone: one failing does not abort the others.",
        request_examples={"two codes": {"items": [{"data": "a"}, {"data": "b", "size": 256}]}},
        response_example={
            "results": [
                {"index": 0, "ok": True, "qr": {**_DYNAMIC, "type": "static"}},
                {
                    "index": 1,
                    "ok": False,
                    "error": {"code": "dynamic_qr_limit", "message": "At most 1000 …"},
                },
            ],
            "succeeded": 1,
            "failed": 1,
        },
    ),
    Operation(
        "GET",
        "/qr/{qr_id}",
        "qr",
        "A QR code's metadata (without the image)",
        "QR codes",
        200,
        QrMetadata,
        errors=(404,),
        response_example={**_METADATA, **_LINK},
    ),
    Operation(
        "PATCH",
        "/qr/{qr_id}/destination",
        "updateQrDestination",
        "Change where a dynamic code leads",
        "QR codes",
        200,
        QrMetadata,
        DestinationBody,
        errors=(404, 409),
        description="The next scan, on every redirector, goes to the new URL.",
        request_examples={"new destination": {"url": "https://example.com/winter-menu"}},
        response_example={**_METADATA, **_LINK, "destination": "https://example.com/winter-menu"},
    ),
    Operation(
        "GET",
        "/qr/{qr_id}/stats",
        "qrStats",
        "Scan statistics of a code (pro and above)",
        "Analytics",
        200,
        QrStats,
        errors=(403, 404, 422, 501),
        query=(*_WINDOW, _TZ),
        description="The window is clamped to the tier's retention. Scans are human "
        "redirects; bots are counted in bot_scans, password forms and refusals in by_outcome.",
        response_example=_STATS,
    ),
    Operation(
        "PATCH",
        "/qr/{qr_id}",
        "updateQr",
        "Change a code: destination, name and the dynamic link options",
        "QR codes",
        200,
        QrMetadata,
        UpdateBody,
        errors=(403, 404, 409, 503),
        description="Only the fields sent change; null removes an option (docs/links.md). "
        "The next scan, on every redirector, sees the change.",
        request_examples={
            "pause": {"paused": True},
            "rules and a split": {
                "rules": [_RULE],
                "split": [
                    {"destination": "https://example.com/a", "weight": 70},
                    {"destination": "https://example.com/b", "weight": 30},
                ],
                "utm": {"source": "qr", "campaign": "fall"},
            },
        },
        response_example={**_METADATA, **_LINK, "rules": [_RULE]},
    ),
    Operation(
        "DELETE",
        "/qr/{qr_id}",
        "deleteQr",
        "Delete a code: its short link answers 410 for good, its scans stay",
        "QR codes",
        204,
        None,
        errors=(404, 503),
        description="The dynamic slot is free again; the short code is never reused.",
        ok_description="deleted",
    ),
    Operation(
        "GET",
        "/qr/{qr_id}/scans.csv",
        "qrScans",
        "One row per scan in the window, as CSV (pro and above)",
        "Analytics",
        200,
        None,
        errors=(403, 404, 422, 501),
        query=_WINDOW,
        description="Streamed, oldest first, bots and refusals included (see `outcome`).",
        media_type="text/csv",
        response_example="scanned_at,destination,visitor,is_unique,country,city,device,"
        "browser,os,referrer_host,language,target,outcome,domain,is_bot\r\n"
        "2026-11-25T18:00:00.123Z,https://example.com/de,3f2a…,True,DE,Berlin,mobile,Safari,"
        "iOS,,de-DE,rule:0,redirected,,False\r\n",
    ),
    Operation(
        "GET",
        "/refused-scans",
        "refusedScans",
        "Refused and orphan scans per domain (pro and above)",
        "Analytics",
        200,
        RefusedScans,
        errors=(403, 422, 501),
        query=_WINDOW,
        description="Scans of the account's paused, expired, exhausted or deleted codes, and "
        "of unknown codes on its verified domains (reason `unknown`). Bots are left out.",
        response_example={
            "retention_days": 30,
            "window": {"from": "2026-10-27", "to": "2026-11-25"},
            "domains": [
                {
                    "domain": "go.brand.example",
                    "refused_scans": 3,
                    "by_day": [{"date": "2026-11-25", "scans": 3}],
                    "by_reason": [{"key": "unknown", "scans": 2}, {"key": "paused", "scans": 1}],
                    "by_code": [{"key": "Xb7kPq2m", "scans": 1}],
                }
            ],
        },
    ),
    Operation(
        "POST",
        "/domains",
        "addDomain",
        "Add a custom short domain (pro and above), unverified",
        "Domains",
        201,
        Domain,
        DomainBody,
        errors=(403, 409),
        description="Point the hostname at the redirector, then verify it (docs/links.md).",
        request_examples={"domain": {"hostname": "go.brand.example"}},
        response_example={**_DOMAIN, "verified": False, "verified_at": None},
    ),
    Operation(
        "GET",
        "/domains",
        "domains",
        "List the account's custom short domains",
        "Domains",
        200,
        DomainList,
        response_example={"domains": [_DOMAIN]},
    ),
    Operation(
        "POST",
        "/domains/{domain_id}/verify",
        "verifyDomain",
        "Check that the domain reaches this redirector; then codes may use it",
        "Domains",
        200,
        Domain,
        errors=(404, 409, 422),
        description="Fetches the verification URL through the domain itself; 422 "
        "`domain_unverified` says what came back, 409 `domain_taken` if another account "
        "verified it first.",
        response_example=_DOMAIN,
    ),
    Operation(
        "DELETE",
        "/domains/{domain_id}",
        "deleteDomain",
        "Remove a domain that has no live codes",
        "Domains",
        204,
        None,
        errors=(404, 409),
        ok_description="deleted",
    ),
    Operation(
        "POST",
        "/webhooks/scan-endpoints",
        "registerScanEndpoint",
        "Register an HTTPS endpoint for scan webhooks (mega)",
        "Webhooks",
        201,
        EndpointCreated,
        EndpointBody,
        errors=(403, 409),
        description="The `secret` is in this response only: keep it to verify signatures.",
        request_examples={
            "endpoint": {"url": "https://hooks.example.com/qrmint", "description": "CRM"}
        },
        response_example={**_ENDPOINT, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    ),
    Operation(
        "GET",
        "/webhooks/scan-endpoints",
        "scanEndpoints",
        "List the account's webhook endpoints (never their secrets)",
        "Webhooks",
        200,
        EndpointList,
        description="Works for every tier, so an account that left mega can still see them.",
        response_example={"endpoints": [_ENDPOINT_VIEW]},
    ),
    Operation(
        "PATCH",
        "/webhooks/scan-endpoints/{endpoint_id}",
        "updateScanEndpoint",
        "Re-enable (mega) or disable a webhook endpoint",
        "Webhooks",
        200,
        Endpoint,
        EndpointPatch,
        errors=(403, 404),
        description="An endpoint is disabled only after failing continuously for 24 hours.",
        request_examples={"enable": {"enabled": True}},
        response_example=_ENDPOINT_VIEW,
    ),
    Operation(
        "DELETE",
        "/webhooks/scan-endpoints/{endpoint_id}",
        "deleteScanEndpoint",
        "Delete a webhook endpoint",
        "Webhooks",
        204,
        None,
        errors=(404,),
        description="Works for every tier.",
        ok_description="deleted",
    ),
    Operation(
        "GET",
        "/healthz",
        "health",
        "Liveness: the process answers",
        "Operations",
        200,
        None,
        media_type="text/plain",
        response_example="ok",
        open=True,
    ),
    Operation(
        "GET",
        "/readyz",
        "readiness",
        "Readiness: every configured store answers (else 503 naming the part)",
        "Operations",
        200,
        Readiness,
        errors=(503,),
        response_example={"status": "ready", "checks": {"database": "ok", "clickhouse": "ok"}},
        open=True,
    ),
    Operation(
        "GET",
        "/metrics",
        "metrics",
        "Prometheus metrics (bearer QRMINT_METRICS_TOKEN when it is set)",
        "Operations",
        200,
        None,
        errors=(401,),
        media_type="text/plain",
        response_example='qrmint_redirects_total{outcome="redirected"} 42.0\n',
        open=True,
    ),
)
