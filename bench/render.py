"""Rendering speed: qrmint against segno and python-qrcode, in one run on one machine.

    python -m bench.render

Median milliseconds per image, cold (the render cache and every memo are cleared before
each call, so encoding, logo decoding and stamp tables are paid every time), for a
83-character URL at 512 px: qrmint plain PNG/SVG, qrmint styled PNG/SVG (rounded dots,
radial gradient, PNG logo: level H, version 8); segno plain PNG/SVG at the nearest
512 px scale; python-qrcode's StyledPilImage with RoundedModuleDrawer,
RadialGradiantColorMask and the same logo via ``embeded_image``. Every competitor's
time includes its encoding too. Targets: styled PNG >= 30x faster than StyledPilImage;
plain PNG and SVG no slower than segno's.
"""

from __future__ import annotations

import base64
import io
import statistics
import time
from collections.abc import Callable

import qrcode
import segno
from PIL import Image, ImageDraw
from qrcode.image.styledpil import StyledPilImage
from qrcode.image.styles.colormasks import RadialGradiantColorMask
from qrcode.image.styles.moduledrawers.pil import RoundedModuleDrawer

from render import RenderRequest, parse_request, render, render_cached
from render.cache import clear_memos

URL = "https://example.com/products/summer-sale-2026/landing?utm_source=qr&utm_campaign=x1"
SIZE = 512
CENTRE, EDGE = (0, 51, 170), (170, 0, 51)


def _logo() -> Image.Image:
    logo = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((0, 0, 255, 255), fill=(220, 30, 60, 255))
    draw.rectangle((80, 80, 176, 176), fill=(255, 255, 255, 255))
    return logo


def _png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{channel:02x}" for channel in rgb)


def styled_request(fmt: str) -> RenderRequest:
    stops = [
        {"offset": 0, "color": _hex(CENTRE)},
        {"offset": 1, "color": _hex(EDGE)},
    ]
    style = {
        "dots": {"shape": "rounded", "gradient": {"type": "radial", "stops": stops}},
        "logo": {"image": base64.b64encode(_png_bytes(_logo())).decode(), "size": 0.25},
    }
    return parse_request(URL, fmt, SIZE, 4, "M", style)


def median_ms(work: Callable[[], object], repeat: int, cold: bool = True) -> float:
    work()  # imports and first-call setup are not what we measure
    times = []
    for _ in range(repeat):
        if cold:
            clear_memos()
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure_render_ms(repeat: int = 50) -> float:
    """Median cold ms of one plain 512 px PNG: the unit other benchmarks compare to."""
    request = parse_request(URL, "png", SIZE)
    return median_ms(lambda: render(request), repeat)


def _segno(kind: str) -> Callable[[], object]:
    modules = segno.make(URL, error="m", boost_error=False, micro=False).symbol_size(scale=1)[0]
    scale: float = round(SIZE / modules) if kind == "png" else SIZE / modules

    def work() -> bytes:
        out = io.BytesIO()
        segno.make(URL, error="m", boost_error=False, micro=False).save(out, kind=kind, scale=scale)
        return out.getvalue()

    return work


def _qrcode_styled() -> Callable[[], object]:
    logo = _logo()

    def work() -> bytes:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_H, border=4)
        code.add_data(URL)
        code.make(fit=True)
        code.box_size = round(SIZE / (code.modules_count + 8))
        mask = RadialGradiantColorMask((255, 255, 255), CENTRE, EDGE)
        image = code.make_image(
            image_factory=StyledPilImage,
            module_drawer=RoundedModuleDrawer(),
            color_mask=mask,
            embeded_image=logo,
        )
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()

    return work


def run() -> None:
    plain_png, plain_svg = parse_request(URL, "png", SIZE), parse_request(URL, "svg", SIZE)
    styled_png, styled_svg = styled_request("png"), styled_request("svg")
    results = {
        "qrmint plain PNG": median_ms(lambda: render(plain_png), 100),
        "qrmint plain SVG": median_ms(lambda: render(plain_svg), 100),
        "qrmint styled PNG": median_ms(lambda: render(styled_png), 40),
        "qrmint styled SVG": median_ms(lambda: render(styled_svg), 40),
        "qrmint styled PNG, cache hit": median_ms(lambda: render_cached(styled_png), 100, False),
        "segno plain PNG": median_ms(_segno("png"), 40),
        "segno plain SVG": median_ms(_segno("svg"), 40),
        "qrcode StyledPilImage PNG": median_ms(_qrcode_styled(), 5),
    }
    print(f"bench.render: {len(URL)}-char URL, {SIZE} px, median ms per image (cold)")
    for name, ms in results.items():
        print(f"  {name:<32} {ms:9.3f} ms")
    _ratio(
        "styled PNG vs qrcode StyledPilImage",
        results,
        "qrcode StyledPilImage PNG",
        "qrmint styled PNG",
        30,
    )
    _ratio("plain PNG vs segno", results, "segno plain PNG", "qrmint plain PNG", 1)
    _ratio("plain SVG vs segno", results, "segno plain SVG", "qrmint plain SVG", 1)


def _ratio(label: str, results: dict[str, float], slow: str, fast: str, target: float) -> None:
    ratio = results[slow] / results[fast]
    verdict = "ok" if ratio >= target else "MISSED"
    print(f"  {label:<40} {ratio:7.1f}x faster (target >= {target:g}x: {verdict})")


if __name__ == "__main__":
    run()
