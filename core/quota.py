"""Monthly generation quota and the dynamic QR limit, each one conditional UPDATE.

A conditional UPDATE is atomic on SQLite and on Postgres (row lock), so concurrent
requests can never take more than the tier allows. Callers run these inside the
transaction that creates the QR, so a failure later gives the units back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.expressions import F

from core.errors import Invalid, Throttled
from core.models import Account, MonthlyUsage
from core.tiers import Tier


def current_month(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def _seconds_to_next_month(now: datetime) -> int:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return int((datetime(year, month, 1, tzinfo=UTC) - now).total_seconds()) + 1


# One statement: create the month's row or add to it, but only while within the limit.
# RETURNING yields no row when the WHERE refused the update (SQLite ≥ 3.35, Postgres).
_TAKE = """
INSERT INTO monthly_usage (account_id, month, generations) VALUES ({0}, {1}, {2})
ON CONFLICT (account_id, month) DO UPDATE
SET generations = monthly_usage.generations + excluded.generations
WHERE monthly_usage.generations + excluded.generations <= {3}
RETURNING generations
"""


_ROOM = """
SELECT a.dynamic_qr_count, COALESCE(u.generations, 0) AS generations
FROM accounts a LEFT JOIN monthly_usage u ON u.account_id = a.id AND u.month = {0}
WHERE a.id = {1}
"""


async def check_room(account_id: str, tier: Tier, *, dynamic: bool) -> None:
    """A cheap read before the expensive render; the binding checks run in the transaction."""
    rows = await _query(_ROOM, [current_month(), account_id])
    if rows and int(rows[0]["generations"]) >= tier.generations_per_month:
        raise _quota_exceeded(tier)
    if rows and dynamic and int(rows[0]["dynamic_qr_count"]) >= tier.dynamic_qr_limit:
        raise _dynamic_limit(tier)


async def take_generations(account_id: str, tier: Tier, count: int = 1) -> None:
    rows = []
    if count <= tier.generations_per_month:
        values = [account_id, current_month(), count, tier.generations_per_month]
        rows = await _query(_TAKE, values)
    if not rows:
        raise _quota_exceeded(tier)


async def _query(template: str, values: list[object]) -> list[dict[str, Any]]:
    connection = connections.get(MonthlyUsage._meta.default_connection or "default")
    # The SQL is ours and fixed; only the placeholder style differs between the dialects.
    postgres = connection.capabilities.dialect == "postgres"
    marks = [f"${n}" if postgres else "?" for n in range(1, len(values) + 1)]
    rows: list[dict[str, Any]] = await connection.execute_query_dict(
        template.format(*marks), values
    )
    return rows


def _quota_exceeded(tier: Tier) -> Throttled:
    retry = _seconds_to_next_month(datetime.now(UTC))
    return Throttled(
        f"The monthly quota of {tier.generations_per_month} generations for the "
        f"{tier.name} tier is used up; it renews at the start of next month.",
        code="quota_exceeded",
        headers={"Retry-After": str(retry)},
    )


def _dynamic_limit(tier: Tier) -> Invalid:
    return Invalid(
        f"The {tier.name} tier allows {tier.dynamic_qr_limit} dynamic QR codes and "
        "all are in use; upgrade the tier or create a static QR code.",
        code="dynamic_qr_limit",
    )


async def generations_used(account_id: str) -> int:
    row = await MonthlyUsage.get_or_none(account_id=account_id, month=current_month())
    return row.generations if row else 0


async def take_dynamic_slot(account_id: str, tier: Tier) -> None:
    taken = await Account.filter(id=account_id, dynamic_qr_count__lt=tier.dynamic_qr_limit).update(
        dynamic_qr_count=F("dynamic_qr_count") + 1
    )
    if not taken:
        raise _dynamic_limit(tier)
