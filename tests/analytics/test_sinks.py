"""The store as a durable sink: a batch sent again is stored once, raw rows and rollup."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from analytics.sinks import StoreSink
from analytics.store import ScanStore
from core.scans import ScanBatch, ScanRow

RowFactory = Callable[..., ScanRow]


def _rollup_scans(store: ScanStore, qr_id: str) -> int:
    rows = store.query("SELECT sum(scans) FROM $scans_daily WHERE qr_id = {q:String}", {"q": qr_id})
    return int(rows[0][0] or 0)


class LosingReplies:
    def __init__(self, store: ScanStore) -> None:
        self.store = store

    def insert(self, rows: Sequence[ScanRow], *, token: str | None = None) -> None:
        self.store.insert(rows, token=token)
        raise TimeoutError("the reply was lost")


async def test_a_batch_sent_again_is_stored_once_in_scans_and_the_rollup(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int]
) -> None:
    rows = [make_row(qr_id, visitor=f"v{n}") for n in range(300)]
    batch = ScanBatch(f"{qr_id}-1-0-300", rows, [f"k{n}" for n in range(300)])
    losing = StoreSink(LosingReplies(store))
    with pytest.raises(TimeoutError):
        await losing.commit(batch)
    assert losing.stats().failures == 1
    sink = StoreSink(store)
    await sink.commit(batch)  # the consumer's retry
    await sink.commit(ScanBatch(batch.token, rows, batch.keys, replayed=True))  # a replay
    assert count_scans(qr_id) == 300
    assert _rollup_scans(store, qr_id) == 300
    # Another batch with the same rows but its own token is new scans, and counted.
    await sink.commit(ScanBatch(f"{qr_id}-1-300-600", rows, batch.keys))
    assert count_scans(qr_id) == 600
    assert _rollup_scans(store, qr_id) == 600


def test_the_tables_keep_a_deduplication_window(store: ScanStore) -> None:
    for table in ("scans", "scans_daily"):
        [(ddl,)] = store.query(f"SHOW CREATE TABLE ${table}", {})
        assert "non_replicated_deduplication_window = 10000" in ddl
