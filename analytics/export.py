"""One row per scan of a QR code, in pages: the CSV export and the GraphQL `qrScans` list.

Pages follow the raw `scans` table in time order (its sorting key after the QR id, so
ClickHouse reads in order and stops at the page's end). A cursor is the last row's time and
how many rows of that very millisecond were already handed out; rows of one millisecond
are ordered by all their columns, so two rows left in any order are identical anyway.
Each page is one short query: a long download never holds a reader between pages. Rows
that arrive late for a part of the window already read are not in that export.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from analytics.stats import StatsSource
from core.errors import invalid_field

CSV_BATCH = 20_000

COLUMNS = (
    "scanned_at", "destination", "visitor", "is_unique", "country", "city", "device",
    "browser", "os", "referrer_host", "language", "target", "outcome", "domain", "is_bot",
)  # fmt: skip

_PAGE = f"""
SELECT toUnixTimestamp64Milli(scanned_at), {", ".join(COLUMNS[1:])}
FROM $scans
WHERE qr_id = {{qr_id:String}}
    AND scanned_at >= fromUnixTimestamp64Milli({{after:Int64}}, 'UTC')
    AND scanned_at < {{stop:DateTime64(3, 'UTC')}}
ORDER BY scanned_at, {", ".join(COLUMNS[1:])}
LIMIT {{limit:UInt32}} OFFSET {{skip:UInt32}}
"""


@dataclass(frozen=True)
class ScanRecord:
    scanned_at: datetime
    destination: str
    visitor: str
    is_unique: bool
    country: str
    city: str
    device: str
    browser: str
    os: str
    referrer_host: str
    language: str
    target: str
    outcome: str
    domain: str
    is_bot: bool


@dataclass(frozen=True)
class Cursor:
    millis: int  # time of the last row handed out
    skip: int  # rows at exactly that time already handed out


@dataclass(frozen=True)
class ScanPage:
    records: tuple[ScanRecord, ...]
    end_cursor: str | None
    has_next_page: bool


def fetch_page(
    store: StatsSource,
    qr_id: str,
    start: datetime,
    stop: datetime,
    cursor: Cursor | None,
    limit: int,
) -> tuple[list[ScanRecord], Cursor | None]:
    """Up to `limit` records after `cursor`, and the cursor after them (None: no more)."""
    after = cursor or Cursor(_millis(start), 0)
    rows = store.query(
        _PAGE,
        {
            "qr_id": qr_id,
            "after": after.millis,
            "stop": stop.strftime("%Y-%m-%d %H:%M:%S"),
            "limit": limit,
            "skip": after.skip,
        },
    )
    records = [_record(row) for row in rows]
    if len(records) < limit:
        return records, None
    last = _millis(records[-1].scanned_at)
    same = sum(1 for record in records if _millis(record.scanned_at) == last)
    return records, Cursor(last, same + (after.skip if last == after.millis else 0))


def csv_header() -> bytes:
    return _csv([COLUMNS])


def csv_rows(records: list[ScanRecord]) -> bytes:
    return _csv([_csv_values(record) for record in records])


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps([cursor.millis, cursor.skip]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        millis, skip = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if isinstance(millis, int) and isinstance(skip, int) and skip >= 0:
            return Cursor(millis, skip)
    except (binascii.Error, ValueError, TypeError, RecursionError):
        pass
    raise invalid_field("after", f"Cursor {text[:40]!r} is not one this API issued.")


def _record(row: tuple[Any, ...]) -> ScanRecord:
    millis, *rest = row
    moment = datetime.fromtimestamp(int(millis) / 1000, UTC)
    values = dict(zip(COLUMNS[1:], rest, strict=True))
    values["is_unique"], values["is_bot"] = bool(values["is_unique"]), bool(values["is_bot"])
    return ScanRecord(scanned_at=moment, **values)


def _csv_values(record: ScanRecord) -> list[str]:
    stamp = (
        record.scanned_at.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{record.scanned_at.microsecond // 1000:03d}Z"
    )
    values = [str(getattr(record, name)) for name in COLUMNS[1:]]
    return [stamp, *(_safe_cell(value) for value in values)]


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: a referrer or a URL must
    # never run as one (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv(rows: list[Any]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
