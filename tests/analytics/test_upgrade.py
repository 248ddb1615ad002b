"""The ClickHouse upgrade from the first wave's tables, with scans already stored in them.

A separate database of the session's embedded store gets the first wave's DDL verbatim,
rows written the way the first wave wrote them, then today's `migrate` (twice): the old
rows must all still count, appear in the new breakdowns exactly once, and new rows add up.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from analytics.stats import fetch_stats
from analytics.store import ScanStore
from core.scans import ScanRow

# The first wave's tables, as shipped.
V1_SCANS = """
CREATE TABLE IF NOT EXISTS $scans (
    scanned_at DateTime64(3, 'UTC'), qr_id String, account_id String, short_code String,
    destination String CODEC(ZSTD(3)), visitor String,
    visitor_key UInt64 MATERIALIZED cityHash64(visitor), is_unique Bool,
    country LowCardinality(String), city LowCardinality(String), device LowCardinality(String),
    browser LowCardinality(String), os LowCardinality(String),
    referrer_host LowCardinality(String), is_bot Bool
)
ENGINE = MergeTree PARTITION BY toYYYYMM(scanned_at) ORDER BY (qr_id, scanned_at)
TTL toDateTime(scanned_at) + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000
"""
V1_DAILY = """
CREATE TABLE IF NOT EXISTS $scans_daily (
    qr_id String, day Date,
    scans SimpleAggregateFunction(sum, UInt64),
    visitors AggregateFunction(uniqExact, UInt64),
    by_country SimpleAggregateFunction(sumMap, Map(String, UInt64)),
    by_city SimpleAggregateFunction(sumMap, Map(String, UInt64)),
    by_device SimpleAggregateFunction(sumMap, Map(String, UInt64)),
    by_browser SimpleAggregateFunction(sumMap, Map(String, UInt64)),
    by_os SimpleAggregateFunction(sumMap, Map(String, UInt64))
)
ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(day) ORDER BY (qr_id, day)
TTL day + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000
"""
V1_VIEW = """
CREATE MATERIALIZED VIEW IF NOT EXISTS $scans_daily_view TO $scans_daily AS
SELECT qr_id, toDate(scanned_at) AS day, count() AS scans,
    uniqExactState(cityHash64(visitor)) AS visitors,
    sumMap(map(toString(country), toUInt64(1))) AS by_country,
    sumMap(map(concat(toString(city), '\t', toString(country)), toUInt64(1))) AS by_city,
    sumMap(map(toString(device), toUInt64(1))) AS by_device,
    sumMap(map(toString(browser), toUInt64(1))) AS by_browser,
    sumMap(map(toString(os), toUInt64(1))) AS by_os
FROM $scans WHERE NOT is_bot GROUP BY qr_id, day
"""
V1_INSERT = """
INSERT INTO $scans (scanned_at, qr_id, account_id, short_code, destination, visitor, is_unique,
                    country, city, device, browser, os, referrer_host, is_bot)
VALUES
    ('2026-11-10 08:05:00.000', 'qr-old', 'acct', 'OldCode1', 'https://o.example/', 'v1', 1,
     'DE', 'Berlin', 'mobile', 'Chrome', 'Android', 'news.example', 0),
    ('2026-11-10 08:20:00.000', 'qr-old', 'acct', 'OldCode1', 'https://o.example/', 'v1', 0,
     'DE', 'Berlin', 'mobile', 'Chrome', 'Android', '', 0),
    ('2026-11-11 23:50:00.000', 'qr-old', 'acct', 'OldCode1', 'https://o.example/', 'v2', 1,
     'US', 'New York', 'desktop', 'Firefox', 'Windows', '', 0),
    ('2026-11-11 12:00:00.000', 'qr-old', 'acct', 'OldCode1', 'https://o.example/', 'bot', 1,
     'US', '', 'bot', 'Googlebot', '', '', 1)
"""
WINDOW = (date(2026, 11, 10), date(2026, 11, 12))


@pytest.fixture
def v1_store(store: ScanStore) -> Iterator[ScanStore]:
    """A first-wave schema in its own database, with data in it, on the session's engine."""
    database = f"upgrade_{uuid.uuid4().hex[:8]}"
    other = ScanStore(store.url, list(store._all_readers), store._writer, database)
    other.query(f"CREATE DATABASE `{database}`", {})
    for statement in (V1_SCANS, V1_DAILY, V1_VIEW, V1_INSERT):
        other.query(statement, {})
    yield other
    other.query(f"DROP DATABASE `{database}`", {})
    other._parallel.shutdown()


def _new_row(**overrides: object) -> ScanRow:
    values: dict[str, object] = {
        "scanned_at": datetime(2026, 11, 12, 9, 0, tzinfo=UTC), "qr_id": "qr-old",
        "account_id": "acct", "short_code": "OldCode1", "destination": "https://r.example/",
        "visitor": "v3", "is_unique": True, "country": "FR", "city": "Paris",
        "device": "mobile", "browser": "Safari", "os": "iOS", "referrer_host": "",
        "is_bot": False, "language": "fr-FR", "target": "rule:0", "outcome": "redirected",
    }  # fmt: skip
    values.update(overrides)
    return ScanRow(**values)  # type: ignore[arg-type]


def test_upgrade_keeps_old_scans_and_fills_the_new_breakdowns_once(v1_store: ScanStore) -> None:
    v1_store.migrate()
    v1_store.migrate()  # idempotent: the backfill runs once
    after = fetch_stats(v1_store, "qr-old", *WINDOW)
    assert v1_store.query("SELECT count() FROM $scans", {}) == [(4,)]
    # Everything the first wave showed is unchanged.
    assert (after.total_scans, after.unique_scans, after.repeat_scans) == (3, 2, 1)
    assert after.by_day == ((date(2026, 11, 10), 2, 1), (date(2026, 11, 11), 1, 1))
    assert after.by_city == (("Berlin", "DE", 2), ("New York", "US", 1))
    assert after.by_os == (("Android", 2), ("Windows", 1))
    # The old rows appear in the new breakdowns, once each.
    assert after.bot_scans == 1
    assert after.by_referrer == (("direct", 2), ("news.example", 1))
    assert after.by_target == (("default", 3),)
    assert after.by_outcome == (("redirected", 3),)
    assert after.by_language == (("unknown", 3),)
    assert [(h, n) for h, n in enumerate(after.by_hour) if n] == [(8, 2), (23, 1)]
    # Tuesday the 10th twice, Wednesday the 11th once.
    assert after.by_weekday == (0, 2, 1, 0, 0, 0, 0)


def test_new_rows_after_the_upgrade_add_up(v1_store: ScanStore) -> None:
    v1_store.migrate()
    v1_store.insert(
        [
            _new_row(),
            _new_row(visitor="v4", target="split:1", language="", referrer_host="t.co"),
            _new_row(visitor="v5", outcome="password_page", target=""),
            _new_row(visitor="v6", outcome="gone", target="paused", destination=""),
            _new_row(visitor="b2", is_bot=True, device="bot"),
        ]
    )
    stats = fetch_stats(v1_store, "qr-old", *WINDOW, tz="Asia/Kolkata")
    assert (stats.total_scans, stats.unique_scans, stats.bot_scans) == (5, 4, 2)
    assert stats.by_target == (("default", 3), ("rule:0", 1), ("split:1", 1))
    assert stats.by_outcome == (
        ("redirected", 5), ("gone", 1), ("password_page", 1),
    )  # fmt: skip
    assert stats.by_language == (("unknown", 4), ("fr-FR", 1))
    assert stats.by_referrer == (("direct", 3), ("news.example", 1), ("t.co", 1))
    # In Kolkata (UTC+5:30): 08:05 and 08:20 UTC are 13:35 and 13:50, 23:50 UTC is 05:20 of
    # the next day, 09:00 UTC is 14:30.
    assert [(h, n) for h, n in enumerate(stats.by_hour) if n] == [(5, 1), (13, 2), (14, 2)]
    assert sum(stats.by_weekday) == stats.total_scans
    refused = v1_store.query("SELECT sum(scans) FROM $refusals_daily", {})
    assert refused == [(1,)]
