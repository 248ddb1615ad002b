"""qrmint's rendering core: pure functions from a validated request to PNG or SVG bytes.

No async, no database, no web framework, no file or network I/O.
"""

from __future__ import annotations

from render.cache import DEFAULT_CACHE, CacheInfo, RenderCache, render_cached
from render.engine import render
from render.errors import FieldIssue, RenderError
from render.request import parse_request
from render.spec import RenderedImage, RenderRequest, Style
from render.style import parse_style
from render.style_json import style_to_json

__all__ = [
    "DEFAULT_CACHE",
    "CacheInfo",
    "FieldIssue",
    "RenderCache",
    "RenderError",
    "RenderRequest",
    "RenderedImage",
    "Style",
    "parse_request",
    "parse_style",
    "render",
    "render_cached",
    "style_to_json",
]
