"""The stats service both surfaces call: tier and ownership rules, then the query.

Queries are blocking (clickhouse-connect's sync client, and chdb runs in-process), so
they leave the event loop for a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import anyio

from analytics.stats import QrStats, ScanCounts, StatsSource, fetch_counts, fetch_stats
from core.accounts import Principal
from core.errors import NotFound
from core.models import QrCode, is_id
from core.windows import Window, stats_window

_EMPTY = QrStats(0, 0, 0, (), (), (), (), (), ())


@dataclass(frozen=True)
class StatsReport:
    qr_id: str
    window: Window
    stats: QrStats


def _today() -> date:
    return datetime.now(UTC).date()


class StatsService:
    def __init__(self, source: StatsSource, today: Callable[[], date] = _today) -> None:
        self._source = source
        self._today = today

    async def stats(
        self, principal: Principal, qr_id: str, start: date | None, end: date | None
    ) -> StatsReport:
        window = stats_window(principal.tier, self._today(), start, end)
        await _check_owner(principal, qr_id)
        if window.empty:
            return StatsReport(qr_id, window, _EMPTY)
        stats = await anyio.to_thread.run_sync(
            fetch_stats, self._source, qr_id, window.start, window.end
        )
        return StatsReport(qr_id, window, stats)

    async def counts(self, principal: Principal, qr_id: str) -> ScanCounts:
        """The live count covers what the stats may show: the tier's whole retention."""
        window = stats_window(principal.tier, self._today(), None, None)
        await _check_owner(principal, qr_id)
        return await anyio.to_thread.run_sync(fetch_counts, self._source, qr_id, window.start)


async def _check_owner(principal: Principal, qr_id: str) -> None:
    owned = is_id(qr_id, "qr") and await QrCode.exists(id=qr_id, account_id=principal.account_id)
    if not owned:
        raise NotFound(f"No QR code with id {qr_id!r} in this account.")
