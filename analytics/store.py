"""The scan store: one ClickHouse, embedded (`chdb://PATH`) or a server (`http(s)://host:8123/db`).

Both go through clickhouse_connect with the same SQL, so nothing above this module knows
which one it talks to. The clients are synchronous: callers run them in a worker thread.
The embedded engine can be opened by one process at a time, and by one path per process.
"""

from __future__ import annotations

import os
import queue
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from analytics.rowcodec import epoch_millis
from analytics.tables import BACKFILLS, MIGRATIONS, SCAN_COLUMNS
from core.scans import ScanRow

_TABLES = (
    "scans",
    "scans_daily",
    "scans_daily_view",
    "refusals_daily",
    "refusals_daily_view",
    "schema_steps",
)
# The embedded engine lives inside a qrmint process, beside the redirector: its caches are
# sized for one process's share of a small machine, not for a dedicated server (ClickHouse's
# defaults are 5 GiB each for marks and primary indexes). Measured: see docs/scans.md.
EMBEDDED_OPTIONS = {
    "mark_cache_size": 64 << 20,
    "primary_index_cache_size": 64 << 20,
    "index_mark_cache_size": 0,
    "uncompressed_cache_size": 0,
    "compiled_expression_cache_size": 32 << 20,
    "query_condition_cache_size": 16 << 20,
}
_READERS = 2  # a stats query is one raw-table scan beside two rollup reads


class ScanStoreError(Exception):
    """The scan store cannot be opened or used; the message says why, for a person."""


class ScanStoreBusy(ScanStoreError):
    """Another process owns the embedded store."""


class ScanStore:
    """A writer and a few readers on one store: a long insert never queues a stats query
    behind it, and the parts of one stats query run side by side (`query_many`)."""

    def __init__(self, url: str, readers: Sequence[Client], writer: Client, database: str) -> None:
        self.url = url
        self.database = database
        self._reader = readers[0]
        self._readers: queue.SimpleQueue[Client] = queue.SimpleQueue()
        for reader in readers:
            self._readers.put(reader)
        self._all_readers = tuple(readers)
        self._parallel = ThreadPoolExecutor(len(readers), thread_name_prefix="scan-store")
        self._writer = writer
        self._column_types: Sequence[Any] | None = None  # of `scans`, read at the first insert
        quoted = f"`{database.replace('`', '``')}`"
        self._names = {name: f"{quoted}.{name}" for name in _TABLES}

    def migrate(self) -> None:
        self._writer.command(f"CREATE DATABASE IF NOT EXISTS `{self.database}`")
        for statement in MIGRATIONS:
            self._writer.command(self._sql(statement))
        for step, statement in BACKFILLS:
            done = self._sql("SELECT count() FROM $schema_steps WHERE step = {step:String}")
            if int(self._writer.query(done, parameters={"step": step}).result_rows[0][0]):
                continue
            self._writer.command(self._sql(statement))
            self._writer.insert(self._names["schema_steps"], [[step]], column_names=["step"])

    def insert(self, rows: Sequence[ScanRow], *, token: str | None = None) -> None:
        """Columnar insert; the same `token` twice stores the batch once.

        Without a token a fresh one is used: deduplication must never compare contents,
        which could merge two genuinely identical batches.
        """
        if not rows:
            return
        settings = {
            "insert_deduplication_token": token or uuid.uuid4().hex,
            # The daily rollup is fed by the same insert: a replayed batch must skip it too.
            "deduplicate_blocks_in_dependent_materialized_views": 1,
        }
        context = self._writer.create_insert_context(
            self._names["scans"],
            column_names=SCAN_COLUMNS,
            column_types=self._column_types,  # known after the first insert: no lookup each time
            column_oriented=True,
            settings=settings,
        )
        self._column_types = context.column_types
        try:
            self._writer.insert(context=context, data=_columns(rows))
        finally:
            # The context refers to itself (it keeps a bound method of its own), so it and
            # the batch it holds would wait for a full garbage collection, which the servers
            # run rarely (qrmint.servers): under load that was megabytes per insert.
            context.data = None
            vars(context).pop("_next_block_data", None)

    def query(self, sql: str, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run `sql` ($scans names the table) with server-side bound parameters."""
        result = self._reader.query(self._sql(sql), parameters=dict(parameters))
        return [tuple(row) for row in result.result_rows]

    def query_many(
        self, statements: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[list[tuple[Any, ...]]]:
        """Run independent queries at once, each on its own reader; results in order."""
        futures = [self._parallel.submit(self._pooled, sql, params) for sql, params in statements]
        return [future.result() for future in futures]

    def _pooled(self, sql: str, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        reader = self._readers.get()
        try:
            result = reader.query(self._sql(sql), parameters=dict(parameters))
            return [tuple(row) for row in result.result_rows]
        finally:
            self._readers.put(reader)

    def close(self) -> None:
        self._parallel.shutdown()
        self._writer.close()
        for reader in self._all_readers:
            reader.close()

    def _sql(self, sql: str) -> str:
        return Template(sql).substitute(self._names)


def open_scan_store(url: str) -> ScanStore:
    """Connect to the store named by QRMINT_CLICKHOUSE_URL; raises ScanStoreError (or Busy)."""
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        return _open_embedded(url, Path(unquote(parts.path)).resolve())
    if parts.scheme in ("http", "https"):
        return _open_server(url)
    raise ScanStoreError(f"unsupported scan store URL {url!r}; expected chdb://PATH or http(s)://")


def _open_embedded(url: str, path: Path) -> ScanStore:
    path.mkdir(parents=True, exist_ok=True)
    dsn = f"chdb://{path}"
    clients: list[Client] = []
    try:
        for _ in range(_READERS + 1):
            clients.append(_connect_embedded(dsn, path))
    except BaseException:
        for client in clients:
            client.close()
        raise
    return ScanStore(url, clients[1:], clients[0], "default")


def _connect_embedded(dsn: str, path: Path) -> Client:
    try:
        with _engine_stderr_muted():
            return clickhouse_connect.get_client(dsn=dsn, chdb_options=EMBEDDED_OPTIONS)
    except ClickHouseError as exc:
        raise _embedded_error(exc, path) from exc


@contextmanager
def _engine_stderr_muted() -> Iterator[None]:
    # The embedded engine prints its own start-up failures (e.g. "Cannot lock file") to
    # fd 2 before raising; the exception already says it, and users get one line from us.
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _embedded_error(exc: Exception, path: Path) -> ScanStoreError:
    message = str(exc)
    if "Error initializing EmbeddedServer" in message or "Cannot lock file" in message:
        return ScanStoreBusy(
            f"the analytics store at {path} is in use by another qrmint process "
            "(is `qrmint serve` running?)"
        )
    if "already initialized with path" in message:
        return ScanStoreError(
            f"this process already opened another analytics store; cannot also open {path}"
        )
    return ScanStoreError(f"cannot open the analytics store at {path}: {message}")


def _open_server(url: str) -> ScanStore:
    parts = urlsplit(url)
    database = unquote(parts.path.strip("/")) or "default"
    # The database may not exist before `migrate`, so connect to the server's default one.
    dsn = urlunsplit((parts.scheme, parts.netloc, "", parts.query, ""))
    options: dict[str, Any] = {"autogenerate_session_id": False, "send_receive_timeout": 30}
    try:
        clients = [clickhouse_connect.get_client(dsn=dsn, **options) for _ in range(_READERS + 1)]
    except ClickHouseError as exc:
        safe = urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))
        raise ScanStoreError(f"cannot reach ClickHouse at {safe}: {exc}") from exc
    return ScanStore(url, clients[1:], clients[0], database)


def _columns(rows: Sequence[ScanRow]) -> list[list[Any]]:
    # Attribute access per column beats building row tuples and transposing them; times go
    # as integer ticks so a naive datetime is never read as local time.
    columns = [[getattr(row, name) for row in rows] for name in SCAN_COLUMNS[1:]]
    return [[epoch_millis(row.scanned_at) for row in rows], *columns]
