"""The analytics service both surfaces call: tier and ownership rules, then the queries.

Queries are blocking (clickhouse-connect's sync client, and chdb runs in-process), so
they leave the event loop for a worker thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import anyio

from analytics import export
from analytics.export import ScanPage
from analytics.refusals import DomainRefusals, fetch_refusals
from analytics.stats import QrStats, ScanCounts, StatsSource, fetch_counts, fetch_stats
from core.accounts import Principal
from core.errors import NotFound, invalid_field
from core.models import QrCode, is_id
from core.windows import Window, stats_window

_EMPTY = QrStats(0, 0, 0, (), (), (), (), (), ())
MAX_PAGE = 1000


@dataclass(frozen=True)
class StatsReport:
    qr_id: str
    window: Window
    stats: QrStats
    tz: str = "UTC"


@dataclass(frozen=True)
class RefusalsReport:
    window: Window
    domains: tuple[DomainRefusals, ...]


def _today() -> date:
    return datetime.now(UTC).date()


class StatsService:
    def __init__(self, source: StatsSource, today: Callable[[], date] = _today) -> None:
        self._source = source
        self._today = today

    async def stats(
        self,
        principal: Principal,
        qr_id: str,
        start: date | None,
        end: date | None,
        tz: str | None = None,
    ) -> StatsReport:
        zone = check_zone(tz)
        window = stats_window(principal.tier, self._today(), start, end)
        await _check_owner(principal, qr_id)
        if window.empty:
            return StatsReport(qr_id, window, _EMPTY, zone)
        stats = await anyio.to_thread.run_sync(
            fetch_stats, self._source, qr_id, window.start, window.end, zone
        )
        return StatsReport(qr_id, window, stats, zone)

    async def counts(self, principal: Principal, qr_id: str) -> ScanCounts:
        """The live count covers what the stats may show: the tier's whole retention."""
        window = stats_window(principal.tier, self._today(), None, None)
        await _check_owner(principal, qr_id)
        return await anyio.to_thread.run_sync(fetch_counts, self._source, qr_id, window.start)

    async def scans(
        self,
        principal: Principal,
        qr_id: str,
        start: date | None,
        end: date | None,
        first: int,
        after: str | None,
    ) -> ScanPage:
        """One page of raw scans (GraphQL `qrScans`), oldest first."""
        if not 1 <= first <= MAX_PAGE:
            raise invalid_field("first", f"first is {first}; expected 1..{MAX_PAGE}.")
        cursor = export.decode_cursor(after) if after else None
        window = stats_window(principal.tier, self._today(), start, end)
        await _check_owner(principal, qr_id)
        if window.empty:
            return ScanPage((), None, False)
        begin, stop = _bounds(window)
        records, following = await anyio.to_thread.run_sync(
            export.fetch_page, self._source, qr_id, begin, stop, cursor, first
        )
        end_cursor = export.encode_cursor(following) if following else None
        return ScanPage(tuple(records), end_cursor, following is not None)

    async def export_csv(
        self, principal: Principal, qr_id: str, start: date | None, end: date | None
    ) -> tuple[Window, AsyncIterator[bytes]]:
        """Checks first (so errors come before any byte), then the CSV as it is read."""
        window = stats_window(principal.tier, self._today(), start, end)
        await _check_owner(principal, qr_id)
        return window, self._csv(qr_id, window)

    async def _csv(self, qr_id: str, window: Window) -> AsyncIterator[bytes]:
        yield export.csv_header()
        if window.empty:
            return
        begin, stop = _bounds(window)
        cursor: export.Cursor | None = None
        while True:
            records, cursor = await anyio.to_thread.run_sync(
                export.fetch_page, self._source, qr_id, begin, stop, cursor, export.CSV_BATCH
            )
            if records:
                yield export.csv_rows(records)
            if cursor is None:
                return

    async def refusals(
        self, principal: Principal, start: date | None, end: date | None
    ) -> RefusalsReport:
        window = stats_window(principal.tier, self._today(), start, end)
        if window.empty:
            return RefusalsReport(window, ())
        found = await anyio.to_thread.run_sync(
            fetch_refusals, self._source, principal.account_id, window.start, window.end
        )
        return RefusalsReport(window, found)


def check_zone(tz: str | None) -> str:
    """An IANA time zone name (default UTC), or 422 on `tz`."""
    name = tz or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid_field(
            "tz", f"tz is {name[:60]!r}; expected an IANA time zone such as Europe/Berlin."
        ) from None
    return name


def _bounds(window: Window) -> tuple[datetime, datetime]:
    begin = datetime.combine(window.start, datetime.min.time(), UTC)
    return begin, datetime.combine(window.end + timedelta(days=1), datetime.min.time(), UTC)


async def _check_owner(principal: Principal, qr_id: str) -> None:
    # Deleted codes included: their scans stay readable for the retention window.
    owned = is_id(qr_id, "qr") and await QrCode.exists(id=qr_id, account_id=principal.account_id)
    if not owned:
        raise NotFound(f"No QR code with id {qr_id!r} in this account.")
