"""The numbers behind `GET /qr/{id}/stats` and the live `scanCount`, bots left out.

Three short queries: the window's totals (distinct visitors need the raw rows of every
day) over the QR's contiguous range of `scans`, then the days and the breakdowns from the
`scans_daily` rollup (see analytics.tables). A window is whole UTC days, both ends
included; `by_day` lists only the days that had scans, oldest first. Other lists are
sorted by scans, descending, ties by key so that equal counts always come back in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

# Distinct visitors over the whole window need every visitor of every day: raw rows.
TOTALS_SQL = f"""
SELECT count(), uniqExact(visitor_key)
FROM $scans
WHERE {_WINDOW}
"""

_DAYS = """
    qr_id = {qr_id:String} AND day >= {first:Date} AND day <= {last:Date}
"""

# Everything else comes from the one-row-per-QR-day rollup.
DAYS_SQL = f"""
SELECT day, sum(scans), uniqExactMerge(visitors)
FROM $scans_daily
WHERE {_DAYS}
GROUP BY day
"""

BREAKDOWNS_SQL = f"""
SELECT sumMap(by_country), sumMap(by_city), sumMap(by_device), sumMap(by_browser), sumMap(by_os)
FROM $scans_daily
WHERE {_DAYS}
"""

_COUNTS = """
SELECT count(), uniqExact(visitor_key), toUnixTimestamp64Milli(max(scanned_at))
FROM $scans
WHERE qr_id = {qr_id:String} AND scanned_at >= {since:DateTime64(3, 'UTC')} AND NOT is_bot
"""


class StatsSource(Protocol):
    def query(self, sql: str, parameters: dict[str, Any]) -> list[tuple[Any, ...]]: ...

    def query_many(
        self, statements: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[list[tuple[Any, ...]]]: ...


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
    days = {"qr_id": qr_id, "first": start.isoformat(), "last": end.isoformat()}
    totals, day_rows, maps = store.query_many(
        [(TOTALS_SQL, window), (DAYS_SQL, days), (BREAKDOWNS_SQL, days)]
    )
    [(total, unique)] = totals or [(0, 0)]
    by_day = tuple(sorted((day, int(n), int(u)) for day, n, u in day_rows if n))
    countries, cities, devices, browsers, systems = maps[0] if maps else ({},) * 5
    return QrStats(
        total_scans=int(total),
        unique_scans=int(unique),
        repeat_scans=int(total) - int(unique),
        by_day=by_day,
        by_country=_ranked(countries),
        by_city=_ranked_cities(cities),
        by_device=_ranked(devices),
        by_browser=_ranked(browsers),
        by_os=_ranked(systems),
    )


def fetch_counts(store: StatsSource, qr_id: str, since: date = date(1970, 1, 1)) -> ScanCounts:
    """Non-bot counts from the UTC day `since` on, for the live scanCount (blocking)."""
    rows = store.query(_COUNTS, {"qr_id": qr_id, "since": _timestamp(since)})
    total, unique, last_millis = rows[0] if rows else (0, 0, 0)
    if not total:
        return ScanCounts(0, 0, None)
    last = datetime.fromtimestamp(last_millis / 1000, tz=UTC)
    return ScanCounts(int(total), int(unique), last)


def _timestamp(day: date | datetime) -> str:
    return day.strftime("%Y-%m-%d %H:%M:%S")


def _known(key: str) -> str:
    return key or UNKNOWN  # "" and "unknown" are one and the same key


def _ranked(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    merged: dict[str, int] = {}
    for key, scans in counts.items():
        merged[_known(key)] = merged.get(_known(key), 0) + int(scans)
    return tuple(sorted(merged.items(), key=lambda item: (-item[1], item[0])))


def _ranked_cities(counts: dict[str, int]) -> tuple[tuple[str, str, int], ...]:
    merged: dict[tuple[str, str], int] = {}
    for key, scans in counts.items():
        city, _, country = key.partition("\t")
        pair = (_known(city), _known(country))
        merged[pair] = merged.get(pair, 0) + int(scans)
    ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    return tuple((city, country, scans) for (city, country), scans in ranked)
