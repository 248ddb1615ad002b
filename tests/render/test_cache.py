"""render_cached: identical bytes on a hit, bounded by entries and by bytes."""

from __future__ import annotations

import threading

from render import RenderCache, parse_request, render, render_cached
from tests.render.helpers import URL


def test_hit_returns_identical_bytes() -> None:
    request = parse_request(URL, "png", 300, 4, "M", {"dots": {"shape": "rounded"}})
    first = render_cached(request)
    same = parse_request(URL, "png", 300, 4, "M", {"dots": {"shape": "rounded"}})
    assert render_cached(same) is first
    assert first.content == render(request).content


def test_bounded_by_entries() -> None:
    cache = RenderCache(max_entries=2, max_bytes=10**9)
    requests = [parse_request(f"item {i}", "svg", 200) for i in range(3)]
    for request in requests:
        cache.get(request)
    cache.get(requests[0])  # evicted: a miss
    info = cache.info()
    assert (info.entries, info.hits, info.misses) == (2, 0, 4)


def test_bounded_by_bytes_and_lru_order() -> None:
    requests = [parse_request(f"item {i}", "png", 400) for i in range(3)]
    one = len(render(requests[0]).content)
    cache = RenderCache(max_entries=100, max_bytes=one * 2 + one // 2)
    cache.get(requests[0])
    cache.get(requests[1])
    cache.get(requests[0])  # now most recent
    cache.get(requests[2])  # evicts requests[1]
    assert cache.info().bytes <= one * 2 + one // 2
    cache.get(requests[0])
    assert cache.info().hits == 2
    oversized = RenderCache(max_bytes=10)
    oversized.get(requests[0])
    assert oversized.info().entries == 0


def test_thread_safe_under_concurrency() -> None:
    cache = RenderCache(max_entries=4)
    requests = [parse_request(f"t{i % 6}", "svg", 200) for i in range(60)]
    threads = [threading.Thread(target=cache.get, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    info = cache.info()
    assert info.entries <= 4
    assert info.hits + info.misses == 60
