from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from analytics.rowcodec import RowDecodeError, decode_row, encode_row
from core.scans import ScanRow

RowFactory = Callable[..., ScanRow]


def test_round_trip(make_row: RowFactory) -> None:
    row = make_row("qr", datetime(2026, 11, 25, 18, 0, 0, 123000, tzinfo=UTC), is_bot=True)
    assert decode_row(encode_row(row)) == row


def test_bytes_from_redis_decode(make_row: RowFactory) -> None:
    row = make_row("qr", referrer_host="t.co")
    raw = {key.encode(): value.encode() for key, value in encode_row(row).items()}
    assert decode_row(raw) == row


def test_naive_time_is_utc(make_row: RowFactory) -> None:
    naive = make_row("qr", datetime(2026, 11, 25, 18, 0))
    assert decode_row(encode_row(naive)).scanned_at == datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize("broken", [{}, {"qr_id": "x"}])
def test_not_a_row(broken: dict[str, str]) -> None:
    with pytest.raises(RowDecodeError):
        decode_row(broken)


def test_bad_time(make_row: RowFactory) -> None:
    fields = encode_row(make_row("qr")) | {"scanned_at": "soon"}
    with pytest.raises(RowDecodeError):
        decode_row(fields)
