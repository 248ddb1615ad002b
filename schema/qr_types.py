"""QR code output types (CONTRACT §5 shapes in camelCase) and their builders from service values."""

from __future__ import annotations

import base64
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from core.bulk import BulkItem
from core.errors import DomainError
from core.qrviews import GeneratedQr as GeneratedValue
from core.qrviews import QrPage, QrView, encode_cursor
from schema import link_types
from schema.link_types import LinkRule, SplitVariant, Utm


@strawberry.enum(description="static: the image encodes `data`; dynamic: it encodes `shortUrl`.")
class QrType(Enum):
    STATIC = "static"
    DYNAMIC = "dynamic"


@strawberry.enum
class ImageFormat(Enum):
    PNG = "png"
    SVG = "svg"


@strawberry.enum(description="QR error correction level; a logo raises it to H.")
class ErrorCorrection(Enum):
    L = "L"
    M = "M"
    Q = "Q"
    H = "H"


@strawberry.type(description="A QR code's metadata, without the image.")
class QrCode:
    id: strawberry.ID
    type: QrType
    data: str
    destination: str | None
    short_code: str | None
    short_url: str | None
    format: ImageFormat
    size: int
    margin: int
    error_correction: ErrorCorrection
    style: JSON = strawberry.field(description="The style as stored, in the REST JSON shape.")
    name: str | None
    created_at: datetime
    updated_at: datetime
    # Dynamic link options (docs/links.md); null on static codes.
    domain: str | None = strawberry.field(description="Custom domain; null: the base domain.")
    paused: bool | None
    expires_at: datetime | None
    max_scans: int | None
    has_password: bool | None = strawberry.field(description="The password is write-only.")
    forward_query: bool | None
    utm: Utm | None
    rules: list[LinkRule] | None
    split: list[SplitVariant] | None


@strawberry.type(description="A freshly generated QR code: its metadata and the image.")
class GeneratedQr(QrCode):
    mime_type: str
    image_base64: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class QrCodeEdge:
    cursor: str
    node: QrCode


@strawberry.type(description="Relay-style connection over the account's QR codes, newest first.")
class QrCodeConnection:
    edges: list[QrCodeEdge]
    page_info: PageInfo


@strawberry.type
class FieldError:
    field: str
    message: str


@strawberry.type(description="The same code, message and details as the REST error body.")
class ItemError:
    code: str
    message: str
    details: list[FieldError]


@strawberry.type
class BulkItemResult:
    index: int
    ok: bool
    qr: GeneratedQr | None
    error: ItemError | None


@strawberry.type
class BulkGenerateResult:
    results: list[BulkItemResult]
    succeeded: int
    failed: int


def _metadata(view: QrView) -> dict[str, Any]:
    return {
        "id": strawberry.ID(view.id),
        "type": QrType(view.type),
        "data": view.data,
        "destination": view.destination,
        "short_code": view.short_code,
        "short_url": view.short_url,
        "format": ImageFormat(view.format),
        "size": view.size,
        "margin": view.margin,
        "error_correction": ErrorCorrection(view.error_correction),
        "style": view.style,
        "name": view.name,
        "created_at": view.created_at,
        "updated_at": view.updated_at,
        **_link(view),
    }


def _link(view: QrView) -> dict[str, Any]:
    link = view.link
    if link is None:
        names = ("domain", "paused", "expires_at", "max_scans", "has_password", "forward_query")
        return {**dict.fromkeys(names), "utm": None, "rules": None, "split": None}
    return {
        "domain": link.domain,
        "paused": link.paused,
        "expires_at": link.expires_at,
        "max_scans": link.max_scans,
        "has_password": link.has_password,
        "forward_query": link.forward_query,
        "utm": link_types.utm(link.utm),
        "rules": link_types.rules(link.rules),
        "split": link_types.split(link.split),
    }


def qr_code(view: QrView) -> QrCode:
    return QrCode(**_metadata(view))


def generated_qr(result: GeneratedValue) -> GeneratedQr:
    return GeneratedQr(
        **_metadata(result.qr),
        mime_type=result.mime_type,
        image_base64=base64.b64encode(result.image).decode(),
    )


def connection(page: QrPage) -> QrCodeConnection:
    edges = [QrCodeEdge(cursor=encode_cursor(view), node=qr_code(view)) for view in page.items]
    info = PageInfo(
        has_next_page=page.has_next_page,
        # Forward-only pagination: Relay allows false here when it is not cheap to know.
        has_previous_page=False,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=page.end_cursor,
    )
    return QrCodeConnection(edges=edges, page_info=info)


def item_error(exc: DomainError) -> ItemError:
    details = [FieldError(field=p.field, message=p.message) for p in exc.details]
    return ItemError(code=exc.code, message=exc.message, details=details)


def bulk_result(items: list[BulkItem]) -> BulkGenerateResult:
    results = [
        BulkItemResult(
            index=item.index,
            ok=item.result is not None,
            qr=generated_qr(item.result) if item.result is not None else None,
            error=item_error(item.error) if item.error is not None else None,
        )
        for item in items
    ]
    succeeded = sum(1 for result in results if result.ok)
    return BulkGenerateResult(results=results, succeeded=succeeded, failed=len(results) - succeeded)
