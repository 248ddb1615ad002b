"""Service values → the JSON shapes of CONTRACT.md §5."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from core import timestamps
from core.bulk import BulkItem
from core.qrviews import GeneratedQr, LinkView, QrView

_NO_LINK: dict[str, Any] = {
    "domain": None, "paused": None, "expires_at": None, "max_scans": None,
    "has_password": None, "forward_query": None, "utm": None, "rules": None, "split": None,
}  # fmt: skip


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else timestamps.iso(moment)


def qr_metadata(view: QrView) -> dict[str, Any]:
    return {
        "id": view.id,
        "type": view.type,
        "data": view.data,
        "destination": view.destination,
        "short_code": view.short_code,
        "short_url": view.short_url,
        "format": view.format,
        "size": view.size,
        "margin": view.margin,
        "error_correction": view.error_correction,
        "style": view.style,
        "name": view.name,
        "created_at": iso(view.created_at),
        "updated_at": iso(view.updated_at),
        **link_fields(view.link),
    }


def link_fields(link: LinkView | None) -> dict[str, Any]:
    """A dynamic code's options (the password only as `has_password`); null for static."""
    if link is None:
        return dict(_NO_LINK)
    return {
        "domain": link.domain,
        "paused": link.paused,
        "expires_at": iso(link.expires_at),
        "max_scans": link.max_scans,
        "has_password": link.has_password,
        "forward_query": link.forward_query,
        "utm": link.utm,
        "rules": link.rules,
        "split": link.split,
    }


def generated(result: GeneratedQr) -> dict[str, Any]:
    view = result.qr
    return {
        "id": view.id,
        "type": view.type,
        "format": view.format,
        "mime_type": result.mime_type,
        "image_base64": base64.b64encode(result.image).decode(),
        "data": view.data,
        "destination": view.destination,
        "short_code": view.short_code,
        "short_url": view.short_url,
        "size": view.size,
        "margin": view.margin,
        "error_correction": view.error_correction,
        "name": view.name,
        "created_at": iso(view.created_at),
        **link_fields(view.link),
    }


def bulk(items: list[BulkItem]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for item in items:
        if item.result is not None:
            results.append({"index": item.index, "ok": True, "qr": generated(item.result)})
        else:
            assert item.error is not None
            results.append({"index": item.index, "ok": False, **item.error.as_body()})
    succeeded = sum(1 for item in items if item.result is not None)
    return {"results": results, "succeeded": succeeded, "failed": len(items) - succeeded}
