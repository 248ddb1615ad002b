"""What callers see of a QR code, built from a stored row, and the list cursor."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import invalid_field
from core.models import QrCode
from core.shortcodes import short_url


@dataclass(frozen=True)
class QrView:
    id: str
    type: str
    data: str
    destination: str | None
    short_code: str | None
    short_url: str | None
    format: str
    size: int
    margin: int
    error_correction: str
    style: dict[str, Any]
    name: str | None
    created_at: datetime
    updated_at: datetime
    link: LinkView | None = None  # dynamic codes only


@dataclass(frozen=True)
class LinkView:
    """A dynamic code's options as callers see them: the password only as a flag."""

    domain: str | None
    paused: bool
    expires_at: datetime | None
    max_scans: int | None
    has_password: bool
    forward_query: bool
    utm: dict[str, str] | None
    rules: list[dict[str, Any]]
    split: list[dict[str, Any]]


@dataclass(frozen=True)
class GeneratedQr:
    qr: QrView
    image: bytes
    mime_type: str


@dataclass(frozen=True)
class QrPage:
    items: tuple[QrView, ...]
    end_cursor: str | None
    has_next_page: bool


def to_view(row: QrCode, base_url: str) -> QrView:
    return QrView(
        id=row.id,
        type=row.type,
        data=row.data,
        destination=row.destination,
        short_code=row.short_code,
        short_url=short_url(base_url, row.short_code, row.domain) if row.short_code else None,
        format=row.format,
        size=row.size,
        margin=row.margin,
        error_correction=row.error_correction,
        style=dict(row.style or {}),
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        link=link_view(row) if row.type == "dynamic" else None,
    )


def link_view(row: QrCode) -> LinkView:
    return LinkView(
        domain=row.domain or None,
        paused=row.paused,
        expires_at=row.expires_at,
        max_scans=row.max_scans,
        has_password=row.password_hash is not None,
        forward_query=row.forward_query,
        utm=row.utm or None,
        rules=list(row.rules or ()),
        split=list(row.split or ()),
    )


def encode_cursor(view: QrView) -> str:
    raw = json.dumps([view.created_at.isoformat(), view.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, qr_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(stamp), str(qr_id)
    except (binascii.Error, ValueError, TypeError, RecursionError):
        raise invalid_field(
            "after", f"Cursor {cursor[:40]!r} is not one this API issued."
        ) from None
