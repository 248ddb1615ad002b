"""Scan recording, off the response path.

The request handler only captures raw facts (`RawScan`: a clock reading, the target,
visitor, IP, user agent and referer) and drops them on a bounded queue, which never
blocks: when the queue is full the scan is counted in `dropped` and logged, because a
stalled analytics store must never slow down redirects. One background task takes
batches off the queue, enriches them (user agent parsed with a cache, country/city
looked up by IP; the IP goes no further), asks the first-scan ledger, builds
`ScanRow`s and hands each to every listener. `aclose` drains the queue before it
returns, so a graceful shutdown loses nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple, Protocol
from urllib.parse import urlsplit

from core.links import LinkTarget
from core.queues import DroppingQueue, drain_then_cancel
from core.routing import primary_language
from core.scans import ScanListener, ScanRow
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


class RawScan(NamedTuple):
    """What the request handler knows. A tuple, because it is built on every redirect."""

    at: float  # time.time(); turned into a datetime off the response path
    target: LinkTarget
    visitor: str
    client_ip: str  # in memory only, until the geo lookup
    user_agent: str
    referer: str
    accept_language: str = ""
    route: str = "default"  # what served it (core.routing.Decision.target)
    outcome: str = "redirected"  # core.routing: redirected | password_page | gone | not_found

    def __repr__(self) -> str:  # never shows the IP
        return f"RawScan(at={self.at!r}, target={self.target!r}, visitor={self.visitor!r})"


class ScanRecorder:
    def __init__(
        self,
        listeners: Sequence[ScanListener],
        ledger: FirstScanLedger,
        agent_parser: AgentParser,
        geo_locator: GeoLocate,
        *,
        max_queue: int = 10_000,
        batch_size: int = 64,
        agent_cache_size: int = 4096,
    ) -> None:
        self._listeners = tuple(listeners)
        self._ledger = ledger
        self._parse_agent = functools.lru_cache(maxsize=agent_cache_size)(agent_parser)
        self._locate = geo_locator
        self._pending: DroppingQueue[RawScan] = DroppingQueue("scan queue", max_queue, log)
        self._queue = self._pending.queue
        self._batch_size = batch_size
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.recorded = 0

    @property
    def dropped(self) -> int:
        return self._pending.dropped

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scan-recorder")

    def record(self, scan: RawScan) -> None:
        """Called by the request handler: never blocks, never raises."""
        if self._closing:
            self._pending.drop()
            return
        self._pending.put(scan)

    async def aclose(self) -> None:
        """Wait until every queued scan reached the listeners, then stop."""
        self._closing = True
        await drain_then_cancel(self._queue, self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._process(batch)
            except Exception:
                log.exception("scan recorder: a batch of %d scans failed", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()
            # queue.get() does not yield while items are waiting: without this, a backlog
            # would be worked off in one go and stall every request behind it.
            await asyncio.sleep(0)

    async def _process(self, batch: list[RawScan]) -> None:
        try:
            firsts = await self._ledger.first_scans([(s.target.qr_id, s.visitor) for s in batch])
        except Exception:
            # The scans matter more than their first-scan flag: record them as repeats.
            log.exception("first-scan ledger failed for %d scans", len(batch))
            firsts = [False] * len(batch)
        for scan, is_unique in zip(batch, firsts, strict=True):
            try:
                self._deliver(self._row(scan, is_unique))
            except Exception:
                log.exception("scan recorder: one scan of %s could not be built", scan.target.qr_id)

    def _row(self, scan: RawScan, is_unique: bool) -> ScanRow:
        country, city = self._place(scan.client_ip)
        agent = self._agent(scan.user_agent)
        target = scan.target
        return ScanRow(
            scanned_at=utc_millis(scan.at),
            qr_id=target.qr_id,
            account_id=target.account_id,
            short_code=target.short_code,
            destination=target.destination,
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
            target=scan.route,
            outcome=scan.outcome,
            domain=target.domain,
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

    def _deliver(self, row: ScanRow) -> None:
        self.recorded += 1
        for listener in self._listeners:
            try:
                listener.submit(row)
            except Exception:
                log.exception("scan listener %r failed", listener)


def utc_millis(timestamp: float) -> datetime:
    millis = int(timestamp * 1000)
    return datetime.fromtimestamp(millis // 1000, UTC).replace(microsecond=millis % 1000 * 1000)


def referrer_host(referer: str) -> str:
    if not referer:
        return ""
    try:
        host = urlsplit(referer).hostname
    except ValueError:
        return ""
    return (host or "").lower()
