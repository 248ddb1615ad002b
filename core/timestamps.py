"""How times are written on every surface: UTC with a `Z`, as CONTRACT.md prints them."""

from __future__ import annotations

from datetime import UTC, datetime


def _utc(moment: datetime) -> datetime:
    # Stores may hand back naive UTC times.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """2026-11-25T18:00:00Z, or with milliseconds when there are any: ...00.123Z."""
    utc = _utc(moment)
    spec = "milliseconds" if utc.microsecond // 1000 else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def iso_millis(moment: datetime) -> str:
    """Always milliseconds (events: 2026-11-25T18:00:00.123Z)."""
    return _utc(moment).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
