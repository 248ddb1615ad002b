"""From raw scan facts to `ScanRow`s: user agent parsed (with a cache), country and city
looked up by IP (the IP goes no further), first-scan flag from the ledger.

Run by the journal consumer off the response path, in batches. Every step is
deterministic for a given journal record (the ledger remembers which scan was first), so
a batch replayed after a crash gets the same rows. An enrichment failure makes a field
"unknown"; it never loses the scan.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

from core.routing import primary_language
from core.scans import ScanRow
from redirector.journal_format import ScanFacts
from redirector.ledger import FirstScanLedger

log = logging.getLogger(__name__)

UNKNOWN = "unknown"


class Agent(Protocol):
    @property
    def device(self) -> str: ...
    @property
    def browser(self) -> str: ...
    @property
    def os(self) -> str: ...
    @property
    def is_bot(self) -> bool: ...


AgentParser = Callable[[str], Agent]
GeoLocate = Callable[[str], tuple[str, str]]  # ip -> (country, city)


class Enricher:
    def __init__(
        self,
        ledger: FirstScanLedger,
        agent_parser: AgentParser,
        geo_locator: GeoLocate,
        *,
        agent_cache_size: int = 4096,
    ) -> None:
        self._ledger = ledger
        self._parse_agent = functools.lru_cache(maxsize=agent_cache_size)(agent_parser)
        self._locate = geo_locator

    async def rows(self, facts: Sequence[ScanFacts], keys: Sequence[str]) -> list[ScanRow]:
        """One row per scan, in order; `keys` are the scans' journal keys."""
        sightings = [(f.qr_id, f.visitor, key) for f, key in zip(facts, keys, strict=True)]
        try:
            firsts = await self._ledger.first_scans(sightings)
        except Exception:
            # The scans matter more than their first-scan flag: record them as repeats.
            log.exception("first-scan ledger failed for %d scans", len(facts))
            firsts = [False] * len(facts)
        return [self.row(scan, first) for scan, first in zip(facts, firsts, strict=True)]

    def row(self, scan: ScanFacts, is_unique: bool) -> ScanRow:
        country, city = self._place(scan.client_ip)
        agent = self._agent(scan.user_agent)
        return ScanRow(
            scanned_at=utc_millis(scan.at),
            qr_id=scan.qr_id,
            account_id=scan.account_id,
            short_code=scan.short_code,
            destination=scan.destination,
            visitor=scan.visitor,
            is_unique=is_unique,
            country=country or UNKNOWN,
            city=city or UNKNOWN,
            device=agent.device if agent else UNKNOWN,
            browser=agent.browser if agent else UNKNOWN,
            os=agent.os if agent else UNKNOWN,
            referrer_host=referrer_host(scan.referer),
            is_bot=agent.is_bot if agent else False,
            language=primary_language(scan.accept_language),
            target=scan.target,
            outcome=scan.outcome,
            domain=scan.host,  # the link's custom domain as the handler resolved it
        )

    def _place(self, ip: str) -> tuple[str, str]:
        if not ip:
            return UNKNOWN, UNKNOWN
        try:
            return self._locate(ip)
        except Exception:
            log.exception("geo lookup failed")
            return UNKNOWN, UNKNOWN

    def _agent(self, user_agent: str) -> Agent | None:
        try:
            return self._parse_agent(user_agent)
        except Exception:
            log.exception("user agent parsing failed")
            return None


def utc_millis(timestamp: float) -> datetime:
    # A whole number of milliseconds divided by 1000 is within 0.5 µs of itself as a float,
    # and fromtimestamp rounds to the microsecond: exact milliseconds come back.
    return datetime.fromtimestamp(int(timestamp * 1000) / 1000, UTC)


def referrer_host(referer: str) -> str:
    if not referer:
        return ""
    try:
        host = urlsplit(referer).hostname
    except ValueError:
        return ""
    return (host or "").lower()
