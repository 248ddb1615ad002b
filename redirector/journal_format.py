"""One scan journal record: the raw facts of one answered redirect, as bytes on disk.

    record := u32 body_length | u32 crc32(body) | body
    body   := u8 version | f64 unix_time | u8 field_count | u16 length * field_count | fields
    fields := the UTF-8 bytes of each field in `FIELDS` order, back to back

Every field is length-prefixed, so no value (a user agent with newlines, a referer with
NULs) can break the framing; a field longer than 65,535 bytes is cut to that length (no
real header comes near it). The CRC finds a torn or garbled tail after a power loss. The
format grows by appending fields: a reader takes the fields it knows and gives the later
ones their defaults when a record has fewer, and ignores any it does not know; `VERSION`
changes only for a change that older readers could not skip.
"""

from __future__ import annotations

import struct
import zlib
from itertools import accumulate
from typing import NamedTuple

from core.links import LinkTarget

VERSION = 1
MAX_FIELD_BYTES = 0xFFFF
FIELDS = (
    "qr_id",
    "account_id",
    "short_code",
    "destination",
    "visitor",
    "client_ip",  # journal only: local, short-lived; never sent on or stored (docs/scans.md)
    "user_agent",
    "referer",
    "accept_language",
    "host",  # the link's custom domain ("" = the base domain), as the handler routed it
    "target",  # which rule, split variant or "default" served the scan; if gone, why
    "outcome",  # redirected | password_page | gone | not_found (an orphan, docs/links.md)
)
DEFAULTS = {"target": "default", "outcome": "redirected"}
_FRAME = struct.Struct("<II")
_PREFIX = struct.Struct("<BdB")
_HEAD = struct.Struct(_PREFIX.format + "H" * len(FIELDS))
_LENGTHS = {len(FIELDS): struct.Struct("<" + "H" * len(FIELDS))}
FRAME_BYTES = _FRAME.size


class RawScan(NamedTuple):
    """What the request handler knows. A tuple, because it is built on every redirect."""

    at: float  # time.time()
    link: LinkTarget
    visitor: str
    client_ip: str
    user_agent: str
    referer: str
    accept_language: str = ""
    host: str = ""
    target: str = "default"
    outcome: str = "redirected"

    def __repr__(self) -> str:  # never shows the IP
        return f"RawScan(at={self.at!r}, link={self.link!r}, visitor={self.visitor!r})"


class ScanFacts(NamedTuple):
    """A record read back: the fields of `FIELDS`, with the scan's time first."""

    at: float
    qr_id: str
    account_id: str
    short_code: str
    destination: str
    visitor: str
    client_ip: str
    user_agent: str
    referer: str
    accept_language: str
    host: str
    target: str
    outcome: str

    def __repr__(self) -> str:
        return f"ScanFacts(at={self.at!r}, qr_id={self.qr_id!r}, visitor={self.visitor!r})"


class TornRecord(Exception):
    """The bytes end inside a record (it is still being written, or a power loss cut it)."""


class CorruptRecord(Exception):
    """A complete frame whose checksum or layout is wrong; `next_offset` skips it."""

    def __init__(self, message: str, next_offset: int) -> None:
        super().__init__(message)
        self.next_offset = next_offset


def encode_scan(scan: RawScan) -> bytes:
    """The record for one scan, ready for one os.write (the redirect hot path)."""
    link = scan.link
    fields: tuple[bytes, ...] = (
        link.qr_id.encode(),
        link.account_id.encode(),
        link.short_code.encode(),
        link.destination.encode(),
        scan.visitor.encode(),
        scan.client_ip.encode(),
        scan.user_agent.encode(),
        scan.referer.encode(),
        scan.accept_language.encode(),
        scan.host.encode(),
        scan.target.encode(),
        scan.outcome.encode(),
    )
    try:
        head = _HEAD.pack(VERSION, scan.at, len(fields), *map(len, fields))
    except struct.error:  # a field over 64 KiB: cut it rather than lose the scan
        fields = tuple(field[:MAX_FIELD_BYTES] for field in fields)
        head = _HEAD.pack(VERSION, scan.at, len(fields), *map(len, fields))
    body = head + b"".join(fields)
    return _FRAME.pack(len(body), zlib.crc32(body)) + body


def decode_scan(buffer: bytes, offset: int) -> tuple[ScanFacts, int]:
    """The record starting at `offset` and the offset just after it.

    Raises TornRecord when `buffer` ends inside the record, CorruptRecord when it is
    complete but unreadable."""
    if len(buffer) - offset < FRAME_BYTES:
        raise TornRecord(f"{len(buffer) - offset} bytes left at {offset}")
    length, checksum = _FRAME.unpack_from(buffer, offset)
    start = offset + FRAME_BYTES
    end = start + length
    if end > len(buffer):
        raise TornRecord(f"record at {offset} needs {length} bytes")
    body = buffer[start:end]
    if zlib.crc32(body) != checksum:
        raise CorruptRecord(f"checksum mismatch at {offset}", end)
    try:
        return _decode_body(body), end
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise CorruptRecord(f"unreadable record at {offset}: {exc}", end) from None


def _decode_body(body: bytes) -> ScanFacts:
    version, at, count = _PREFIX.unpack_from(body, 0)
    if version != VERSION:
        raise ValueError(f"record version {version}, this reader knows {VERSION}")
    lengths_struct = _LENGTHS.get(count)
    if lengths_struct is None:
        lengths_struct = _LENGTHS.setdefault(count, struct.Struct("<" + "H" * count))
    lengths = lengths_struct.unpack_from(body, _PREFIX.size)
    blob = body[_PREFIX.size + lengths_struct.size :]
    ends = list(accumulate(lengths))
    if (ends[-1] if ends else 0) != len(blob):
        raise ValueError("the field lengths do not add up to the record")
    starts = [0, *ends]
    if blob.isascii():  # the usual case: one decode, then slices (bytes and characters agree)
        text = blob.decode("ascii")
        values = [text[a:b] for a, b in zip(starts, ends[: len(FIELDS)], strict=False)]
    else:
        pairs = zip(starts, ends[: len(FIELDS)], strict=False)
        values = [blob[a:b].decode("utf-8", "replace") for a, b in pairs]
    for name in FIELDS[len(values) :]:
        values.append(DEFAULTS.get(name, ""))
    return ScanFacts(at, *values)


def record_count(buffer: bytes) -> tuple[int, int]:
    """(complete frames, bytes they span) from the start of `buffer`, without decoding them."""
    offset = count = 0
    while len(buffer) - offset >= FRAME_BYTES:
        (length, _) = _FRAME.unpack_from(buffer, offset)
        if offset + FRAME_BYTES + length > len(buffer):
            break
        offset += FRAME_BYTES + length
        count += 1
    return count, offset
