"""ScanRow ⇄ flat string fields: the one encoding of a scan outside the process.

Used by the Redis stream (`encode_rows`: one entry carries a whole batch, column by
column) and by the on-disk spool (one JSON object per line). Times travel as epoch
milliseconds, booleans as "1"/"0" (1/0 in batches).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, fields
from datetime import UTC, datetime, timedelta

from core.scans import ScanRow

Fields = dict[str, str]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_BOOLS = frozenset(f.name for f in fields(ScanRow) if f.type in ("bool", bool))
_STRINGS = tuple(f.name for f in fields(ScanRow) if f.name not in _BOOLS | {"scanned_at"})
# Fields added later have defaults: rows written before them (spool, stream) still decode.
_DEFAULTS = {f.name: str(f.default) for f in fields(ScanRow) if f.default is not MISSING}


class RowDecodeError(ValueError):
    """The fields do not describe a scan (missing or malformed value)."""


def encode_row(row: ScanRow) -> Fields:
    encoded = {name: getattr(row, name) for name in _STRINGS}
    encoded["scanned_at"] = str(epoch_millis(row.scanned_at))
    for name in _BOOLS:
        encoded[name] = "1" if getattr(row, name) else "0"
    return encoded


def decode_row(raw: Mapping[str, str] | Mapping[bytes, bytes]) -> ScanRow:
    """Rebuild a row from `encode_row` output (str or bytes keys); extra fields are ignored."""
    data = {_text(key): _text(value) for key, value in raw.items()}
    try:
        values: dict[str, object] = {name: _field(data, name) for name in _STRINGS}
        values.update({name: data[name] == "1" for name in _BOOLS})
        moment = _EPOCH + int(data["scanned_at"]) * _MILLISECOND
    except (KeyError, ValueError, OverflowError) as exc:
        raise RowDecodeError(f"not a scan row: {exc!r}") from None
    return ScanRow(scanned_at=moment, **values)  # type: ignore[arg-type]


def epoch_millis(moment: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is UTC, as ScanRow promises."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MILLISECOND


def _field(data: Mapping[str, str], name: str) -> str:
    return data[name] if name in data or name not in _DEFAULTS else _DEFAULTS[name]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def encode_rows(rows: Sequence[ScanRow]) -> str:
    """Many rows as one compact JSON text, column by column (one stream entry per batch)."""
    columns: dict[str, list[object]] = {name: [getattr(r, name) for r in rows] for name in _STRINGS}
    columns["scanned_at"] = [epoch_millis(r.scanned_at) for r in rows]
    for name in _BOOLS:
        columns[name] = [1 if getattr(r, name) else 0 for r in rows]
    return json.dumps({"v": 1, "n": len(rows), "columns": columns}, separators=(",", ":"))


def decode_rows(text: str | bytes) -> list[ScanRow]:
    """The rows of `encode_rows`; raises RowDecodeError if they are not scan rows."""
    try:
        data = json.loads(text)
        count, columns = int(data["n"]), data["columns"]
        times = [_EPOCH + int(ms) * _MILLISECOND for ms in columns["scanned_at"]]
        strings = [
            [str(v) for v in columns[name]] if name in columns or name not in _DEFAULTS
            else [_DEFAULTS[name]] * count
            for name in _STRINGS
        ]  # fmt: skip
        bools = [[bool(v) for v in columns[name]] for name in _BOOLS]
    except (KeyError, ValueError, TypeError, OverflowError) as exc:
        raise RowDecodeError(f"not a batch of scan rows: {exc!r}") from None
    lengths = {len(times), *(len(c) for c in strings), *(len(c) for c in bools)}
    if lengths != {count}:
        raise RowDecodeError("columns of different lengths")
    names = (*_STRINGS, *_BOOLS)
    return [
        ScanRow(scanned_at=moment, **dict(zip(names, values, strict=True)))  # type: ignore[arg-type]
        for moment, *values in zip(times, *strings, *bools, strict=True)
    ]
