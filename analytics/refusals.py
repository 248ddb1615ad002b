"""Refused and orphan scans, per domain, for the account that owns them (docs/links.md).

Read from the `refusals_daily` rollup: scans of an account's paused, expired, exhausted or
deleted codes (on any of its domains, the base domain included), and scans of unknown codes
on its verified custom domains (reason "unknown"). Bots are left out, as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from analytics.stats import StatsSource

TOP_CODES = 20

_REFUSALS = """
SELECT domain, day, sum(scans), sumMap(by_reason), sumMap(by_code)
FROM $refusals_daily
WHERE account_id = {account_id:String} AND day >= {first:Date} AND day <= {last:Date}
GROUP BY domain, day
"""


@dataclass(frozen=True)
class DomainRefusals:
    domain: str  # "" = the redirect base URL's own domain
    total: int
    by_day: tuple[tuple[date, int], ...]
    by_reason: tuple[tuple[str, int], ...]  # deleted | paused | expired | exhausted | unknown
    by_code: tuple[tuple[str, int], ...]  # the most refused short codes, at most TOP_CODES


def fetch_refusals(
    store: StatsSource, account_id: str, start: date, end: date
) -> tuple[DomainRefusals, ...]:
    """Per domain, most refused first (blocking: run in a worker thread)."""
    rows = store.query(
        _REFUSALS, {"account_id": account_id, "first": start.isoformat(), "last": end.isoformat()}
    )
    days: dict[str, list[tuple[date, int]]] = {}
    reasons: dict[str, dict[str, int]] = {}
    codes: dict[str, dict[str, int]] = {}
    for domain, day, scans, by_reason, by_code in rows:
        days.setdefault(domain, []).append((day, int(scans)))
        _add(reasons.setdefault(domain, {}), by_reason)
        _add(codes.setdefault(domain, {}), by_code)
    found = [
        DomainRefusals(
            domain=domain,
            total=sum(scans for _, scans in days[domain]),
            by_day=tuple(sorted(days[domain])),
            by_reason=_ranked(reasons[domain]),
            by_code=_ranked(codes[domain])[:TOP_CODES],
        )
        for domain in days
    ]
    return tuple(sorted(found, key=lambda item: (-item.total, item.domain)))


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for key, value in counts.items():
        into[key] = into.get(key, 0) + int(value)


def _ranked(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(((k, v) for k, v in counts.items() if v), key=lambda i: (-i[1], i[0])))
