"""The render bound: work leaves the loop, at most N run, a bounded queue, then 503."""

from __future__ import annotations

import threading

import anyio
import pytest

from core.errors import Unavailable
from core.render_slots import RenderSlots, default_concurrency


def test_the_default_follows_the_cpu_count() -> None:
    assert default_concurrency() >= 2


async def test_work_runs_in_a_thread_and_returns() -> None:
    slots = RenderSlots(2)
    loop_thread = threading.get_ident()
    assert await slots.run(threading.get_ident) != loop_thread
    assert slots.admitted == 0


async def test_at_most_n_run_and_the_rest_wait_then_beyond_the_queue_is_503() -> None:
    slots = RenderSlots(2, waiting_per_slot=1)  # 2 running + 2 waiting
    release = threading.Event()
    running: list[int] = []
    lock = threading.Lock()
    peak = 0

    def work() -> None:
        nonlocal peak
        with lock:
            running.append(1)
            peak = max(peak, len(running))
        release.wait(10)
        with lock:
            running.pop()

    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(slots.run, work)
        with anyio.fail_after(10):
            while slots.admitted < 4:  # noqa: ASYNC110 (a counter, not an event)
                await anyio.sleep(0.01)
        with pytest.raises(Unavailable) as refused:
            await slots.run(work)
        assert refused.value.headers["Retry-After"] == "1"
        assert refused.value.status == 503
        release.set()
    assert peak == 2
    assert slots.admitted == 0


async def test_a_bulk_is_admitted_once_and_its_items_queue_for_threads() -> None:
    slots = RenderSlots(2, waiting_per_slot=0)  # room for exactly 2 admitted requests
    async with slots.admission():
        results: list[int] = []
        async with anyio.create_task_group() as group:
            for index in range(10):  # 10 items of one bulk: never refused
                group.start_soon(_collect, slots, results, index)
        assert sorted(results) == list(range(10))
        assert slots.admitted == 1


async def _collect(slots: RenderSlots, results: list[int], index: int) -> None:
    results.append(await slots.run(lambda: index))  # type: ignore[misc]


async def test_an_error_in_the_work_frees_the_slot() -> None:
    slots = RenderSlots(1, waiting_per_slot=0)

    def boom() -> None:
        raise ValueError("bad")

    for _ in range(3):
        with pytest.raises(ValueError, match="bad"):
            await slots.run(boom)
    assert slots.admitted == 0
