"""Helpers for the journal and consumer tests: scans, recording sinks, a quick enricher."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.links import LinkTarget
from core.scans import ScanBatch
from redirector.enrich import Enricher
from redirector.journal_format import RawScan
from redirector.ledger import FirstScanLedger, LocalLedger

LINK = LinkTarget("qr_1", "acc_1", "abcdefg", "https://example.com/")


@dataclass(frozen=True)
class FakeAgent:
    device: str = "mobile"
    browser: str = "Chrome"
    os: str = "Android"
    is_bot: bool = False


def enricher(ledger: FirstScanLedger | None = None) -> Enricher:
    return Enricher(
        ledger or LocalLedger(),
        lambda ua: FakeAgent(is_bot="bot" in ua),
        lambda ip: ("DE", "Berlin") if ip == "198.51.100.7" else ("unknown", "unknown"),
    )


def raw_scan(n: int = 0, *, visitor: str | None = None, user_agent: str = "Mozilla/5.0") -> RawScan:
    return RawScan(
        time.time(), LINK, visitor or f"v{n}", "198.51.100.7", user_agent, f"https://r{n}.example/"
    )


@dataclass
class RecordingSink:
    """Keeps every batch committed; fails while `down` is set; can hold commits."""

    batches: list[ScanBatch] = field(default_factory=list)
    down: bool = False
    attempts: int = 0
    gate: asyncio.Event | None = None

    async def commit(self, batch: ScanBatch) -> None:
        self.attempts += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise ConnectionError("sink is down")
        self.batches.append(batch)

    @property
    def referers(self) -> list[str]:
        return [row.referrer_host for batch in self.batches for row in batch.rows]


@dataclass
class RecordingListener:
    batches: list[ScanBatch] = field(default_factory=list)

    def submit(self, batch: ScanBatch) -> None:
        self.batches.append(batch)


async def wait_until(predicate: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)
