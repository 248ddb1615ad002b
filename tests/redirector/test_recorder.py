"""The scan recorder, the first-scan ledgers and the live scan publisher."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis

from core.bus import LocalBus
from core.links import LinkTarget
from core.live import LiveScanPublisher
from core.scans import ScanRow
from core.timestamps import iso_millis
from redirector.ledger import LocalLedger, RedisLedger
from redirector.recorder import RawScan, ScanRecorder, referrer_host, utc_millis
from tests.support import redis_url

TARGET = LinkTarget("qr_1", "acc_1", "abcdefg", "https://example.com/")
WHEN = datetime(2026, 11, 25, 18, 0, 0, 123000, tzinfo=UTC)


@dataclass(frozen=True)
class FakeAgent:
    device: str = "mobile"
    browser: str = "Chrome"
    os: str = "Android"
    is_bot: bool = False


@dataclass
class Listener:
    rows: list[ScanRow] = field(default_factory=list)

    def submit(self, row: ScanRow) -> None:
        self.rows.append(row)


class Exploding:
    def submit(self, row: ScanRow) -> None:
        raise RuntimeError("listener down")


def scan(visitor: str = "v1", ip: str = "198.51.100.7", referer: str = "") -> RawScan:
    return RawScan(WHEN.timestamp(), TARGET, visitor, ip, "Mozilla/5.0 test", referer)


def recorder(*listeners, **options) -> ScanRecorder:
    return ScanRecorder(
        listeners,
        LocalLedger(),
        lambda ua: FakeAgent(),
        lambda ip: ("DE", "Berlin") if ip == "198.51.100.7" else ("unknown", "unknown"),
        **options,
    )


async def test_rows_reach_every_listener_even_past_a_failing_one() -> None:
    first, last = Listener(), Listener()
    rec = recorder(first, Exploding(), last)
    await rec.start()
    rec.record(scan(referer="https://News.Example.org:8443/a/b?q=1#x"))
    rec.record(scan())
    rec.record(scan(visitor="v2", ip="203.0.113.1"))
    await rec.aclose()
    assert first.rows == last.rows
    assert len(first.rows) == 3
    row = first.rows[0]
    assert (row.qr_id, row.account_id, row.short_code) == ("qr_1", "acc_1", "abcdefg")
    assert (row.destination, row.visitor, row.scanned_at) == (TARGET.destination, "v1", WHEN)
    assert (row.country, row.city, row.device, row.browser, row.os) == (
        "DE",
        "Berlin",
        "mobile",
        "Chrome",
        "Android",
    )
    assert row.referrer_host == "news.example.org"
    assert not row.is_bot
    assert [r.is_unique for r in first.rows] == [True, False, True]
    assert first.rows[2].country == "unknown"
    assert "198.51.100.7" not in repr(first.rows)
    assert "198.51.100.7" not in repr(scan())


async def test_aclose_drains_everything_queued() -> None:
    listener = Listener()
    rec = recorder(listener, batch_size=7)
    await rec.start()
    for n in range(500):
        rec.record(scan(visitor=f"v{n}"))
    await rec.aclose()
    assert len(listener.rows) == 500
    assert rec.dropped == 0


async def test_a_full_queue_drops_instead_of_blocking() -> None:
    listener = Listener()
    rec = recorder(listener, max_queue=10)
    for n in range(15):  # not started: nothing consumes
        rec.record(scan(visitor=f"v{n}"))
    assert rec.dropped == 5
    await rec.start()
    await rec.aclose()
    assert len(listener.rows) == 10


async def test_enrichment_failures_become_unknown() -> None:
    def broken(_: str) -> FakeAgent:
        raise ValueError("bad ua")

    def no_geo(_: str) -> tuple[str, str]:
        raise OSError("no db")

    listener = Listener()
    rec = ScanRecorder([listener], LocalLedger(), broken, no_geo)
    await rec.start()
    rec.record(scan())
    await rec.aclose()
    row = listener.rows[0]
    assert (row.country, row.city, row.device, row.browser, row.os) == ("unknown",) * 5


@pytest.mark.parametrize(
    ("referer", "host"),
    [("", ""), ("not a url", ""), ("https://a.example/x", "a.example"), ("http://[::1", "")],
)
def test_referrer_host(referer: str, host: str) -> None:
    assert referrer_host(referer) == host


async def test_local_ledger_is_bounded() -> None:
    ledger = LocalLedger(max_entries=2)
    assert await ledger.first_scans([("q", "a"), ("q", "b"), ("q", "a")]) == [True, True, False]
    await ledger.first_scans([("q", "c")])  # evicts the least recent: "b"
    assert await ledger.first_scans([("q", "b"), ("q", "c")]) == [True, False]


@pytest.mark.redis
async def test_redis_ledger_is_shared_and_expires() -> None:
    client = aioredis.from_url(redis_url(12), decode_responses=True)
    await client.flushdb()
    try:
        one, two = RedisLedger(client), RedisLedger(client)
        assert await one.first_scans([("qr1", "v1"), ("qr1", "v1")]) == [True, False]
        assert await two.first_scans([("qr1", "v1"), ("qr2", "v1")]) == [False, True]
        assert 364 * 86400 < await client.ttl("qrmint:seen:qr1:v1") <= 365 * 86400
    finally:
        await client.flushdb()
        await client.aclose()


async def test_redis_ledger_falls_back_when_redis_is_down() -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        assert await RedisLedger(dead).first_scans([("q", "v"), ("q", "v")]) == [True, False]
    finally:
        await dead.aclose()


def _row(is_unique: bool) -> ScanRow:
    return ScanRow(
        WHEN, "qr_9", "acc", "abcdefg", "https://x/", "v", is_unique, "DE", "Berlin",
        "bot", "Googlebot", "unknown", "", True,
    )  # fmt: skip


async def test_live_publisher_announces_each_scan() -> None:
    bus = LocalBus()
    live = LiveScanPublisher(bus)
    await live.start()
    async with bus.subscribe("scans:qr_9") as events:
        live.submit(_row(True))
        live.submit(_row(False))
        await live.aclose()
        received = [await anext(events), await anext(events)]
    assert received == [
        {"qr_id": "qr_9", "scanned_at": "2026-11-25T18:00:00.123Z", "is_unique": u, "is_bot": True}
        for u in (True, False)
    ]


async def test_live_publisher_survives_a_failing_bus() -> None:
    class DeadBus(LocalBus):
        async def publish(self, channel: str, message: dict[str, Any]) -> None:
            raise ConnectionError("redis down")

    live = LiveScanPublisher(DeadBus(), max_queue=1)
    await live.start()
    live.submit(_row(True))
    await asyncio.sleep(0)
    live.submit(_row(True))
    await live.aclose()


def test_utc_millis() -> None:
    assert utc_millis(WHEN.timestamp()) == WHEN
    assert utc_millis(1764093600.1239) == datetime(2025, 11, 25, 18, 0, 0, 123000, tzinfo=UTC)


def test_iso_millis() -> None:
    assert iso_millis(datetime(2026, 1, 2, 3, 4, 5, 6789, tzinfo=UTC)) == "2026-01-02T03:04:05.006Z"
    assert iso_millis(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"
