"""A scan: one GET on the redirect domain, as the rest of the system sees it (never a raw IP).

The redirector builds one `ScanRow` per scan and hands it to every `ScanListener`:
the analytics writer, the live-count publisher and the webhook outbox. Refused requests
(a paused or expired link, a password page, an unknown code on a custom domain) are rows
too, with their `outcome`: analytics keeps them apart, live counts and webhooks skip them.
"""

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
    destination: str  # where this scan was sent
    visitor: str  # keyed hash (hex) or the id from the signed first-party cookie
    is_unique: bool  # first scan of this QR by this visitor, as far as the ledger knows
    country: str  # ISO code or "unknown"
    city: str  # name or "unknown"
    device: str  # mobile|tablet|desktop|bot|unknown
    browser: str  # family or "unknown"
    os: str  # family or "unknown"
    referrer_host: str  # "" when absent
    is_bot: bool
    language: str = ""  # the visitor's preferred language tag ("de-AT"), "" when not sent
    target: str = "default"  # what served it: default | rule:N | split:N; if gone, why
    outcome: str = "redirected"  # redirected | password_page | gone | not_found
    domain: str = ""  # the custom domain it came through; "" = the redirect base URL's

    @property
    def counted(self) -> bool:
        """A scan of a link that sent its visitor on: what live counts and webhooks report."""
        return self.outcome == "redirected" and bool(self.qr_id)


class ScanListener(Protocol):
    """Receives each scan; `submit` must neither block nor raise on the redirect path."""

    def submit(self, row: ScanRow) -> None: ...
