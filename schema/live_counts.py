"""A QR code's live scan counts: the stored value first, then one update per scan.

Order matters: the bus subscription opens *before* the stored counts are read, so no scan
can fall between the two. A scan that lands in both (published after we subscribed but
already in the store when we read) is recognised by its time not being after the stored
`last_scan_at`, and not counted twice.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from core.accounts import Principal
from core.bus import OVERFLOW
from core.live import scans_channel
from core.services import Services
from core.windows import stats_window

_RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Counts:
    total_scans: int
    unique_scans: int
    last_scan_at: datetime | None


async def live_counts(
    services: Services,
    principal: Principal,
    qr_id: str,
    recheck: Callable[[], Awaitable[Principal]] | None = None,
) -> AsyncGenerator[Counts, None]:
    """`recheck` re-reads the key before pushing (at most once a second), so a revoked key
    or a tier without analytics ends the stream with that error instead of more counts."""
    stats = services.stats
    await services.qr.get(principal, qr_id)  # someone else's QR: not_found, before listening
    async with services.bus.subscribe(scans_channel(qr_id)) as events:
        stored = await stats.counts(principal, qr_id)
        counts = Counts(stored.total_scans, stored.unique_scans, _utc(stored.last_scan_at))
        seen_until, checked = counts.last_scan_at, time.monotonic()
        yield counts
        async for event in events:
            if event is OVERFLOW or event.get("overflow"):
                # Events were lost: the store is the truth again (it may lag by a second).
                stored = await stats.counts(principal, qr_id)
                counts = Counts(stored.total_scans, stored.unique_scans, _utc(stored.last_scan_at))
                seen_until = counts.last_scan_at
                yield counts
                continue
            scanned_at = _moment(event)
            if event.get("is_bot") or (seen_until and scanned_at and scanned_at <= seen_until):
                continue
            if recheck is not None and time.monotonic() - checked >= _RECHECK_SECONDS:
                stats_window((await recheck()).tier, datetime.now(UTC).date(), None, None)
                checked = time.monotonic()
            counts = _counted(counts, event, scanned_at)
            yield counts


def _counted(counts: Counts, event: Mapping[str, Any], scanned_at: datetime | None) -> Counts:
    return replace(
        counts,
        total_scans=counts.total_scans + 1,
        unique_scans=counts.unique_scans + (1 if event.get("is_unique") else 0),
        last_scan_at=scanned_at or counts.last_scan_at,
    )


def _moment(event: Mapping[str, Any]) -> datetime | None:
    raw = event.get("scanned_at")
    try:
        return _utc(datetime.fromisoformat(raw)) if isinstance(raw, str) else None
    except ValueError:
        return None


def _utc(moment: datetime | None) -> datetime | None:
    # The scan store may hand back naive UTC times; the bus carries "...Z".
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
