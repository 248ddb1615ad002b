"""Stats windows clamp to the tier's retention."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import Invalid, NotInTier
from core.tiers import load_tiers
from core.windows import stats_window

TIERS = load_tiers()
TODAY = date(2026, 11, 25)


def test_default_is_the_whole_retention() -> None:
    window = stats_window(TIERS["pro"], TODAY, None, None)
    assert (window.start, window.end, window.retention_days) == (date(2026, 10, 27), TODAY, 30)


def test_clamped_to_retention_and_today() -> None:
    window = stats_window(TIERS["pro"], TODAY, date(2026, 1, 1), date(2027, 1, 1))
    assert (window.start, window.end) == (date(2026, 10, 27), TODAY)


def test_inside_window_kept() -> None:
    window = stats_window(TIERS["ultra"], TODAY, date(2026, 11, 1), date(2026, 11, 2))
    assert (window.start, window.end) == (date(2026, 11, 1), date(2026, 11, 2))
    assert not window.empty


def test_basic_has_no_analytics() -> None:
    with pytest.raises(NotInTier) as caught:
        stats_window(TIERS["basic"], TODAY, None, None)
    assert caught.value.code == "analytics_not_in_tier"


def test_reversed_window_is_invalid() -> None:
    with pytest.raises(Invalid):
        stats_window(TIERS["mega"], TODAY, date(2026, 11, 5), date(2026, 11, 1))


def test_window_before_retention_is_empty_edge() -> None:
    window = stats_window(TIERS["pro"], TODAY, date(2025, 1, 1), date(2025, 2, 1))
    assert window.start == window.end == date(2026, 10, 27)
    assert window.empty
