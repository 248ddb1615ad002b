"""Logo images: decoding the base64 input, checking it, and rasterizing it.

PNG and JPEG go through Pillow, with their declared size checked before any pixel is
decoded and Pillow's own limits set here explicitly. SVG logos are checked on their text
(`render.svg_check`), then drawn by resvg in a sandboxed worker process with a time and a
memory budget (`render.svg_sandbox`): for PNG output, and once at a small size when the
request is parsed, so a document resvg refuses or cannot draw in budget is a 422 up front
(SVG output embeds the logo unchanged, as a data URI). System fonts are not loaded for SVG
logos: it costs milliseconds per render and makes output depend on the host (text in a logo
should be converted to paths).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import threading
import warnings
from collections import OrderedDict
from functools import lru_cache

from PIL import Image, ImageFile, ImageOps, PngImagePlugin, UnidentifiedImageError

from render.errors import FieldIssue, RenderError
from render.spec import Logo, LogoKind
from render.svg_check import SvgProblem, check_svg_text
from render.svg_sandbox import SANDBOX

MAX_LOGO_PIXELS = 4096 * 4096
_PROBE_SIDE = 16  # the parse-time drawing: cheap in pixels, full cost in document work
_MIME: dict[LogoKind, str] = {"png": "image/png", "jpeg": "image/jpeg", "svg": "image/svg+xml"}
_FORMATS = {"png": ["PNG"], "jpeg": ["JPEG"]}
_FIELD = "style.logo.image"

# Pillow's limits, explicitly: a bigger declared image is a DecompressionBombWarning (made
# an error below) before decoding; text chunks (iTXt/zTXt can be compressed bombs too) are
# capped; a truncated file is an error, never a half-decoded picture.
Image.MAX_IMAGE_PIXELS = MAX_LOGO_PIXELS
PngImagePlugin.MAX_TEXT_CHUNK = 64 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = 256 * 1024
ImageFile.LOAD_TRUNCATED_IMAGES = False


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
        _open_bitmap(raw, kind).close()
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


def _open_bitmap(raw: bytes, kind: LogoKind) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=_FORMATS[kind])
            # The header's size, before a single pixel is decoded.
            if image.width < 1 or image.height < 1:
                raise LogoProblem(f"is {image.width}x{image.height} px; an image has pixels")
            if image.width * image.height > MAX_LOGO_PIXELS:
                raise LogoProblem(f"is {image.width}x{image.height} px; at most 4096x4096")
            image.load()
    except LogoProblem:
        raise
    except UnidentifiedImageError:
        raise LogoProblem("is not a PNG, JPEG or SVG image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LogoProblem("declares more than 4096x4096 px") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise LogoProblem(f"could not be decoded ({exc})") from None
    return image


def _check_svg(raw: bytes) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LogoProblem("is an SVG that is not UTF-8") from None
    digest = hashlib.sha256(raw).digest()
    verdict = _VERDICTS.get(digest)
    if verdict is None:
        verdict = _svg_verdict(text)
        _VERDICTS.put(digest, verdict)
    if verdict:
        raise LogoProblem(f"is an SVG that {verdict}")


def _svg_verdict(text: str) -> str:
    """'' when the SVG is fine, else why not."""
    try:
        check_svg_text(text)
        SANDBOX.rasterize(text, _PROBE_SIDE)
    except SvgProblem as problem:
        return str(problem)
    return ""


class _Verdicts:
    """SVG checks remembered by digest: a bulk request repeats one logo 50 times, and a
    refused one must not cost its full budget again on every item."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: bytes) -> str | None:
        with self._lock:
            return self._items.get(digest)

    def put(self, digest: bytes, verdict: str) -> None:
        with self._lock:
            self._items[digest] = verdict
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_VERDICTS = _Verdicts()


def _bitmap(image: bytes, kind: LogoKind, side: int) -> Image.Image:
    if side * side > MAX_LOGO_PIXELS:
        raise LogoProblem(f"would be drawn at {side}x{side} px; at most 4096x4096")
    if kind != "svg":
        return ImageOps.exif_transpose(_open_bitmap(image, kind))
    try:
        png = SANDBOX.rasterize(image.decode("utf-8"), side)
    except SvgProblem as problem:
        raise LogoProblem(f"is an SVG that {problem}") from None
    return Image.open(io.BytesIO(png), formats=["PNG"])


def data_uri(logo: Logo) -> str:
    return f"data:{_MIME[logo.kind]};base64,{base64.b64encode(logo.image).decode('ascii')}"


@lru_cache(maxsize=32)
def rasterize(image: bytes, kind: LogoKind, side: int) -> Image.Image:
    """RGBA logo scaled to fit a ``side`` x ``side`` square, aspect ratio kept. A logo
    that cannot be drawn within its budget at this size is a RenderError (422)."""
    try:
        bitmap = _bitmap(image, kind, side)
    except LogoProblem as problem:
        message = f"style.logo.image {problem}."
        raise RenderError("validation_error", message, (FieldIssue(_FIELD, message),)) from None
    bitmap = bitmap.convert("RGBA")
    if bitmap.size != (side, side):
        bitmap = ImageOps.contain(bitmap, (side, side), Image.Resampling.LANCZOS)
    return bitmap
