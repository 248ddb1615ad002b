"""The sandbox: resvg in a worker process with a deadline and an address-space limit."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from render.svg_check import SvgProblem
from render.svg_sandbox import SvgSandbox
from tests.render import bombs


@pytest.fixture
def sandbox():
    box = SvgSandbox()
    yield box
    box.close()


def test_draws_a_normal_logo(sandbox: SvgSandbox) -> None:
    png = sandbox.rasterize(bombs.NORMAL_SVG, 120)
    image = Image.open(io.BytesIO(png))
    assert image.size == (120, 72)  # fitted, aspect ratio kept
    assert image.convert("RGB").getpixel((60, 36)) == (255, 255, 255)


def test_a_slow_document_is_killed_at_its_deadline() -> None:
    sandbox = SvgSandbox(timeout=0.05)
    try:
        started = time.monotonic()
        with pytest.raises(SvgProblem, match="takes more than"):
            sandbox.rasterize(bombs.use_fanout(3, 40), 16)  # ~1 s of resvg work
        assert time.monotonic() - started < 15
        assert sandbox._idle == []  # the worker was killed, not kept
        sandbox.timeout = 5.0
        assert sandbox.rasterize(bombs.NORMAL_SVG, 16)  # a fresh worker takes over
    finally:
        sandbox.close()


def test_memory_beyond_the_budget_kills_only_the_worker() -> None:
    sandbox = SvgSandbox(timeout=30, memory=96 * 1024 * 1024)
    try:
        with pytest.raises(SvgProblem, match="needed more than 96 MiB"):
            sandbox.rasterize(bombs.NORMAL_SVG, 8000)  # a 256 MB pixmap
        assert sandbox.rasterize(bombs.NORMAL_SVG, 16)
    finally:
        sandbox.close()


def test_a_crash_in_the_renderer_is_a_refusal(sandbox: SvgSandbox) -> None:
    # Nesting this deep overflows the native stack: the worker dies, the caller does not.
    with pytest.raises(SvgProblem, match="crashed the renderer"):
        sandbox.rasterize(bombs.deep_nesting(100_000), 16)
    assert sandbox.rasterize(bombs.NORMAL_SVG, 16)


def test_resvg_refusals_are_reported(sandbox: SvgSandbox) -> None:
    with pytest.raises(SvgProblem, match="resvg cannot draw"):
        sandbox.rasterize("<svg><g></svg>", 16)


def test_workers_are_reused_and_closed(sandbox: SvgSandbox) -> None:
    sandbox.rasterize(bombs.NORMAL_SVG, 16)
    [worker] = sandbox._idle
    sandbox.rasterize(bombs.NORMAL_SVG, 16)
    assert sandbox._idle == [worker]
    sandbox.close()
    assert worker.process.returncode is not None
