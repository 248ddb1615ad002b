"""Endpoint health by time: an endpoint is disabled only after failing continuously for
DISABLE_AFTER (24 hours), never by a count of attempts.

Anyone who scans a printed code can make deliveries happen, so a burst of failures, however
large, says nothing a receiver's owner must act on. `failing_since` is the time of the first
failed attempt after the last success; a success clears it. A failed attempt when the
endpoint has been failing for 24 hours disables it (`disabled_reason` "failing"): no new
events are queued for it, the events already queued keep their retry schedule, and
`PATCH /webhooks/scan-endpoints/{id}` `{"enabled": true}` turns it back on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.expressions import F

from core.models import ScanEndpoint

DISABLE_AFTER = timedelta(hours=24)
FAILING, MANUAL = "failing", "manual"


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
    if results[-1]:
        await endpoint.update(consecutive_failures=0, failing_since=None)
        return False
    if any(results):
        # Failing again since a success within this round.
        trailing = len(results) - 1 - max(i for i, ok in enumerate(results) if ok)
        await endpoint.update(consecutive_failures=trailing, failing_since=now)
        return False
    await endpoint.update(consecutive_failures=F("consecutive_failures") + len(results))
    await ScanEndpoint.filter(id=endpoint_id, failing_since__isnull=True).update(failing_since=now)
    disabled = await ScanEndpoint.filter(
        id=endpoint_id, disabled_at__isnull=True, failing_since__lte=now - DISABLE_AFTER
    ).update(disabled_at=now, disabled_reason=FAILING)
    return disabled > 0
