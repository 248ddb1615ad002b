"""The journal record: framing that no value can break, torn and garbled tails, growth."""

from __future__ import annotations

import struct
import zlib

import pytest

from core.links import LinkTarget
from redirector.journal_format import (
    FIELDS,
    MAX_FIELD_BYTES,
    CorruptRecord,
    RawScan,
    ScanFacts,
    TornRecord,
    decode_scan,
    encode_scan,
    record_count,
)

LINK = LinkTarget("qr_1", "acc_1", "abcdefg", "https://example.com/ä?x=1")


def scan(**overrides: object) -> RawScan:
    values: dict[str, object] = {
        "at": 1764093600.123,
        "link": LINK,
        "visitor": "v" * 32,
        "client_ip": "2001:db8::1",
        "user_agent": "Mozilla/5.0",
        "referer": "https://t.co/x",
        "accept_language": "de-DE,de;q=0.9",
        "host": "go.brand.example",
    }
    values.update(overrides)
    return RawScan(**values)  # type: ignore[arg-type]


def test_round_trip_keeps_every_fact() -> None:
    record = encode_scan(scan(target="rule:1", outcome="password_page"))
    facts, end = decode_scan(record, 0)
    assert end == len(record)
    assert facts == ScanFacts(
        1764093600.123, "qr_1", "acc_1", "abcdefg", "https://example.com/ä?x=1", "v" * 32,
        "2001:db8::1", "Mozilla/5.0", "https://t.co/x", "de-DE,de;q=0.9", "go.brand.example",
        "rule:1", "password_page",
    )  # fmt: skip
    assert "2001:db8::1" not in repr(facts)
    assert "2001:db8::1" not in repr(scan())


@pytest.mark.parametrize(
    "hostile",
    ["line\nbreak", "nul\x00byte", "\xff\xfe latin-1", "\r\n\r\n", "é" * 40_000, ""],
)
def test_no_value_breaks_the_framing(hostile: str) -> None:
    records = encode_scan(scan(user_agent=hostile, referer=hostile)) + encode_scan(scan())
    first, end = decode_scan(records, 0)
    second, _ = decode_scan(records, end)
    expected = hostile.encode()[:MAX_FIELD_BYTES].decode("utf-8", "replace")
    assert first.user_agent == first.referer == expected
    assert second.user_agent == "Mozilla/5.0"


def test_defaults_for_target_and_outcome() -> None:
    facts, _ = decode_scan(encode_scan(scan()), 0)
    assert (facts.target, facts.outcome) == ("default", "redirected")


def test_a_cut_record_is_torn_and_a_garbled_one_is_skipped() -> None:
    record = encode_scan(scan())
    with pytest.raises(TornRecord):
        decode_scan(record[:-1], 0)
    with pytest.raises(TornRecord):
        decode_scan(record[:5], 0)
    garbled = bytearray(record + record)
    garbled[20] ^= 0xFF
    with pytest.raises(CorruptRecord) as caught:
        decode_scan(bytes(garbled), 0)
    assert caught.value.next_offset == len(record)
    assert decode_scan(bytes(garbled), caught.value.next_offset)[0].qr_id == "qr_1"


def _frame(version: int, values: list[bytes]) -> bytes:
    head = struct.pack(f"<BdB{len(values)}H", version, 1.5, len(values), *map(len, values))
    body = head + b"".join(values)
    return struct.pack("<II", len(body), zlib.crc32(body)) + body


def test_older_and_newer_records_of_the_same_version_are_read() -> None:
    older = [b"q", b"a", b"s", b"d", b"v", b"ip", b"ua", b"ref"]  # before language and host
    facts, _ = decode_scan(_frame(1, older), 0)
    assert (facts.qr_id, facts.referer, facts.host, facts.target) == ("q", "ref", "", "default")
    newer = [f.encode() for f in FIELDS] + [b"a field of a later release"]
    facts, _ = decode_scan(_frame(1, newer), 0)
    assert facts.outcome == "outcome"


def test_an_unknown_version_is_skipped_not_guessed() -> None:
    with pytest.raises(CorruptRecord):
        decode_scan(_frame(2, [f.encode() for f in FIELDS]), 0)


def test_lengths_that_do_not_add_up_are_corrupt() -> None:
    values = [f.encode() for f in FIELDS]
    head = struct.pack(f"<BdB{len(values)}H", 1, 1.5, len(values), *map(len, values))
    body = head + b"".join(values)[:-3]
    with pytest.raises(CorruptRecord):
        decode_scan(struct.pack("<II", len(body), zlib.crc32(body)) + body, 0)


def test_record_count_stops_at_a_torn_tail() -> None:
    record = encode_scan(scan())
    assert record_count(record * 3 + record[:7]) == (3, 3 * len(record))
