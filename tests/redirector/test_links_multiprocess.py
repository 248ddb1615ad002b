"""Two real redirector processes sharing the database and Redis: max_scans stays exact under
concurrent scans on both, wrong passwords count across both, and every change to a link
is seen by the next scan on each of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from core.bus import RedisBus
from core.links import LINK_COLUMNS, LinkDirectory, LinkTarget, entry_of
from core.models import Account, QrCode, ScanCounter, new_id
from core.passwords import hash_password
from redirector.counters import KEY_PREFIX
from tests.redirector.test_multiprocess import (  # noqa: F401  (fixtures used below)
    REDIS_URL,
    database_url,
    processes,
    shared,
)

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def redirectors(processes: list[str]) -> list[str]:  # noqa: F811  (the imported fixture)
    """Base URLs of two `qrmint redirector`-like processes (test_multiprocess.py starts them)."""
    return processes


@pytest.fixture
async def directory() -> AsyncIterator[LinkDirectory]:
    client = aioredis.from_url(REDIS_URL, decode_responses=True)
    bus = RedisBus(aioredis.from_url(REDIS_URL, decode_responses=True))
    try:
        yield LinkDirectory(client, bus)
    finally:
        await bus.close()
        await client.aclose()


async def _link(code: str, **options: Any) -> LinkTarget:
    account = await Account.create(id=new_id("acc"), tier="mega")
    qr = await QrCode.create(
        id=new_id("qr"), account=account, type="dynamic", data=f"x/{code}", short_code=code,
        destination="https://d.example/", format="png", size=128, margin=4,
        error_correction="M", **options,
    )  # fmt: skip
    return await _entry(qr.id)


async def _entry(qr_id: str) -> LinkTarget:
    return await entry_of(await QrCode.get(id=qr_id).values(*LINK_COLUMNS))


async def test_max_scans_is_exact_across_processes(
    redirectors: list[str], directory: LinkDirectory
) -> None:
    target = await _link("limited01", max_scans=20)
    await directory.publish_change(target)
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as client:
        answers = await asyncio.gather(
            *(client.get(f"{redirectors[n % 2]}/limited01") for n in range(60))
        )
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(302) == 20
    assert statuses.count(410) == 40
    counter = aioredis.from_url(REDIS_URL, decode_responses=True)
    try:
        assert await counter.get(KEY_PREFIX + target.qr_id) == "20"
    finally:
        await counter.aclose()
    for _ in range(200):  # written behind, about once a second
        stored = await ScanCounter.get_or_none(qr_id=target.qr_id)
        if stored is not None and stored.taken == 20:
            break
        await asyncio.sleep(0.05)
    assert stored is not None
    assert stored.taken == 20


async def test_a_lost_counter_resumes_from_the_stored_count(
    redirectors: list[str], directory: LinkDirectory
) -> None:
    target = await _link("limited02", max_scans=5)
    await ScanCounter.create(qr_id=target.qr_id, taken=4)  # as written behind before
    await directory.publish_change(await _entry(target.qr_id))
    async with httpx.AsyncClient(follow_redirects=False) as client:
        first = await client.get(f"{redirectors[0]}/limited02")
        second = await client.get(f"{redirectors[1]}/limited02")
    assert (first.status_code, second.status_code) == (302, 410)


async def test_changes_reach_the_next_scan_on_every_process(
    redirectors: list[str], directory: LinkDirectory
) -> None:
    target = await _link("changing1")
    async with httpx.AsyncClient(follow_redirects=False) as client:

        async def statuses() -> list[tuple[int, str | None]]:
            answers = [await client.get(f"{base}/changing1") for base in redirectors]
            return [(a.status_code, a.headers.get("location")) for a in answers]

        steps: list[tuple[dict[str, Any], tuple[int, str | None]]] = [
            ({"paused": True}, (410, None)),
            ({"paused": False}, (302, "https://d.example/")),
            ({"rules": [{"if": {"device": ["unknown"]}, "destination": "https://r.example/"}]},
             (302, "https://r.example/")),
            ({"utm": {"source": "qr"}}, (302, "https://r.example/?utm_source=qr")),
            ({"deleted_at": "now"}, (410, None)),
        ]  # fmt: skip
        for change, expected in steps:
            for _ in range(2):  # warm both caches with the current answer
                await statuses()
            if change.get("deleted_at") == "now":
                change = {"deleted_at": await _now()}
            await QrCode.filter(id=target.qr_id).update(**change, updated_at=await _now())
            await directory.publish_change(await _entry(target.qr_id))
            assert await statuses() == [expected, expected], change


async def test_wrong_passwords_count_across_processes(
    redirectors: list[str], directory: LinkDirectory
) -> None:
    target = await _link("guarded01", password_hash=hash_password("right one"))
    await directory.publish_change(target)
    async with httpx.AsyncClient(follow_redirects=False) as client:
        for n in range(10):
            wrong = await client.post(f"{redirectors[n % 2]}/guarded01", data={"password": "x"})
            assert wrong.status_code == 403
        for base in redirectors:
            locked = await client.post(f"{base}/guarded01", data={"password": "right one"})
            assert locked.status_code == 429


async def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
