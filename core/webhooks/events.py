"""The `qr.scanned` event body of CONTRACT §7, built once per scan.

Event id policy: one id per scan. Every endpoint of the account receives the same event
(same id, same bytes), and every retry to an endpoint repeats it, so receivers can use
`id` / `webhook-id` as their idempotency key.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from core.scans import ScanRow
from core.timestamps import iso_millis

EVENT_TYPE = "qr.scanned"


def new_event_id() -> str:
    return f"evt_{secrets.token_hex(12)}"


def scan_event(event_id: str, row: ScanRow, created_at: datetime) -> str:
    """The JSON body, compact, as the exact bytes that get signed and sent."""
    body = {
        "id": event_id,
        "type": EVENT_TYPE,
        "created_at": iso_millis(created_at),
        "data": {
            "qr_id": row.qr_id,
            "short_code": row.short_code,
            "scanned_at": iso_millis(row.scanned_at),
            "destination": row.destination,
            "country": row.country,
            "city": row.city,
            "device": row.device,
            "browser": row.browser,
            "os": row.os,
            "is_unique": row.is_unique,
        },
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
