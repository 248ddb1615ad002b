"""``render``: a validated request in, image bytes out. Pure: no I/O, no shared state
except memo caches of deterministic results."""

from __future__ import annotations

from render.plan import make_plan
from render.png import render_png
from render.spec import RenderedImage, RenderRequest
from render.svg import render_svg

MIME_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def render(request: RenderRequest) -> RenderedImage:
    plan = make_plan(request)
    content = render_png(plan) if request.format == "png" else render_svg(plan)
    return RenderedImage(
        content=content,
        mime_type=MIME_TYPES[request.format],
        format=request.format,
        error_correction=plan.symbol.ec_level,
        version=plan.symbol.version,
        modules=plan.symbol.n,
    )
