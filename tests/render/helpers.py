"""Decoding and image-making helpers for the render tests."""

from __future__ import annotations

import base64
import io

import resvg_py
import zxingcpp
from PIL import Image, ImageDraw

from render import RenderedImage

URL = "https://example.com/products/summer-sale-2026/landing?utm_source=qr&utm_campaign=x1"


def to_pil(image: RenderedImage) -> Image.Image:
    """The image as a viewer shows it: SVG rasterized, transparency flattened on white."""
    content = image.content
    if image.format == "svg":
        content = bytes(resvg_py.svg_to_bytes(svg_string=content.decode("utf-8")))
    pil = Image.open(io.BytesIO(content))
    pil.load()
    canvas = Image.new("RGBA", pil.size, (255, 255, 255, 255))
    canvas.alpha_composite(pil.convert("RGBA"))
    return canvas.convert("RGB")


def read(image: RenderedImage) -> list[zxingcpp.Barcode]:
    # try_invert=False: a code that only reads inverted would not scan on many phones.
    return zxingcpp.read_barcodes(
        to_pil(image),
        try_invert=False,
        text_mode=zxingcpp.TextMode.Plain,
    )


def rgb(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    pixel = image.getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel


def decode(image: RenderedImage) -> str | None:
    found = read(image)
    return found[0].text if found else None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def bitmap_logo(fmt: str, size: tuple[int, int] = (240, 160)) -> bytes:
    """A wide two-colour logo (the aspect ratio must survive), as PNG or JPEG bytes."""
    mode = "RGBA" if fmt == "PNG" else "RGB"
    image = Image.new(mode, size, (230, 40, 70, 255) if mode == "RGBA" else (230, 40, 70))
    draw = ImageDraw.Draw(image)
    draw.ellipse((size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4), fill="white")
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


SVG_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
    b'<rect width="100" height="100" rx="18" fill="#2255cc"/>'
    b'<circle cx="50" cy="50" r="28" fill="#ffffff"/></svg>'
)


def logo_bytes(kind: str) -> bytes:
    return SVG_LOGO if kind == "svg" else bitmap_logo(kind.upper())
