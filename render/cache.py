"""A bounded LRU of rendered images, keyed on the frozen request.

Bounded both by entry count and by total image bytes, so a burst of 4096 px codes cannot
grow it past its byte budget. Thread-safe: the API renders in worker threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from render.engine import render
from render.spec import RenderedImage, RenderRequest


@dataclass(frozen=True, slots=True)
class CacheInfo:
    hits: int
    misses: int
    entries: int
    bytes: int


class RenderCache:
    def __init__(self, max_entries: int = 512, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[RenderRequest, RenderedImage] = OrderedDict()
        self._bytes = self._hits = self._misses = 0
        self._lock = threading.Lock()

    def get(self, request: RenderRequest) -> RenderedImage:
        with self._lock:
            found = self._items.get(request)
            if found is not None:
                self._items.move_to_end(request)
                self._hits += 1
                return found
            self._misses += 1
        image = render(request)  # outside the lock: renders run in parallel
        self._put(request, image)
        return image

    def _put(self, request: RenderRequest, image: RenderedImage) -> None:
        size = len(image.content)
        if size > self.max_bytes:
            return
        with self._lock:
            if request in self._items:
                return
            self._items[request] = image
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= len(evicted.content)

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._items), self._bytes)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = self._hits = self._misses = 0


DEFAULT_CACHE = RenderCache()


def render_cached(request: RenderRequest) -> RenderedImage:
    return DEFAULT_CACHE.get(request)


def clear_memos() -> None:
    """Forget every memo of deterministic work (encodings, logo bitmaps, stamps, path
    templates) and the render cache: what a cold benchmark needs."""
    from render.logo import rasterize
    from render.plan import encode_cached
    from render.raster import corner_stamp, dot_stamps
    from render.svgpath import templates

    for memo in (encode_cached, rasterize, corner_stamp, dot_stamps, templates):
        memo.cache_clear()
    DEFAULT_CACHE.clear()
