"""A scan: one GET on the redirect domain, as the rest of the system sees it (never a raw IP).

The redirector journals each scan's raw facts; its journal consumer builds `ScanRow`s,
commits them in `ScanBatch`es to every durable `ScanSink` (the scan store or the stream
to it, the webhook outbox), then hands them to the best-effort `ScanListener`s (live
counts). Refused requests (a paused or expired link, a password page, an unknown code on
a custom domain) are rows too, with their `outcome`: analytics keeps them apart, live
counts and webhooks skip them.
"""

from __future__ import annotations

from collections.abc import Sequence
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


@dataclass(frozen=True)
class ScanBatch:
    """Consecutive scans of one journal. The same journal range always gives the same
    token, keys and rows, which is what makes a replay after a crash harmless."""

    token: str  # the batch's idempotency key (ClickHouse insert deduplication token)
    rows: Sequence[ScanRow]
    keys: Sequence[str]  # per row: the scan's own key (webhook event ids derive from it)
    replayed: bool = False  # in flight when a process died: sinks may have it already


class ScanSink(Protocol):
    """A durable destination: `commit` returns once the batch is stored, or raises.

    Committing a batch again must not store it twice (keys are deterministic)."""

    async def commit(self, batch: ScanBatch) -> None: ...


class ScanListener(Protocol):
    """Receives each batch once it is stored; best effort, never blocks, never raises."""

    def submit(self, batch: ScanBatch) -> None: ...
