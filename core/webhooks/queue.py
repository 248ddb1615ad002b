"""The durable delivery queue: claiming due rows under a lease, and recording results.

A claim sets `locked_until` (the lease) and a fresh `claim_token`, and counts the attempt.
A worker that dies mid-flight leaves its lease to expire, after which any worker claims
the row again (at-least-once). Results are written only while the token still matches,
so a worker that outlived its lease cannot overwrite a newer claim's outcome.

Postgres: SELECT … FOR UPDATE SKIP LOCKED inside a transaction, so concurrent workers
skip each other's rows instead of queueing behind them. SQLite: a conditional UPDATE that
re-checks "due and not leased" (SQLite runs one writer at a time, so that is atomic).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from core.models import WebhookDelivery

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def _due(now: datetime) -> Q:
    unleased = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    return Q(status=PENDING, next_attempt_at__lte=now) & unleased


async def claim_due(
    now: datetime, lease_until: datetime, limit: int, *, postgres: bool
) -> list[WebhookDelivery]:
    """Lease up to `limit` due deliveries, oldest first; their `attempts` include this one."""
    token = secrets.token_hex(16)
    claim = _claim_skip_locked if postgres else _claim_conditional
    ids = await claim(now, lease_until, limit, token)
    if not ids:
        return []
    return await WebhookDelivery.filter(id__in=ids, claim_token=token).order_by(
        "next_attempt_at", "id"
    )


async def _claim_skip_locked(
    now: datetime, lease_until: datetime, limit: int, token: str
) -> list[int]:
    async with in_transaction() as conn:
        rows = (
            await WebhookDelivery.filter(_due(now))
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
            .using_db(conn)
        )
        ids = [row.id for row in rows]
        if ids:
            await _lease(WebhookDelivery.filter(id__in=ids).using_db(conn), lease_until, token)
    return ids


async def _claim_conditional(
    now: datetime, lease_until: datetime, limit: int, token: str
) -> list[int]:
    rows = await WebhookDelivery.filter(_due(now)).order_by("next_attempt_at", "id").limit(limit)
    ids = [row.id for row in rows]
    if ids:
        # Re-checking `_due` here is what makes the claim safe against a concurrent claimer.
        await _lease(WebhookDelivery.filter(_due(now), id__in=ids), lease_until, token)
    return ids


async def _lease(rows: QuerySet[WebhookDelivery], lease_until: datetime, token: str) -> None:
    await rows.update(locked_until=lease_until, claim_token=token, attempts=F("attempts") + 1)


async def mark_delivered(deliveries: list[WebhookDelivery], now: datetime) -> int:
    """Record successes; one statement per claim, as a round shares its claim token."""
    updated = 0
    for token in {d.claim_token for d in deliveries}:
        ids = [d.id for d in deliveries if d.claim_token == token]
        updated += await WebhookDelivery.filter(id__in=ids, claim_token=token).update(
            status=DELIVERED, delivered_at=now, last_error=None, locked_until=None, claim_token=None
        )
    return updated


async def mark_retry(delivery: WebhookDelivery, next_attempt_at: datetime, error: str) -> bool:
    return await _finish(delivery, next_attempt_at=next_attempt_at, last_error=error)


async def mark_failed(delivery: WebhookDelivery, error: str) -> bool:
    return await _finish(delivery, status=FAILED, last_error=error)


async def _finish(delivery: WebhookDelivery, **values: object) -> bool:
    updated = await WebhookDelivery.filter(id=delivery.id, claim_token=delivery.claim_token).update(
        locked_until=None, claim_token=None, **values
    )
    return updated > 0


async def purge_finished(before: datetime) -> int:
    """Forget deliveries that ended (delivered or given up) before `before`."""
    finished = WebhookDelivery.filter(status__in=(DELIVERED, FAILED), created_at__lt=before)
    return await finished.delete()


@dataclass(frozen=True)
class Backlog:
    """Deliveries waiting to be sent (metrics-ready): how many, and how long the oldest has."""

    pending: int
    oldest_age: float  # seconds since the oldest pending delivery was queued; 0 if none


async def backlog(now: datetime) -> Backlog:
    pending = WebhookDelivery.filter(status=PENDING)
    count = await pending.count()
    oldest = await pending.order_by("created_at").first().values_list("created_at", flat=True)
    age = (now - oldest).total_seconds() if isinstance(oldest, datetime) else 0.0
    return Backlog(count, max(0.0, age))
