"""Raw scans page by page (CSV export, GraphQL qrScans) and refused scans per domain."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from analytics import export
from analytics.refusals import fetch_refusals
from analytics.store import ScanStore
from core.errors import Invalid
from core.scans import ScanRow

RowFactory = Callable[..., ScanRow]
START = datetime(2026, 11, 10, tzinfo=UTC)
STOP = datetime(2026, 11, 13, tzinfo=UTC)


def _all_pages(store: ScanStore, qr_id: str, size: int) -> list[export.ScanRecord]:
    found: list[export.ScanRecord] = []
    cursor = None
    while True:
        page, cursor = export.fetch_page(store, qr_id, START, STOP, cursor, size)
        found.extend(page)
        if cursor is None:
            return found
        cursor = export.decode_cursor(export.encode_cursor(cursor))  # as a client sends it


def test_pages_hand_out_every_row_once_even_within_one_millisecond(
    store: ScanStore, qr_id: str, make_row: RowFactory
) -> None:
    same = START + timedelta(hours=5)
    rows = [make_row(qr_id, same, visitor=f"v{n}") for n in range(7)]
    rows += [make_row(qr_id, same + timedelta(milliseconds=n), visitor="w") for n in range(1, 4)]
    rows += [make_row(qr_id, START - timedelta(milliseconds=1)), make_row(qr_id, STOP)]
    store.insert(rows)
    for size in (1, 2, 3, 4, 100):
        found = _all_pages(store, qr_id, size)
        assert len(found) == 10
        assert sorted((r.scanned_at, r.visitor) for r in found) == sorted(
            (r.scanned_at, r.visitor) for r in rows[:10]
        )
        assert [r.scanned_at for r in found] == sorted(r.scanned_at for r in found)


def test_csv_rows_are_quoted_and_never_formulas(
    store: ScanStore, qr_id: str, make_row: RowFactory
) -> None:
    store.insert(
        [make_row(qr_id, START, referrer_host="=cmd|' /C calc'!A0", city='Köln, "Altstadt"')]
    )
    page, _ = export.fetch_page(store, qr_id, START, STOP, None, 10)
    text = (export.csv_header() + export.csv_rows(page)).decode()
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == list(export.COLUMNS)
    values = dict(zip(header, row, strict=True))
    assert values["scanned_at"] == "2026-11-10T00:00:00.000Z"
    assert values["referrer_host"] == "'=cmd|' /C calc'!A0"
    assert values["city"] == 'Köln, "Altstadt"'
    assert (values["outcome"], values["target"], values["is_bot"]) == (
        "redirected", "default", "False",
    )  # fmt: skip


def test_a_cursor_not_issued_here_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        export.decode_cursor("bm90IGEgY3Vyc29y")
    assert caught.value.details[0].field == "after"


def test_refusals_per_domain_for_their_owner(
    store: ScanStore, qr_id: str, make_row: RowFactory
) -> None:
    account = f"acct-{qr_id}"
    gone = {"account_id": account, "outcome": "gone", "destination": ""}
    orphan = {"account_id": account, "outcome": "not_found", "domain": "go.brand.example"}
    store.insert(
        [
            make_row(qr_id, START, target="paused", **gone),
            make_row(qr_id, START + timedelta(days=1), target="paused", **gone),
            make_row(qr_id, START, target="deleted", domain="go.brand.example", **gone),
            make_row("", START, short_code="Nope1234", target="unknown", **orphan),
            make_row(qr_id, START, target="paused", is_bot=True, **gone),  # bots left out
            make_row(qr_id, START, account_id=account),  # a redirect is no refusal
            make_row(qr_id, START, target="paused", **{**gone, "account_id": "someone-else"}),
        ]
    )
    found = fetch_refusals(store, account, date(2026, 11, 10), date(2026, 11, 12))
    assert [(d.domain, d.total) for d in found] == [("", 2), ("go.brand.example", 2)]
    base, custom = found
    assert base.by_reason == (("paused", 2),)
    assert base.by_day == ((date(2026, 11, 10), 1), (date(2026, 11, 11), 1))
    assert custom.by_reason == (("deleted", 1), ("unknown", 1))
    assert custom.by_code == (("Nope1234", 1), ("abc123", 1))
