from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics.geo import GeoLocator


@pytest.fixture
def locator(geoip_db: Path) -> Iterator[GeoLocator]:
    geo = GeoLocator(geoip_db)
    yield geo
    geo.close()


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.7", ("DE", "Berlin")),
        ("198.51.100.200", ("US", "New York")),
        ("2001:db8::1", ("FR", "unknown")),
        ("192.0.2.1", ("unknown", "unknown")),
        ("not-an-ip", ("unknown", "unknown")),
        ("", ("unknown", "unknown")),
        ("999.1.1.1", ("unknown", "unknown")),
    ],
)
def test_locate(locator: GeoLocator, ip: str, expected: tuple[str, str]) -> None:
    assert locator.locate(ip) == expected


def test_without_database_everything_is_unknown() -> None:
    assert GeoLocator(None).locate("203.0.113.7") == ("unknown", "unknown")


def test_closed_locator_answers_unknown(geoip_db: Path) -> None:
    geo = GeoLocator(geoip_db)
    geo.close()
    assert geo.locate("203.0.113.7") == ("unknown", "unknown")
