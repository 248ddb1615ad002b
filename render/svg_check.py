"""What an SVG logo may contain, checked on its text before any renderer sees it.

A few kilobytes of SVG can ask a renderer for unbounded work: nested ``<use>`` fan-out
(three levels of 60 references expand to 216,000 drawn elements), deep nesting, huge
declared sizes, SVG images embedded in SVG. These limits refuse that shape of document up
front; the sandbox (`render.svg_sandbox`) then bounds time and memory for whatever gets
through. Parsed with expat (C, streaming): no DTD, so no entities and no external files.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.parsers import expat

from PIL import Image

MAX_ELEMENTS = 5_000  # elements as written
MAX_EXPANDED = 20_000  # elements drawn once every reference is followed
MAX_DEPTH = 48  # nesting of elements
MAX_EMBEDDED_IMAGES = 16
MAX_DECLARED = 100_000.0  # width, height and viewBox sides, in user units
MAX_EMBEDDED_PIXELS = 4096 * 4096

# Attributes that make an element draw another one: href (use, image, feImage, tref,
# textPath, patterns and gradients inheriting) and url(#id) paint, masks, clips, filters,
# markers. A marker is drawn at every vertex; the sandbox's budget covers that multiplier.
_URL = re.compile(r"url\(\s*['\"]?\s*([^)'\"]*?)\s*['\"]?\s*\)", re.IGNORECASE)
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_LENGTH = re.compile(rf"^\s*({_NUMBER})\s*(px|pt|pc|mm|cm|in|em|ex|%)?\s*$")
_SCRIPT_TAGS = frozenset({"script", "handler", "listener"})
_EMBEDDABLE = ("data:image/png", "data:image/jpeg", "data:image/jpg", "data:image/gif",
               "data:image/webp")  # fmt: skip


class SvgProblem(ValueError):
    """The SVG breaks a limit or a rule; the message says which, for a person."""


@dataclass
class _Node:
    children: list[int] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    drawn: bool = True  # False for <defs>: its content is drawn only where referenced


@dataclass
class _Document:
    nodes: list[_Node] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    stack: list[int] = field(default_factory=list)
    images: int = 0


def check_svg_text(text: str) -> None:
    """Raise SvgProblem unless `text` is a self-contained SVG within every limit."""
    document = _parse(text)
    if not document.nodes:
        raise SvgProblem("has no elements")
    drawn = _expanded_count(document)
    if drawn > MAX_EXPANDED:
        raise SvgProblem(
            f"expands to more than {MAX_EXPANDED} elements once its references (<use>, "
            "url(#…)) are followed; simplify it or flatten the repeated parts"
        )


def _parse(text: str) -> _Document:
    document = _Document()
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.ExternalEntityRefHandler = _refuse_external_entity
    parser.StartElementHandler = _on_start(document)
    parser.EndElementHandler = lambda _name: document.stack.pop()
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise SvgProblem(f"is not well-formed XML ({expat.errors.messages[exc.code]}, "
                         f"line {exc.lineno})") from None  # fmt: skip
    return document


def _refuse_doctype(*_args: object) -> None:
    raise SvgProblem("has a DTD (<!DOCTYPE> or <!ENTITY>); a logo must not declare one")


def _refuse_external_entity(*_args: object) -> int:
    raise SvgProblem("refers to an external entity; embed everything")


def _on_start(document: _Document) -> Callable[[str, dict[str, str]], None]:
    def start(name: str, attributes: dict[str, str]) -> None:
        tag = _local(name)
        if not document.nodes and tag != "svg":
            raise SvgProblem(f"starts with <{tag}>; expected an <svg> root element")
        index = len(document.nodes)
        if index >= MAX_ELEMENTS:
            raise SvgProblem(f"has more than {MAX_ELEMENTS} elements")
        if len(document.stack) >= MAX_DEPTH:
            raise SvgProblem(f"nests elements more than {MAX_DEPTH} deep")
        if tag in _SCRIPT_TAGS:
            raise SvgProblem(f"contains <{tag}>; a logo is a picture, scripts are refused")
        node = _Node(refs=_references(tag, attributes, document), drawn=tag != "defs")
        if index == 0:
            _check_declared_size(attributes)
        else:
            document.nodes[document.stack[-1]].children.append(index)
        document.nodes.append(node)
        document.stack.append(index)
        element_id = attributes.get("id")
        if element_id is not None:
            document.ids.setdefault(element_id, index)

    return start


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _references(tag: str, attributes: dict[str, str], document: _Document) -> list[str]:
    refs: list[str] = []
    for name, value in attributes.items():
        local = _local(name).lower()
        if local.startswith("on"):
            raise SvgProblem(f"has an event handler ({name}); scripts are refused")
        if local == "href":
            refs += _href_target(tag, value.strip(), document)
        for target in _URL.findall(value):
            refs.append(_local_target(target))
    return refs


def _href_target(tag: str, value: str, document: _Document) -> list[str]:
    if value.startswith("#"):
        return [value[1:]]
    if value.lower().startswith("data:") and tag == "image":
        _check_embedded_image(value, document)
        return []
    raise SvgProblem(f"has an external reference in <{tag}> ({value[:40]!r}); only #ids "
                     "and embedded PNG/JPEG/GIF/WebP data URIs are allowed")  # fmt: skip


def _local_target(target: str) -> str:
    if not target.startswith("#"):
        raise SvgProblem(f"has an external reference url({target[:40]}); only url(#id) is allowed")
    return target[1:]


def _check_embedded_image(uri: str, document: _Document) -> None:
    document.images += 1
    if document.images > MAX_EMBEDDED_IMAGES:
        raise SvgProblem(f"embeds more than {MAX_EMBEDDED_IMAGES} images")
    head, _, payload = uri.partition(",")
    if not head.lower().startswith(_EMBEDDABLE) or not head.lower().endswith(";base64"):
        raise SvgProblem("embeds an image that is not a base64 PNG, JPEG, GIF or WebP "
                         "(SVG inside SVG is refused)")  # fmt: skip
    try:
        raw = base64.b64decode("".join(payload.split()), validate=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=["PNG", "JPEG", "GIF", "WEBP"]) as image:
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise SvgProblem("embeds an image over 4096x4096 px") from None
    except (binascii.Error, ValueError, OSError, SyntaxError):
        raise SvgProblem("embeds an image that cannot be read") from None
    if width * height > MAX_EMBEDDED_PIXELS or width < 1 or height < 1:
        raise SvgProblem(f"embeds a {width}x{height} px image; at most 4096x4096")


def _check_declared_size(attributes: dict[str, str]) -> None:
    for name in ("width", "height"):
        raw = attributes.get(name)
        if raw is None:
            continue
        found = _LENGTH.match(raw)
        if found is None:
            raise SvgProblem(f"has {name}={raw[:20]!r}; expected a length such as 120 or 4cm")
        _check_extent(name, float(found.group(1)))
    box = attributes.get("viewBox")
    if box is not None:
        parts = box.replace(",", " ").split()
        try:
            numbers = [float(part) for part in parts]
        except ValueError:
            numbers = []
        if len(numbers) != 4:
            raise SvgProblem(f"has viewBox={box[:40]!r}; expected four numbers")
        _check_extent("the viewBox width", numbers[2])
        _check_extent("the viewBox height", numbers[3])


def _check_extent(name: str, value: float) -> None:
    if not 0 < value <= MAX_DECLARED:
        raise SvgProblem(f"declares {name} as {value:g}; expected more than 0 and at most "
                         f"{MAX_DECLARED:g}")  # fmt: skip


def _expanded_count(document: _Document) -> int:
    """How many elements a renderer would instantiate, following every reference; an
    iterative post-order walk with memoised subtree weights (refuses reference cycles)."""
    weight: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[int, bool]] = [(0, False)]
    while stack:
        index, ready = stack.pop()
        if index in weight:
            continue
        targets = _targets(document, index)
        if ready:
            visiting.discard(index)
            total = 1 + sum(weight[t] for t in targets)
            weight[index] = min(total, MAX_EXPANDED + 1)  # big enough to refuse; no bignums
            continue
        if index in visiting:
            raise SvgProblem("has a reference cycle (an element that draws itself)")
        visiting.add(index)
        stack.append((index, True))
        for target in targets:
            if target in visiting:
                raise SvgProblem("has a reference cycle (an element that draws itself)")
            if target not in weight:
                stack.append((target, False))
    return weight[0]


def _targets(document: _Document, index: int) -> list[int]:
    node = document.nodes[index]
    found = [document.ids[ref] for ref in node.refs if ref in document.ids]
    return (node.children if node.drawn else []) + found
