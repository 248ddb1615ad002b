"""Hostile logo files, built in memory: SVG bombs of every known shape and bitmap bombs."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

SVG_NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
NORMAL_SVG = (
    f'<svg {SVG_NS} viewBox="0 0 100 60"><rect width="100" height="60" fill="#e62846"/>'
    '<circle cx="50" cy="30" r="20" fill="#fff"/></svg>'
)


def use_fanout(levels: int = 3, fanout: int = 60) -> str:
    """The reported bomb: under 6 KB, 216,000 drawn elements at 3 x 60."""
    parts = [f'<svg {SVG_NS} viewBox="0 0 10 10"><defs><path id="l0" d="M0 0h1v1z"/>']
    for level in range(1, levels + 1):
        parts.append(f'<g id="l{level}">' + f'<use href="#l{level - 1}"/>' * fanout + "</g>")
    parts.append(f'</defs><use href="#l{levels}"/></svg>')
    return "".join(parts)


def deep_nesting(depth: int = 5_000) -> str:
    return f'<svg {SVG_NS} viewBox="0 0 1 1">' + "<g>" * depth + "</g>" * depth + "</svg>"


def many_elements(count: int = 20_000) -> str:
    return f'<svg {SVG_NS} viewBox="0 0 1 1">' + '<rect width="1" height="1"/>' * count + "</svg>"


def billion_laughs() -> str:
    entities = '<!ENTITY a "lol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8)
    )
    return f'<?xml version="1.0"?><!DOCTYPE svg [{entities}]><svg {SVG_NS}><text>&i;</text></svg>'


def huge_declared(width: str = "1e9", height: str = "1e9") -> str:
    return f'<svg {SVG_NS} width="{width}" height="{height}"><rect width="1" height="1"/></svg>'


def use_cycle() -> str:
    return f'<svg {SVG_NS}><g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g></svg>'


def svg_with(body: str) -> str:
    return f'<svg {SVG_NS} viewBox="0 0 10 10">{body}</svg>'


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A 1-bit PNG of zeros: a few dozen KB on the wire, width x height pixels decoded."""
    raw_row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(raw_row) for _ in range(height)) + compressor.flush()
    return _png(width, height, 1, 0, data)


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares a size while its data holds no pixels at all."""
    return _png(width, height, 8, 6, zlib.compress(b""))


def small_png(width: int = 4, height: int = 4) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 30, 30, 255)).save(out, "PNG")
    return out.getvalue()


def truncated(kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 300), (200, 30, 30)).save(out, kind)
    whole = out.getvalue()
    return whole[: len(whole) // 2]


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real JPEG whose SOF0 header is rewritten to declare another size."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 10, 10)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack("!HH", height, width)
    return bytes(data)


def _png(width: int, height: int, depth: int, color: int, idat: bytes) -> bytes:
    header = struct.pack("!IIBBBBB", width, height, depth, color, 0, 0, 0)
    chunks = _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack("!I", len(body)) + kind + body + struct.pack("!I", crc)
