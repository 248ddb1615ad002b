"""Scan statistics output types (CONTRACT §5 stats in camelCase) and the live count.

The stats object comes from `services.stats` (the analytics package); rows are read by
attribute name, or by position when they are plain tuples, so either form works.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from analytics.export import ScanPage, ScanRecord
from analytics.refusals import DomainRefusals
from analytics.service import RefusalsReport, StatsReport
from core.routing import WEEKDAYS
from core.windows import Window


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
    bot_scans: int = strawberry.field(description="Scans by bots and link previews.")
    by_referrer: list[KeyCount] = strawberry.field(description='"direct": no referrer sent.')
    by_language: list[KeyCount]
    tz: str = strawberry.field(description="The time zone of byHour and byWeekday.")
    by_hour: list[HourCount] = strawberry.field(description="24 buckets, local hour 0..23.")
    by_weekday: list[WeekdayCount] = strawberry.field(description="7 buckets, mon..sun.")
    by_target: list[KeyCount] = strawberry.field(description="default | rule:N | split:N")
    by_outcome: list[KeyCount] = strawberry.field(
        description="Every human request: redirected | password_page | gone."
    )


@strawberry.type
class HourCount:
    hour: int
    scans: int


@strawberry.type
class WeekdayCount:
    day: str
    scans: int


@strawberry.type(description="One scan as stored (no IP, ever).")
class Scan:
    scanned_at: datetime
    destination: str
    visitor: str
    is_unique: bool
    country: str
    city: str
    device: str
    browser: str
    os: str
    referrer_host: str
    language: str
    target: str
    outcome: str
    domain: str
    is_bot: bool


@strawberry.type(description="Raw scans in time order; pass endCursor as `after` for more.")
class ScanList:
    scans: list[Scan]
    end_cursor: str | None
    has_next_page: bool


@strawberry.type
class DateCount:
    date: date
    scans: int


@strawberry.type(description="Refused and orphan scans of one domain (bots left out).")
class DomainRefusedScans:
    domain: str | None = strawberry.field(description="null: the redirect base URL's domain.")
    refused_scans: int
    by_day: list[DateCount]
    by_reason: list[KeyCount] = strawberry.field(
        description="deleted | paused | expired | exhausted | unknown (no such code)"
    )
    by_code: list[KeyCount]


@strawberry.type
class RefusedScans:
    retention_days: int
    window: StatsWindow
    domains: list[DomainRefusedScans]


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
        bot_scans=stats.bot_scans,
        by_referrer=_keys(stats.by_referrer),
        by_language=_keys(stats.by_language),
        tz=report.tz,
        by_hour=[HourCount(hour=hour, scans=n) for hour, n in enumerate(stats.by_hour)],
        by_weekday=[
            WeekdayCount(day=day, scans=n)
            for day, n in zip(WEEKDAYS, stats.by_weekday, strict=True)
        ],
        by_target=_keys(stats.by_target),
        by_outcome=_keys(stats.by_outcome),
    )


def scan_list(page: ScanPage) -> ScanList:
    return ScanList(
        scans=[_scan(record) for record in page.records],
        end_cursor=page.end_cursor,
        has_next_page=page.has_next_page,
    )


def _scan(record: ScanRecord) -> Scan:
    return Scan(**{name: getattr(record, name) for name in Scan.__annotations__})


def _window(window: Window) -> StatsWindow:
    return StatsWindow(from_=window.start, to=window.end)


def refused_scans(report: RefusalsReport) -> RefusedScans:
    return RefusedScans(
        retention_days=report.window.retention_days,
        window=_window(report.window),
        domains=[_refusals(found) for found in report.domains],
    )


def _refusals(found: DomainRefusals) -> DomainRefusedScans:
    return DomainRefusedScans(
        domain=found.domain or None,
        refused_scans=found.total,
        by_day=[DateCount(date=day, scans=n) for day, n in found.by_day],
        by_reason=_keys(found.by_reason),
        by_code=_keys(found.by_code),
    )


def scan_count(qr_id: str, counts: Any) -> ScanCount:
    return ScanCount(
        qr_id=strawberry.ID(qr_id),
        total_scans=counts.total_scans,
        unique_scans=counts.unique_scans,
        last_scan_at=counts.last_scan_at,
    )
