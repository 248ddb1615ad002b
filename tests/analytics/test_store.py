from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from analytics.store import ScanStore, ScanStoreBusy, ScanStoreError, open_scan_store
from core.scans import ScanRow

RowFactory = Callable[..., ScanRow]


def test_migrate_is_idempotent(store: ScanStore) -> None:
    store.migrate()
    store.migrate()
    tables = store.query("SELECT name FROM system.tables WHERE database = 'default'", {})
    assert "scans" in {name for (name,) in tables}


def test_insert_round_trips_every_column(
    store: ScanStore, qr_id: str, make_row: RowFactory
) -> None:
    row = make_row(qr_id, visitor="v-9", is_unique=True, referrer_host="t.co", is_bot=True)
    store.insert([row])
    stored = store.query(
        "SELECT toUnixTimestamp64Milli(scanned_at), visitor, is_unique, referrer_host, is_bot "
        "FROM $scans WHERE qr_id = {q:String}",
        {"q": qr_id},
    )
    assert stored == [(int(row.scanned_at.timestamp() * 1000), "v-9", True, "t.co", True)]


def test_same_token_is_stored_once(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int]
) -> None:
    rows = [make_row(qr_id, visitor=f"v-{n}") for n in range(5)]
    token = uuid.uuid4().hex
    store.insert(rows, token=token)
    store.insert(rows, token=token)
    assert count_scans(qr_id) == 5
    rolled = store.query(
        "SELECT sum(scans) FROM $scans_daily WHERE qr_id = {q:String}", {"q": qr_id}
    )
    assert rolled == [(5,)]  # the rollup skipped the replayed block too


def test_identical_batches_with_different_tokens_both_count(
    store: ScanStore, qr_id: str, make_row: RowFactory, count_scans: Callable[[str], int]
) -> None:
    rows = [make_row(qr_id)]
    store.insert(rows)
    store.insert(rows)
    assert count_scans(qr_id) == 2


def test_second_process_gets_a_clear_busy_error(store: ScanStore, store_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from analytics.store import ScanStoreBusy, open_scan_store
        try:
            open_scan_store("chdb://{store_path}")
        except ScanStoreBusy as exc:
            print(exc)
            sys.exit(3)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 3, done.stderr
    assert f"the analytics store at {store_path} is in use by another qrmint process" in (
        done.stdout
    )


def test_one_process_cannot_open_a_second_path(store: ScanStore, tmp_path: Path) -> None:
    with pytest.raises(ScanStoreError, match="already opened another analytics store"):
        open_scan_store(f"chdb://{tmp_path / 'other'}")


def test_the_same_path_can_be_opened_again(store: ScanStore, store_path: Path) -> None:
    again = open_scan_store(f"chdb://{store_path}")
    try:
        assert again.query("SELECT 1", {}) == [(1,)]
    finally:
        again.close()
    assert store.query("SELECT 2", {}) == [(2,)]


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ScanStoreError, match="unsupported scan store URL"):
        open_scan_store("mysql://localhost/db")


def test_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(ScanStoreError, match="cannot reach ClickHouse"):
        open_scan_store("http://127.0.0.1:1/analytics")


def test_busy_is_a_store_error() -> None:
    assert issubclass(ScanStoreBusy, ScanStoreError)
