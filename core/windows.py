"""The stats window: defaults to the tier's whole retention and is clamped to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.errors import NotInTier, invalid_field
from core.tiers import Tier


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # inclusive
    retention_days: int
    empty: bool = False  # the request lies wholly outside retention: nothing may be shown


def stats_window(tier: Tier, today: date, start: date | None, end: date | None) -> Window:
    if not tier.has_analytics:
        raise NotInTier(
            f"Scan analytics are not part of the {tier.name} tier; upgrade to pro or above.",
            code="analytics_not_in_tier",
        )
    earliest = today - timedelta(days=tier.retention_days - 1)
    if start is not None and end is not None and start > end:
        raise invalid_field("from", f"from ({start}) is after to ({end}).")
    clamped_start = max(start or earliest, earliest)
    clamped_end = min(end or today, today)
    if clamped_start > clamped_end:
        edge = earliest if clamped_end < earliest else today
        return Window(edge, edge, tier.retention_days, empty=True)
    return Window(clamped_start, clamped_end, tier.retention_days)
