"""Endpoint health: consecutive failed attempts, and disabling an endpoint that keeps failing.

Counted per attempt, not per event, with atomic increments so concurrent workers agree.
A success resets the count; the 20th failure in a row disables the endpoint (`disabled_at`),
after which no new deliveries are queued for it and pending ones end as failed.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import F

from core.models import ScanEndpoint

DISABLE_AFTER = 20


async def record_round(outcomes: dict[str, list[bool]], now: datetime) -> set[str]:
    """Apply one round's attempts (per endpoint, in completion order); return the endpoints
    this disabled."""
    disabled: set[str] = set()
    # A fixed order, so that concurrent workers' transactions cannot deadlock on these rows.
    for endpoint_id, results in sorted(outcomes.items()):
        if await _record(endpoint_id, results, now):
            disabled.add(endpoint_id)
    return disabled


async def _record(endpoint_id: str, results: list[bool], now: datetime) -> bool:
    endpoint = ScanEndpoint.filter(id=endpoint_id)
    if any(results):
        # Only the failures after the round's last success are still "in a row".
        trailing = len(results) - 1 - max(i for i, ok in enumerate(results) if ok)
        await endpoint.update(consecutive_failures=trailing)
    else:
        await endpoint.update(consecutive_failures=F("consecutive_failures") + len(results))
    disabled = await ScanEndpoint.filter(
        id=endpoint_id, disabled_at__isnull=True, consecutive_failures__gte=DISABLE_AFTER
    ).update(disabled_at=now)
    return disabled > 0
