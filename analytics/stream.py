"""Scans over a Redis stream, for redirectors that cannot open an embedded (chdb) store.

`StreamScanSink` runs in each redirector process: `submit` buffers, a background task
XADDs in pipelined batches and keeps rows (bounded) while Redis is unreachable.
`StreamDrainer` runs in the one process that owns the store: it reads with a consumer
group, hands rows to `ScanWriter.persist`, and acknowledges (XACK, then XDEL to keep the
stream short) only once they are stored or spooled. Entries left pending by a consumer
that died are taken over with XAUTOCLAIM. Delivery is at-least-once; a redelivered batch
of the same entries carries the same insert token, so the store usually keeps it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
from collections import deque
from typing import Any

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from analytics.rowcodec import RowDecodeError, decode_row, encode_row
from analytics.spool import Batch, Spool, SpoolCorrupt, new_batch
from analytics.writer import ScanWriter
from core.scans import ScanRow

log = logging.getLogger(__name__)

STREAM = "qrmint:scans"
GROUP = "qrmint-analytics"

_FIRST_RETRY = 0.1
Entry = tuple[Any, Any]  # (entry id, fields); str or bytes depending on the client


class StreamScanSink:
    """A core.scans.ScanListener publishing to the stream; call `submit` from the loop thread."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        stream: str = STREAM,
        batch_size: int = 500,
        max_buffered: int = 100_000,
        max_stream_length: int = 5_000_000,
        retry_max: float = 5.0,
        spool: Spool | None = None,
    ) -> None:
        self._redis = redis
        self._spool = spool
        self._stream = stream
        self._batch_size = batch_size
        self._max_stream_length = max_stream_length
        self._retry_max = retry_max
        self._rows: deque[ScanRow] = deque(maxlen=max_buffered)
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.dropped = 0  # oldest rows given up when Redis stayed down past max_buffered

    def submit(self, row: ScanRow) -> None:
        try:
            if len(self._rows) == self._rows.maxlen:
                self.dropped += 1
            self._rows.append(row)
            self._wake.set()
        except Exception:  # the redirect must answer whatever happens here
            log.exception("could not buffer a scan for the stream")

    @property
    def buffered(self) -> int:
        return len(self._rows)

    async def start(self) -> None:
        """Take back what an earlier stop had to keep on disk, then publish in the background."""
        if self._spool is not None:
            for batch in await anyio.to_thread.run_sync(_take_spooled, self._spool):
                self._rows.extend(batch.rows)
        self._task = asyncio.create_task(self._run())

    async def aclose(self) -> None:
        """Publish what is buffered (one attempt if Redis is down), keep the rest, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._rows and self._spool is not None:
            batch = new_batch(tuple(self._rows))
            await anyio.to_thread.run_sync(self._spool.write, batch)
            log.warning("Redis unreachable at shutdown: %d scans kept on disk", len(batch.rows))
            self._rows.clear()
        if self._rows:
            log.error("%d scans were not published: Redis unreachable at shutdown", len(self._rows))

    async def _run(self) -> None:
        delay = _FIRST_RETRY
        while True:
            if not self._rows:
                if self._closing:
                    return
                await self._wake.wait()
                self._wake.clear()
                continue
            try:
                await self._publish_batch()
                delay = _FIRST_RETRY
            except (RedisError, OSError) as exc:
                if self._closing:
                    return
                log.warning("publishing scans to Redis failed (retry in %.1fs): %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)

    async def _publish_batch(self) -> None:
        batch = [self._rows[index] for index in range(min(self._batch_size, len(self._rows)))]
        dropped_before = self.dropped
        async with self._redis.pipeline(transaction=False) as pipe:
            for row in batch:
                pipe.xadd(
                    self._stream,
                    encode_row(row),  # type: ignore[arg-type]
                    maxlen=self._max_stream_length,
                    approximate=True,
                )
            await pipe.execute()
        # Rows leave the buffer only once Redis has them. Overflow meanwhile discarded the
        # oldest, which were the first of this batch: only the rest are still to remove.
        for _ in range(max(0, len(batch) - (self.dropped - dropped_before))):
            self._rows.popleft()
        self.published += len(batch)


def _take_spooled(spool: Spool) -> list[Batch]:
    batches = []
    for entry in spool.recover():
        try:
            batches.append(spool.read(entry))
        except SpoolCorrupt:
            spool.quarantine(entry)
            continue
        spool.remove(entry)
    return batches


class StreamDrainer:
    """Reads the stream into a ScanWriter; acknowledges only durable rows."""

    def __init__(
        self,
        redis: aioredis.Redis,
        writer: ScanWriter,
        *,
        stream: str = STREAM,
        group: str = GROUP,
        consumer: str | None = None,
        batch_size: int = 2000,
        block_ms: int = 500,
        claim_idle_ms: int = 60_000,
        retry_max: float = 5.0,
    ) -> None:
        self._redis = redis
        self._writer = writer
        self._stream = stream
        self._group = group
        self._consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self._batch_size = batch_size
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._retry_max = retry_max
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.drained = 0
        self.rejected = 0  # entries that were not scan rows, acknowledged and dropped

    async def start(self) -> None:
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists already
            await self._redis.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        self._task = asyncio.create_task(self._run())

    async def aclose(self) -> None:
        self._closing = True
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        delay = _FIRST_RETRY
        own_pending = True  # first re-read what this consumer took before a restart
        while not self._closing:
            try:
                entries = await self._claim_dead()
                if not entries:
                    entries = await self._read(pending=own_pending)
                    own_pending = own_pending and bool(entries)
                if entries:
                    await self._handle(entries)
                delay = _FIRST_RETRY
            except (RedisError, OSError) as exc:
                log.warning("draining the scan stream failed (retry in %.1fs): %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)

    async def _claim_dead(self) -> list[Entry]:
        reply: Any = await self._redis.xautoclaim(
            self._stream,
            self._group,
            self._consumer,
            min_idle_time=self._claim_idle_ms,
            start_id="0-0",
            count=self._batch_size,
        )
        return list(reply[1]) if reply else []

    async def _read(self, *, pending: bool) -> list[Entry]:
        reply: Any = await self._redis.xreadgroup(
            self._group,
            self._consumer,
            {self._stream: "0" if pending else ">"},
            count=self._batch_size,
            block=None if pending else self._block_ms,
        )
        return [entry for _, entries in reply or [] for entry in entries]

    async def _handle(self, entries: list[Entry]) -> None:
        rows = []
        for entry_id, fields in entries:
            try:
                rows.append(decode_row(fields or {}))
            except RowDecodeError:
                log.error("dropping stream entry %s: not a scan row", entry_id)
                self.rejected += 1
        ids = [entry_id for entry_id, _ in entries]
        await self._writer.persist(rows, token=_token(ids))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xack(self._stream, self._group, *ids)
            pipe.xdel(self._stream, *ids)
            await pipe.execute()
        self.drained += len(rows)


def _token(ids: list[Any]) -> str:
    # The same entries redelivered together get the same insert-deduplication token.
    joined = ",".join(i.decode() if isinstance(i, bytes) else str(i) for i in ids)
    return hashlib.sha256(joined.encode()).hexdigest()[:32]
