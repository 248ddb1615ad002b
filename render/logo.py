"""Logo images: decoding the base64 input, checking it, and rasterizing it.

PNG and JPEG go through Pillow; SVG logos are rasterized with resvg for PNG output and
embedded unchanged (as a data URI) in SVG output. System fonts are not loaded for SVG logos:
it costs milliseconds per render and makes output depend on the host (text in a logo should
be converted to paths).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from functools import lru_cache

import resvg_py
from PIL import Image, ImageOps, UnidentifiedImageError

from render.spec import Logo, LogoKind

MAX_LOGO_PIXELS = 4096 * 4096
_MIME: dict[LogoKind, str] = {"png": "image/png", "jpeg": "image/jpeg", "svg": "image/svg+xml"}
# An SVG logo must be self-contained: an href to a file or URL could make the renderer
# read local images or reach the network, and a DTD could hide an entity-expansion bomb.
_EXTERNAL_REF = re.compile(r"""href\s*=\s*["'](?!\s*(?:data:|#))""", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


class LogoProblem(ValueError):
    """The logo bytes are not a usable image; the message says why."""


def decode_logo(text: str) -> tuple[bytes, LogoKind]:
    """Base64 text to (bytes, kind), after checking that the image really decodes."""
    try:
        raw = base64.b64decode(_strip_data_uri(text), validate=True)
    except (binascii.Error, ValueError):
        raise LogoProblem("is not valid base64") from None
    kind = sniff(raw)
    if kind is None:
        raise LogoProblem("is not a PNG, JPEG or SVG image")
    if kind == "svg":
        _check_svg(raw)
    else:
        _open_bitmap(raw).close()
    return raw, kind


def _strip_data_uri(text: str) -> str:
    # Front ends often send the whole data URI; the payload after the comma is what counts.
    if text.startswith("data:") and "," in text:
        return text.split(",", 1)[1]
    return "".join(text.split())


def sniff(raw: bytes) -> LogoKind | None:
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if raw.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    head = raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and b"<svg" in raw[:4096].lower():
        return "svg"
    return None


def _open_bitmap(raw: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.width * image.height > MAX_LOGO_PIXELS:
                raise LogoProblem(f"is {image.width}x{image.height} px; at most 4096x4096")
            image.load()
    except LogoProblem:
        raise
    except UnidentifiedImageError:
        raise LogoProblem("is not a PNG, JPEG or SVG image") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning) as exc:
        raise LogoProblem(f"could not be decoded ({exc})") from None
    return image


def _check_svg(raw: bytes) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LogoProblem("is an SVG that is not UTF-8") from None
    if _DOCTYPE.search(text) or _EXTERNAL_REF.search(text):
        raise LogoProblem("is an SVG with a DTD or an external reference; embed everything")
    try:
        resvg_py.svg_to_bytes(svg_string=text, width=16, height=16, skip_system_fonts=True)
    except (ValueError, RuntimeError) as exc:
        raise LogoProblem(f"is not a valid SVG ({exc})") from None


def data_uri(logo: Logo) -> str:
    return f"data:{_MIME[logo.kind]};base64,{base64.b64encode(logo.image).decode('ascii')}"


@lru_cache(maxsize=32)
def rasterize(image: bytes, kind: LogoKind, side: int) -> Image.Image:
    """RGBA logo scaled to fit a ``side`` x ``side`` square, aspect ratio kept."""
    if kind == "svg":
        png = resvg_py.svg_to_bytes(
            svg_string=image.decode("utf-8"), width=side, height=side, skip_system_fonts=True
        )
        bitmap: Image.Image = Image.open(io.BytesIO(png))
    else:
        bitmap = ImageOps.exif_transpose(_open_bitmap(image))
    bitmap = bitmap.convert("RGBA")
    if bitmap.size != (side, side):
        bitmap = ImageOps.contain(bitmap, (side, side), Image.Resampling.LANCZOS)
    return bitmap
