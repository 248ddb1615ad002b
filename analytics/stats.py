"""The numbers behind `GET /qr/{id}/stats` and the live `scanCount`, bots left out.

Three short queries: the window's totals (distinct visitors need the raw rows of every
day) over the QR's contiguous range of `scans`, then the days, and the breakdowns with the
quarter-hour histogram (for hours and weekdays in any time zone) from the `scans_daily`
rollup (see analytics.tables). Scans are human redirects: bots are counted apart
(`bot_scans`), password pages and refusals only appear in `by_outcome`. A window is
whole UTC days, both ends included; `by_day` lists only the days that had scans, oldest
first. Other lists are sorted by scans, descending, ties by key so that equal counts
always come back in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from analytics.tables import BREAKDOWN_DIMENSIONS

UNKNOWN = "unknown"
DIRECT = "direct"  # the by_referrer key of scans that sent no Referer
DEFAULT_TARGET = "default"  # rows stored before targets were recorded

_WINDOW = """
    qr_id = {qr_id:String}
    AND scanned_at >= {start:DateTime64(3, 'UTC')}
    AND scanned_at < {stop:DateTime64(3, 'UTC')}
    AND NOT is_bot
    AND outcome IN ('', 'redirected')
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

# Every breakdown is one map, keyed "<dimension>\t<value>" (analytics.tables); hours and
# weekdays come from the quarter-hour histogram, each quarter of each UTC day placed in the
# asked time zone (exact across DST) as the key weekday * 96 + local quarter.
_MOMENT = "toDateTime(day, 'UTC') + quarter * 900"
_LOCAL_QUARTER = (
    f"(toDayOfWeek({_MOMENT}, 0, {{tz:String}}) - 1) * 96"
    f" + intDiv(toHour({_MOMENT}, {{tz:String}}) * 60 + toMinute({_MOMENT}, {{tz:String}}), 15)"
)
BREAKDOWNS_SQL = f"""
SELECT sum(bot_scans), sumMap(breakdown),
    sumMap(mapApply((quarter, scans) -> (toUInt16({_LOCAL_QUARTER}), scans), by_quarter))
FROM $scans_daily
WHERE {_DAYS}
"""

_COUNTS = """
SELECT count(), uniqExact(visitor_key), toUnixTimestamp64Milli(max(scanned_at))
FROM $scans
WHERE qr_id = {qr_id:String} AND scanned_at >= {since:DateTime64(3, 'UTC')} AND NOT is_bot
    AND outcome IN ('', 'redirected')
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
    # Second wave (docs/links.md); defaults keep first-wave constructions valid.
    bot_scans: int = 0
    by_referrer: tuple[tuple[str, int], ...] = ()  # "direct" when no referrer was sent
    by_language: tuple[tuple[str, int], ...] = ()
    by_hour: tuple[int, ...] = (0,) * 24  # scans per local hour 0..23
    by_weekday: tuple[int, ...] = (0,) * 7  # scans per local weekday, Monday first
    by_target: tuple[tuple[str, int], ...] = ()  # default | rule:N | split:N
    by_outcome: tuple[tuple[str, int], ...] = ()  # redirected | password_page | gone


@dataclass(frozen=True)
class ScanCounts:
    total_scans: int
    unique_scans: int
    last_scan_at: datetime | None


def fetch_stats(store: StatsSource, qr_id: str, start: date, end: date, tz: str = "UTC") -> QrStats:
    """Stats for the UTC days start..end, both included; hours and weekdays in `tz`
    (an IANA name the caller has checked). Blocking: run it in a worker thread."""
    stop = datetime.combine(end + timedelta(days=1), datetime.min.time())
    window = {"qr_id": qr_id, "start": _timestamp(start), "stop": _timestamp(stop)}
    days = {"qr_id": qr_id, "first": start.isoformat(), "last": end.isoformat()}
    totals, day_rows, maps = store.query_many(
        [(TOTALS_SQL, window), (DAYS_SQL, days), (BREAKDOWNS_SQL, {**days, "tz": tz})]
    )
    [(total, unique)] = totals or [(0, 0)]
    by_day = tuple(sorted((day, int(n), int(u)) for day, n, u in day_rows if n))
    bots, breakdown, quarters = maps[0] if maps else (0, {}, {})
    found = _split_dimensions(breakdown)
    by_hour, by_weekday = [0] * 24, [0] * 7
    for key, scans in quarters.items():
        weekday, quarter = divmod(int(key), 96)
        by_hour[quarter // 4] += int(scans)
        by_weekday[weekday] += int(scans)
    return QrStats(
        total_scans=int(total),
        unique_scans=int(unique),
        repeat_scans=int(total) - int(unique),
        by_day=by_day,
        by_country=_ranked(found["by_country"]),
        by_city=_ranked_cities(found["by_city"]),
        by_device=_ranked(found["by_device"]),
        by_browser=_ranked(found["by_browser"]),
        by_os=_ranked(found["by_os"]),
        bot_scans=int(bots or 0),
        by_referrer=_ranked(found["by_referrer"], empty=DIRECT),
        by_language=_ranked(found["by_language"]),
        by_hour=tuple(by_hour),
        by_weekday=tuple(by_weekday),
        by_target=_ranked(found["by_target"], empty=DEFAULT_TARGET),
        by_outcome=_ranked(found["by_outcome"]),
    )


def _split_dimensions(breakdown: dict[str, int]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {name: {} for name in BREAKDOWN_DIMENSIONS.values()}
    for key, scans in breakdown.items():
        prefix, _, value = key.partition("\t")
        field = BREAKDOWN_DIMENSIONS.get(prefix)
        if field is not None:
            found[field][value] = found[field].get(value, 0) + int(scans)
    return found


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


def _ranked(counts: dict[str, int], empty: str = UNKNOWN) -> tuple[tuple[str, int], ...]:
    merged: dict[str, int] = {}
    for key, scans in counts.items():
        name = key or empty
        merged[name] = merged.get(name, 0) + int(scans)
    ranked = ((key, scans) for key, scans in merged.items() if scans)
    return tuple(sorted(ranked, key=lambda item: (-item[1], item[0])))


def _ranked_cities(counts: dict[str, int]) -> tuple[tuple[str, str, int], ...]:
    merged: dict[tuple[str, str], int] = {}
    for key, scans in counts.items():
        city, _, country = key.partition("\t")
        pair = (_known(city), _known(country))
        merged[pair] = merged.get(pair, 0) + int(scans)
    ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    return tuple((city, country, scans) for (city, country), scans in ranked)
