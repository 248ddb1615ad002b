"""Scan statistics output types (CONTRACT §5 stats in camelCase) and the live count.

The stats object comes from `services.stats` (the analytics package); rows are read by
attribute name, or by position when they are plain tuples, so either form works.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from analytics.service import StatsReport


@strawberry.type
class StatsWindow:
    from_: date = strawberry.field(name="from")
    to: date


@strawberry.type
class DayCount:
    date: date
    scans: int
    unique_scans: int


@strawberry.type(description='Scans per key; an unknown value is the key "unknown".')
class KeyCount:
    key: str
    scans: int


@strawberry.type
class CityCount:
    key: str
    country: str
    scans: int


@strawberry.type(description="Bot scans are left out; lists are sorted by scans, descending.")
class QrStats:
    qr_id: strawberry.ID
    retention_days: int
    window: StatsWindow
    total_scans: int
    unique_scans: int
    repeat_scans: int
    by_day: list[DayCount]
    by_country: list[KeyCount]
    by_city: list[CityCount]
    by_device: list[KeyCount]
    by_browser: list[KeyCount]
    by_os: list[KeyCount]


@strawberry.type(description="A QR code's scan counts, pushed after each scan.")
class ScanCount:
    qr_id: strawberry.ID
    total_scans: int
    unique_scans: int
    last_scan_at: datetime | None


def _keys(rows: tuple[tuple[str, int], ...]) -> list[KeyCount]:
    return [KeyCount(key=key, scans=scans) for key, scans in rows]


def _days(rows: tuple[tuple[date, int, int], ...]) -> list[DayCount]:
    return [DayCount(date=day, scans=scans, unique_scans=unique) for day, scans, unique in rows]


def _cities(rows: tuple[tuple[str, str, int], ...]) -> list[CityCount]:
    return [CityCount(key=city, country=country, scans=scans) for city, country, scans in rows]


def qr_stats(report: StatsReport) -> QrStats:
    stats, window = report.stats, report.window
    return QrStats(
        qr_id=strawberry.ID(report.qr_id),
        retention_days=window.retention_days,
        window=StatsWindow(from_=window.start, to=window.end),
        total_scans=stats.total_scans,
        unique_scans=stats.unique_scans,
        repeat_scans=stats.repeat_scans,
        by_day=_days(stats.by_day),
        by_country=_keys(stats.by_country),
        by_city=_cities(stats.by_city),
        by_device=_keys(stats.by_device),
        by_browser=_keys(stats.by_browser),
        by_os=_keys(stats.by_os),
    )


def scan_count(qr_id: str, counts: Any) -> ScanCount:
    return ScanCount(
        qr_id=strawberry.ID(qr_id),
        total_scans=counts.total_scans,
        unique_scans=counts.unique_scans,
        last_scan_at=counts.last_scan_at,
    )
