"""Client IP → (country ISO code, city name) from a MaxMind-format City database.

Without a database, or for an address it does not know, both are "unknown". Lookups
never raise: a scan is recorded whatever its IP looks like.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import maxminddb

log = logging.getLogger(__name__)

UNKNOWN = "unknown"
Location = tuple[str, str]
_NOWHERE: Location = (UNKNOWN, UNKNOWN)


class GeoLocator:
    def __init__(self, path: Path | None) -> None:
        self._reader: Any = None
        if path is not None:
            # Memory-mapped: the OS shares the pages between processes and loads them lazily.
            self._reader = maxminddb.open_database(str(path), maxminddb.MODE_AUTO)

    def locate(self, ip: str) -> Location:
        if self._reader is None:
            return _NOWHERE
        try:
            record = self._reader.get(ip.strip())
        except Exception:  # malformed address, or a database gone bad under us
            return _NOWHERE
        return _location(record) if isinstance(record, dict) else _NOWHERE

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def _location(record: dict[str, Any]) -> Location:
    country = _get(record, "country", "iso_code") or _get(record, "registered_country", "iso_code")
    city = _get(record, "city", "names", "en")
    return (str(country) if country else UNKNOWN, str(city) if city else UNKNOWN)


def _get(record: dict[str, Any], *keys: str) -> object:
    value: object = record
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
