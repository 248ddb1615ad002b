"""Scans over a Redis stream, for redirectors that cannot open an embedded (chdb) store.

`StreamSink` is a durable sink of a redirector's journal consumer: each batch becomes one
stream entry (`{"token", "rows"}`, the rows column by column), sent in one pipelined
round trip together with a length check. The journal checkpoint moves only once Redis
confirmed the XADD. The stream is never trimmed: when it holds `max_entries` unconsumed
entries the sink refuses more (`StreamFull`, retried with backoff by the consumer), so
a stalled drainer makes the backlog wait in the redirectors' journals on disk instead of
being cut off by MAXLEN.

`StreamDrainer` runs in the one process that owns the store: it reads with a consumer
group, hands each entry's rows with the entry's token to `ScanWriter.persist`, and
acknowledges (XACK, then XDEL to keep the stream short) only once they are stored or
spooled. An entry sent twice (a redirector died between XADD and its checkpoint) carries
the same token both times, so the store keeps one copy. Entries left pending by a
consumer that died are taken over with XAUTOCLAIM.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from analytics.rowcodec import RowDecodeError, decode_row, decode_rows, encode_rows
from analytics.writer import ScanWriter
from core.retrying import Backoff
from core.scans import ScanBatch, ScanRow

log = logging.getLogger(__name__)

STREAM = "qrmint:scans"
GROUP = "qrmint-analytics"
MAX_ENTRIES = 2_000  # unconsumed batches (each up to a consumer batch of rows)

Entry = tuple[Any, Any]  # (entry id, fields); str or bytes depending on the client


@dataclass(frozen=True)
class StreamSinkStats:
    published: int  # scans added to the stream (a batch sent again counts again)
    refused: int  # batches held back in the journal because the stream was full
    stream_entries: int  # entries waiting in the stream at the last round trip


@dataclass(frozen=True)
class DrainerStats:
    drained: int  # scans made durable from the stream
    rejected: int  # entries that were not scans, acknowledged and dropped


class StreamFull(Exception):
    """The drainer is behind: the batch waits in the journal until the stream shrinks."""


class StreamSink:
    """A core.scans.ScanSink publishing each batch as one stream entry."""

    def __init__(
        self, redis: aioredis.Redis, *, stream: str = STREAM, max_entries: int = MAX_ENTRIES
    ) -> None:
        self._redis = redis
        self._stream = stream
        self._max_entries = max_entries
        self._length = 0  # entries in the stream at the last round trip
        self.published = 0
        self.refused = 0  # batches held back because the stream was full

    async def commit(self, batch: ScanBatch) -> None:
        if self._length >= self._max_entries:
            self._length = int(await self._redis.xlen(self._stream))
            if self._length >= self._max_entries:
                self.refused += 1
                raise StreamFull(f"{self._length} entries wait in {self._stream}")
        # Off the event loop: a full batch takes tens of milliseconds to encode.
        encoded = await anyio.to_thread.run_sync(encode_rows, batch.rows)
        fields = {"token": batch.token, "rows": encoded}
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(self._stream, fields)  # type: ignore[arg-type]
            pipe.xlen(self._stream)
            _, length = await pipe.execute()
        self._length = int(length)
        self.published += len(batch.rows)

    def stats(self) -> StreamSinkStats:
        return StreamSinkStats(self.published, self.refused, self._length)


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
        batch_size: int = 16,
        block_ms: int = 500,
        claim_idle_ms: int = 60_000,
        retry_max: float = 5.0,
    ) -> None:
        self._redis = redis
        self._writer = writer
        self._stream = stream
        self._group = group
        self._consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self._batch_size = batch_size  # entries per read; each is stored on its own
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._backoff = Backoff(0.1, retry_max)
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.drained = 0
        self.rejected = 0  # entries that were not scan rows, acknowledged and dropped

    async def start(self) -> None:
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists already
            await self._redis.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        self._task = asyncio.create_task(self._run(), name="scan-stream-drainer")

    async def aclose(self) -> None:
        self._closing = True
        if self._task is not None:
            await self._task

    def stats(self) -> DrainerStats:
        return DrainerStats(self.drained, self.rejected)

    async def _run(self) -> None:
        own_pending = True  # first re-read what this consumer took before a restart
        while not self._closing:
            try:
                entries = await self._claim_dead()
                if not entries:
                    entries = await self._read(pending=own_pending)
                    own_pending = own_pending and bool(entries)
                for entry in entries:
                    await self._handle(entry)
                self._backoff.succeeded()
            except (RedisError, OSError) as exc:
                delay = self._backoff.failed()
                log.warning("draining the scan stream failed (retry in %.1fs): %s", delay, exc)
                await asyncio.sleep(delay)

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

    async def _handle(self, entry: Entry) -> None:
        entry_id, fields = entry
        try:
            rows, token = await anyio.to_thread.run_sync(_decode_entry, entry_id, fields or {})
        except RowDecodeError:
            log.error("dropping stream entry %s: not scan rows", entry_id)
            self.rejected += 1
            rows, token = [], ""
        await self._writer.persist(rows, token=token)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xack(self._stream, self._group, entry_id)
            pipe.xdel(self._stream, entry_id)
            await pipe.execute()
        self.drained += len(rows)


def _decode_entry(entry_id: Any, fields: dict[Any, Any]) -> tuple[list[ScanRow], str]:
    data = {_text(key): value for key, value in fields.items()}
    if "rows" in data and "token" in data:
        return decode_rows(data["rows"]), _text(data["token"])
    # One row per entry: written by a redirector of an earlier version, during an upgrade.
    return [decode_row(fields)], hashlib.sha256(_text(entry_id).encode()).hexdigest()[:32]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
