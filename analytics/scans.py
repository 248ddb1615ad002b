"""The scan row: one GET on the redirect domain, as it is stored (never a raw IP)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ScanRow:
    scanned_at: datetime  # UTC, millisecond precision
    qr_id: str
    account_id: str
    short_code: str
    visitor: str  # keyed hash (hex) or the id from the signed first-party cookie
    is_unique: bool  # first scan of this QR by this visitor, as far as the ledger knows
    country: str  # ISO code or "unknown"
    city: str  # name or "unknown"
    device: str  # mobile|tablet|desktop|bot|unknown
    browser: str
    os: str
    referrer_host: str  # "" when absent
    is_bot: bool


class ScanSink(Protocol):
    """Where the redirector hands a scan; must not block or raise on the response path."""

    def submit(self, row: ScanRow) -> None: ...
