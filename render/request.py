"""``parse_request``: untrusted values (JSON or command line) to a checked RenderRequest."""

from __future__ import annotations

from render.errors import FieldIssue, Issues, RenderError
from render.fields import describe, read_choice, read_int
from render.plan import make_plan
from render.spec import EcLevel, ImageFormat, RenderRequest
from render.style import read_style

MIN_SIZE, MAX_SIZE = 64, 4096
MAX_MARGIN = 16
MAX_QR_CHARACTERS = 7089  # numeric mode, version 40-L: nothing longer can ever fit
FORMATS: tuple[ImageFormat, ...] = ("png", "svg")
EC_LEVELS: tuple[EcLevel, ...] = ("L", "M", "Q", "H")


def parse_request(
    data: object,
    format: object = "png",
    size: object = 512,
    margin: object = 4,
    error_correction: object = "M",
    style: object = None,
) -> RenderRequest:
    """Validate everything (fields, style, contrast, capacity, logo bound) or raise
    RenderError. All field problems are reported together."""
    issues = Issues()
    text = _data(data, issues)
    fmt = read_choice(format, "format", FORMATS, issues)
    px = read_int(size, "size", issues, MIN_SIZE, MAX_SIZE)
    quiet = read_int(margin, "margin", issues, 0, MAX_MARGIN)
    ec = read_choice(error_correction, "error_correction", EC_LEVELS, issues)
    parsed_style = read_style(style, issues)
    issues.raise_if_any()
    assert text is not None
    assert px is not None
    assert quiet is not None
    request = RenderRequest(text, _format(fmt), px, quiet, _level(ec), parsed_style)
    if len(text) > MAX_QR_CHARACTERS:
        message = f"data is {len(text)} characters; no QR code holds more than {MAX_QR_CHARACTERS}."
        raise RenderError("data_too_long", message, (FieldIssue("data", message),))
    make_plan(request)
    return request


def _data(raw: object, issues: Issues) -> str | None:
    if not isinstance(raw, str) or not raw:
        issues.add("data", f"data is {describe(raw)}; expected non-empty text.")
        return None
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        issues.add("data", "data contains unpaired surrogates; expected valid Unicode text.")
        return None
    return raw


def _format(value: str | None) -> ImageFormat:
    return "svg" if value == "svg" else "png"


def _level(value: str | None) -> EcLevel:
    return next((level for level in EC_LEVELS if level == value), "M")
