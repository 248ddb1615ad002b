from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from analytics.stats import QrStats, ScanCounts, fetch_counts, fetch_stats
from analytics.store import ScanStore
from core.scans import ScanRow

RowFactory = Callable[..., ScanRow]
MS = timedelta(milliseconds=1)
BERLIN_PHONE = {"country": "DE", "city": "Berlin", "device": "mobile"}
UNKNOWNS = {"country": "", "city": "", "device": "", "browser": "", "os": ""}


def _at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def seeded(store: ScanStore, qr_id: str, make_row: RowFactory) -> str:
    """A window 2026-11-10..12 with edges, a gap day, bots, unknowns and a neighbour QR."""
    rows = [
        make_row(qr_id, _at(10) - MS, visitor="a"),  # just before the window
        make_row(qr_id, _at(10), visitor="a", **BERLIN_PHONE),
        make_row(qr_id, _at(10, 10), visitor="a", **BERLIN_PHONE),
        make_row(
            qr_id,
            _at(10, 11),
            visitor="b",
            country="US",
            city="New York",
            device="desktop",
            browser="Firefox",
            os="Windows",
        ),
        make_row(
            qr_id,
            _at(13) - MS,
            visitor="a",
            city="Hamburg",
            device="tablet",
            browser="Safari",
            os="iOS",
        ),
        make_row(qr_id, _at(12, 12), visitor="c", **UNKNOWNS),
        make_row(qr_id, _at(12, 13), visitor="d", device="bot", browser="Googlebot", is_bot=True),
        make_row(qr_id, _at(13), visitor="e"),  # just after the window
        make_row(qr_id + "-other", _at(11), visitor="z"),
    ]
    store.insert(rows)
    return qr_id


def test_stats_for_a_window(store: ScanStore, seeded: str) -> None:
    stats = fetch_stats(store, seeded, date(2026, 11, 10), date(2026, 11, 12))
    assert stats == QrStats(
        total_scans=5,
        unique_scans=3,
        repeat_scans=2,
        by_day=((date(2026, 11, 10), 3, 2), (date(2026, 11, 12), 2, 2)),
        by_country=(("DE", 3), ("US", 1), ("unknown", 1)),
        by_city=(
            ("Berlin", "DE", 2),
            ("Hamburg", "DE", 1),
            ("New York", "US", 1),
            ("unknown", "unknown", 1),
        ),
        by_device=(("mobile", 2), ("desktop", 1), ("tablet", 1), ("unknown", 1)),
        by_browser=(("Chrome", 2), ("Firefox", 1), ("Safari", 1), ("unknown", 1)),
        by_os=(("Android", 2), ("Windows", 1), ("iOS", 1), ("unknown", 1)),
        bot_scans=1,
        by_referrer=(("direct", 5),),
        by_language=(("unknown", 5),),
        by_hour=tuple(1 if hour in (0, 10, 11, 12, 23) else 0 for hour in range(24)),
        by_weekday=(0, 3, 0, 2, 0, 0, 0),  # Tuesday the 10th, Thursday the 12th
        by_target=(("default", 5),),
        by_outcome=(("redirected", 5),),
    )


def test_single_day_window(store: ScanStore, seeded: str) -> None:
    stats = fetch_stats(store, seeded, date(2026, 11, 12), date(2026, 11, 12))
    assert (stats.total_scans, stats.unique_scans, stats.repeat_scans) == (2, 2, 0)
    assert stats.by_day == ((date(2026, 11, 12), 2, 2),)
    assert stats.by_country == (("DE", 1), ("unknown", 1))


def test_unique_visitors_are_counted_over_the_whole_window(store: ScanStore, seeded: str) -> None:
    # "a" scans on both days: unique per day 2 + 2, but 3 distinct over the window.
    stats = fetch_stats(store, seeded, date(2026, 11, 9), date(2026, 11, 13))
    assert (stats.total_scans, stats.unique_scans) == (7, 4)
    assert sum(scans for _, scans, _ in stats.by_day) == stats.total_scans


def test_empty_window(store: ScanStore, seeded: str) -> None:
    stats = fetch_stats(store, seeded, date(2025, 1, 1), date(2025, 1, 31))
    assert stats == QrStats(0, 0, 0, (), (), (), (), (), ())


def test_only_bots_is_empty(store: ScanStore, qr_id: str, make_row: RowFactory) -> None:
    store.insert([make_row(qr_id, is_bot=True, device="bot") for _ in range(3)])
    stats = fetch_stats(store, qr_id, date(2026, 11, 1), date(2026, 11, 30))
    assert stats.total_scans == 0
    assert stats.by_device == ()
    assert fetch_counts(store, qr_id) == ScanCounts(0, 0, None)


def test_counts_are_all_time_without_bots(store: ScanStore, seeded: str) -> None:
    assert fetch_counts(store, seeded) == ScanCounts(7, 4, _at(13))


def test_unknown_qr_has_no_counts(store: ScanStore) -> None:
    assert fetch_counts(store, "no-such-qr") == ScanCounts(0, 0, None)


def test_qr_id_is_a_parameter_not_sql(store: ScanStore, seeded: str) -> None:
    sneaky = f"{seeded}' OR '1'='1"
    assert fetch_counts(store, sneaky) == ScanCounts(0, 0, None)


def test_empty_and_unknown_are_one_key(store: ScanStore, qr_id: str, make_row: RowFactory) -> None:
    store.insert(
        [
            make_row(qr_id, visitor="a", country="", city="", device=""),
            make_row(qr_id, visitor="b", country="unknown", city="unknown", device="unknown"),
        ]
    )
    stats = fetch_stats(store, qr_id, date(2026, 11, 20), date(2026, 11, 20))
    assert stats.by_country == (("unknown", 2),)
    assert stats.by_city == (("unknown", "unknown", 2),)
    assert stats.by_device == (("unknown", 2),)


def test_counts_start_at_the_given_day(store: ScanStore, qr_id: str, make_row: RowFactory) -> None:
    old = datetime(2026, 1, 10, 12, tzinfo=UTC)
    recent = datetime(2026, 11, 20, 12, tzinfo=UTC)
    store.insert([make_row(qr_id, scanned_at=old), make_row(qr_id, scanned_at=recent)])
    assert fetch_counts(store, qr_id).total_scans == 2
    assert fetch_counts(store, qr_id, since=date(2026, 10, 27)).total_scans == 1
