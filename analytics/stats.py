"""The numbers behind `GET /qr/{id}/stats` and the live `scanCount`, bots left out.

Two round trips over the QR's contiguous range of `scans`: totals and days (with distinct
visitors), then the breakdowns (counts only: a single query would count distinct visitors
in every breakdown too, measured 2-4x slower). A window is whole UTC days, both ends
included; `by_day` lists only the days that had scans, oldest first. Other lists are
sorted by scans, descending, ties by key so that equal counts always come back in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

UNKNOWN = "unknown"

_WINDOW = """
    qr_id = {qr_id:String}
    AND scanned_at >= {start:DateTime64(3, 'UTC')}
    AND scanned_at < {stop:DateTime64(3, 'UTC')}
    AND NOT is_bot
"""

# grouping(day) = 1 marks the grand-total row of the two grouping sets.
TOTALS_AND_DAYS_SQL = f"""
SELECT grouping(day) AS is_total, toDate(scanned_at) AS day, count(), uniqExact(visitor_key)
FROM $scans
WHERE {_WINDOW}
GROUP BY GROUPING SETS ((), (day))
"""

# grouping(x) = 0 when x is a key of the row's grouping set; the city set also has country.
BREAKDOWNS_SQL = f"""
SELECT
    multiIf(grouping(city) = 0, 'city', grouping(country) = 0, 'country',
            grouping(device) = 0, 'device', grouping(browser) = 0, 'browser', 'os') AS dim,
    country, city, device, browser, os, count()
FROM $scans
WHERE {_WINDOW}
GROUP BY GROUPING SETS ((country, city), (country), (device), (browser), (os))
"""

_COUNTS = """
SELECT count(), uniqExact(visitor_key), toUnixTimestamp64Milli(max(scanned_at))
FROM $scans
WHERE qr_id = {qr_id:String} AND NOT is_bot
"""


class StatsSource(Protocol):
    def query(self, sql: str, parameters: dict[str, Any]) -> list[tuple[Any, ...]]: ...


@dataclass(frozen=True)
class QrStats:
    total_scans: int
    unique_scans: int
    repeat_scans: int
    by_day: tuple[tuple[date, int, int], ...]  # (day, scans, unique_scans)
    by_country: tuple[tuple[str, int], ...]
    by_city: tuple[tuple[str, str, int], ...]  # (city, country, scans)
    by_device: tuple[tuple[str, int], ...]
    by_browser: tuple[tuple[str, int], ...]
    by_os: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ScanCounts:
    total_scans: int
    unique_scans: int
    last_scan_at: datetime | None


def fetch_stats(store: StatsSource, qr_id: str, start: date, end: date) -> QrStats:
    """Stats for the UTC days start..end, both included (blocking: run in a worker thread)."""
    stop = datetime.combine(end + timedelta(days=1), datetime.min.time())
    window = {"qr_id": qr_id, "start": _timestamp(start), "stop": _timestamp(stop)}
    total, unique, days = _totals_and_days(store.query(TOTALS_AND_DAYS_SQL, window))
    groups = _group_breakdowns(store.query(BREAKDOWNS_SQL, window))
    return QrStats(
        total_scans=total,
        unique_scans=unique,
        repeat_scans=total - unique,
        by_day=days,
        by_country=_ranked(groups.get("country", [])),
        by_city=tuple(
            (city, country, scans)
            for (city, country), scans in _ranked_pairs(groups.get("city", []))
        ),
        by_device=_ranked(groups.get("device", [])),
        by_browser=_ranked(groups.get("browser", [])),
        by_os=_ranked(groups.get("os", [])),
    )


def fetch_counts(store: StatsSource, qr_id: str) -> ScanCounts:
    """All-time, non-bot counts for the live scanCount subscription (blocking)."""
    rows = store.query(_COUNTS, {"qr_id": qr_id})
    total, unique, last_millis = rows[0] if rows else (0, 0, 0)
    if not total:
        return ScanCounts(0, 0, None)
    last = datetime.fromtimestamp(last_millis / 1000, tz=UTC)
    return ScanCounts(int(total), int(unique), last)


def _timestamp(day: date | datetime) -> str:
    return day.strftime("%Y-%m-%d %H:%M:%S")


def _totals_and_days(
    rows: Iterable[tuple[Any, ...]],
) -> tuple[int, int, tuple[tuple[date, int, int], ...]]:
    total = unique = 0
    days = []
    for is_total, day, scans, visitors in rows:
        if is_total:
            total, unique = int(scans), int(visitors)
        elif scans:
            days.append((day, int(scans), int(visitors)))
    return total, unique, tuple(sorted(days))


def _group_breakdowns(
    rows: Iterable[tuple[Any, ...]],
) -> dict[str, list[tuple[tuple[str, str], int]]]:
    # Summed per normalized key: "" and "unknown" are one and the same key.
    sums: dict[str, dict[tuple[str, str], int]] = {}
    for dim, country, city, device, browser, os_name, scans in rows:
        keys = {"country": country, "city": city, "device": device, "browser": browser}
        key = keys.get(dim, os_name) or UNKNOWN
        pair = (key, (country or UNKNOWN) if dim == "city" else "")
        group = sums.setdefault(dim, {})
        group[pair] = group.get(pair, 0) + int(scans)
    return {dim: list(group.items()) for dim, group in sums.items()}


def _ranked_pairs(
    items: list[tuple[tuple[str, str], int]],
) -> list[tuple[tuple[str, str], int]]:
    return sorted(items, key=lambda item: (-item[1], item[0]))


def _ranked(items: list[tuple[tuple[str, str], int]]) -> tuple[tuple[str, int], ...]:
    return tuple((key, scans) for (key, _), scans in _ranked_pairs(items))
