"""Enrichment (user agent, place, first-scan flag), the ledgers, and the live publisher."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis

from core.bus import OVERFLOW, LocalBus
from core.live import LiveScanPublisher
from core.scans import ScanBatch, ScanRow
from core.timestamps import iso_millis
from redirector.enrich import Enricher, referrer_host, utc_millis
from redirector.journal_format import ScanFacts
from redirector.ledger import LocalLedger, RedisLedger
from tests.support import redis_url

from .journal_support import FakeAgent, enricher

WHEN = datetime(2026, 11, 25, 18, 0, 0, 123000, tzinfo=UTC)


def facts(visitor: str = "v1", ip: str = "198.51.100.7", referer: str = "") -> ScanFacts:
    return ScanFacts(
        WHEN.timestamp(), "qr_1", "acc_1", "abcdefg", "https://example.com/", visitor, ip,
        "Mozilla/5.0 test", referer, "de", "go.example", "default", "redirected",
    )  # fmt: skip


async def test_rows_carry_the_enriched_facts_and_never_the_ip() -> None:
    scans = [facts(referer="https://News.Example.org:8443/a/b?q=1#x"), facts(), facts("v2", "1")]
    rows = await enricher().rows(scans, ["k1", "k2", "k3"])
    row = rows[0]
    assert (row.qr_id, row.account_id, row.short_code) == ("qr_1", "acc_1", "abcdefg")
    assert (row.destination, row.visitor, row.scanned_at) == ("https://example.com/", "v1", WHEN)
    assert (row.country, row.city, row.device, row.browser, row.os) == (
        "DE", "Berlin", "mobile", "Chrome", "Android",
    )  # fmt: skip
    assert row.referrer_host == "news.example.org"
    assert not row.is_bot
    assert [r.is_unique for r in rows] == [True, False, True]
    assert rows[2].country == "unknown"
    assert "198.51.100.7" not in repr(rows)
    assert "198.51.100.7" not in repr(scans)


async def test_enrichment_failures_become_unknown() -> None:
    def broken(_: str) -> FakeAgent:
        raise ValueError("bad ua")

    def no_geo(_: str) -> tuple[str, str]:
        raise OSError("no db")

    [row] = await Enricher(LocalLedger(), broken, no_geo).rows([facts()], ["k"])
    assert (row.country, row.city, row.device, row.browser, row.os) == ("unknown",) * 5


async def test_a_failing_ledger_makes_repeats_not_losses() -> None:
    class Broken:
        async def first_scans(self, sightings: Any) -> list[bool]:
            raise ConnectionError("down")

    rows = await enricher(Broken()).rows([facts(), facts()], ["a", "b"])  # type: ignore[arg-type]
    assert [r.is_unique for r in rows] == [False, False]


@pytest.mark.parametrize(
    ("referer", "host"),
    [("", ""), ("not a url", ""), ("https://a.example/x", "a.example"), ("http://[::1", "")],
)
def test_referrer_host(referer: str, host: str) -> None:
    assert referrer_host(referer) == host


async def test_local_ledger_is_bounded_and_answers_a_replay_the_same() -> None:
    ledger = LocalLedger(max_entries=2)
    assert await ledger.first_scans([("q", "a", "1"), ("q", "b", "2"), ("q", "a", "3")]) == [
        True, True, False,
    ]  # fmt: skip
    assert await ledger.first_scans([("q", "a", "1"), ("q", "a", "3")]) == [True, False]
    await ledger.first_scans([("q", "c", "4")])  # evicts the least recent: "b"
    assert await ledger.first_scans([("q", "b", "5"), ("q", "c", "6")]) == [True, False]


@pytest.mark.redis
async def test_redis_ledger_is_shared_expires_and_answers_a_replay_the_same() -> None:
    client = aioredis.from_url(redis_url(12), decode_responses=True)
    await client.flushdb()
    try:
        one, two = RedisLedger(client), RedisLedger(client)
        assert await one.first_scans([("qr1", "v1", "k1"), ("qr1", "v1", "k2")]) == [True, False]
        assert await two.first_scans([("qr1", "v1", "k3"), ("qr2", "v1", "k4")]) == [False, True]
        assert await two.first_scans([("qr1", "v1", "k1")]) == [True]  # k1 was the first
        assert 364 * 86400 < await client.ttl("qrmint:seen:qr1:v1") <= 365 * 86400
    finally:
        await client.flushdb()
        await client.aclose()


async def test_redis_ledger_falls_back_when_redis_is_down() -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        sightings = [("q", "v", "1"), ("q", "v", "2")]
        assert await RedisLedger(dead).first_scans(sightings) == [True, False]
    finally:
        await dead.aclose()


def _row(is_unique: bool, qr_id: str = "qr_9") -> ScanRow:
    return ScanRow(
        WHEN, qr_id, "acc", "abcdefg", "https://x/", "v", is_unique, "DE", "Berlin",
        "bot", "Googlebot", "unknown", "", True,
    )  # fmt: skip


def _batch(*rows: ScanRow, replayed: bool = False) -> ScanBatch:
    return ScanBatch("t", rows, [str(n) for n in range(len(rows))], replayed)


async def test_live_publisher_announces_each_scan() -> None:
    bus = LocalBus()
    live = LiveScanPublisher(bus)
    await live.start()
    async with bus.subscribe("scans:qr_9") as events:
        live.submit(_batch(_row(True), _row(False)))
        await live.aclose()
        received = [await anext(events), await anext(events)]
    assert received == [
        {"qr_id": "qr_9", "scanned_at": "2026-11-25T18:00:00.123Z", "is_unique": u, "is_bot": True}
        for u in (True, False)
    ]


def _is_overflow(event: Any) -> bool:
    return event is OVERFLOW or event == {"overflow": True}


async def test_dropped_and_replayed_events_become_overflow_markers() -> None:
    bus = LocalBus()
    live = LiveScanPublisher(bus, max_batches=1)
    async with bus.subscribe("scans:qr_a") as a, bus.subscribe("scans:qr_b") as b:
        live.submit(_batch(_row(True, "qr_b")))
        live.submit(_batch(_row(True, "qr_a")))  # not started, queue full: dropped
        await live.start()
        await asyncio.sleep(0.05)
        live.submit(_batch(_row(True, "qr_b"), replayed=True))
        await live.aclose()
        assert live.dropped == 1
        assert _is_overflow(await anext(a))  # its event was dropped: re-read the totals
        assert (await anext(b))["qr_id"] == "qr_b"
        assert _is_overflow(await anext(b))  # a replayed batch: re-read, never count twice


async def test_live_publisher_survives_a_failing_bus() -> None:
    class DeadBus(LocalBus):
        async def publish_many(self, messages: Any) -> None:
            raise ConnectionError("redis down")

    live = LiveScanPublisher(DeadBus(), max_batches=1)
    await live.start()
    live.submit(_batch(_row(True)))
    await asyncio.sleep(0)
    live.submit(_batch(_row(True)))
    await live.aclose()


def test_utc_millis() -> None:
    assert utc_millis(WHEN.timestamp()) == WHEN
    assert utc_millis(1764093600.1239) == datetime(2025, 11, 25, 18, 0, 0, 123000, tzinfo=UTC)
    for millis in range(0, 1000, 7):  # every millisecond comes back exactly
        moment = utc_millis(1764093600 + millis / 1000)
        assert moment.microsecond == millis * 1000


def test_iso_millis() -> None:
    assert iso_millis(datetime(2026, 1, 2, 3, 4, 5, 6789, tzinfo=UTC)) == "2026-01-02T03:04:05.006Z"
    assert iso_millis(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"
