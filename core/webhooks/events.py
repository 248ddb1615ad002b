"""The `qr.scanned` event body of CONTRACT §7, built once per scan.

Event id policy: one id per scan, derived from the scan's journal key (so a scan sent
again after a crash keeps its id). Every endpoint of the account receives the same event
(same id, same bytes), and every retry to an endpoint repeats it, so receivers can use
`id` / `webhook-id` as their idempotency key.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from core.scans import ScanRow
from core.timestamps import iso_millis

EVENT_TYPE = "qr.scanned"


def event_id_for(scan_key: str) -> str:
    """The event id of the scan with this journal key: the same on every replay."""
    return f"evt_{hashlib.blake2b(scan_key.encode(), digest_size=12).hexdigest()}"


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
