"""The journal consumer: scans from the journal into every durable sink, exactly once.

One task per journal, in the process that owns it. It reads the next batch of records
(at most `max_rows`; it waits up to `max_wait` for a batch to fill, so a quiet redirector
still sends a scan within a fraction of a second), and then:

1. fsyncs the journal through the batch and writes the checkpoint with the batch's range
   as "in flight" (fsynced): a restart sends exactly this range again, never another cut;
2. enriches the records (`redirector.enrich`; deterministic for a given record);
3. commits the batch to every durable sink, each retried with backoff until it succeeds
   (a sink that is down holds the checkpoint; scans wait on disk, not in memory). The
   batch's token and the rows' keys come from the journal position, so a sink that had
   the batch already keeps one copy;
4. hands the rows to the best-effort listeners (live counts);
5. moves the checkpoint past the batch and deletes segments everything is past.

`aclose` works off everything journalled so far before it returns, unless a sink is still
failing after `close_timeout`: those scans stay in the journal for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import anyio

from core.retrying import Backoff, retry_until_done
from core.scans import ScanBatch, ScanListener, ScanRow, ScanSink
from redirector.enrich import Enricher
from redirector.journal import Checkpoint, Journal, Position
from redirector.journal_format import CorruptRecord, ScanFacts, TornRecord, decode_scan

log = logging.getLogger(__name__)

# Records decoded or enriched between two yields to the event loop: the consumer shares the
# loop with the redirect handler, and a 10,000-record batch in one go would stall it.
_CHUNK = 128


@dataclass(frozen=True)
class ConsumerStats:
    batches: int
    committed: int  # scans committed to every durable sink by this process
    corrupt: int  # unreadable records skipped (a torn tail after a power loss)
    failing_sinks: tuple[str, ...]  # sinks whose last attempt failed


@dataclass(frozen=True)
class _Span:
    segment: int
    start: int
    end: int
    facts: list[ScanFacts]
    offsets: list[int]


class _GaveUp(Exception):
    """Stopping while a sink still fails: the batch stays in the journal."""


class ScanConsumer:
    def __init__(
        self,
        journal: Journal,
        enricher: Enricher,
        sinks: Sequence[ScanSink],
        listeners: Sequence[ScanListener] = (),
        *,
        max_rows: int = 10_000,
        max_wait: float = 0.25,
        poll: float = 0.05,
        retry_first: float = 0.1,
        retry_max: float = 5.0,
        close_timeout: float = 10.0,
    ) -> None:
        self._journal = journal
        self._enricher = enricher
        self._sinks = tuple(sinks)
        self._listeners = tuple(listeners)
        self._max_rows, self._max_wait, self._poll = max_rows, max_wait, poll
        self._retry_first, self._retry_max = retry_first, retry_max
        self._backoffs = [Backoff(retry_first, retry_max) for _ in self._sinks]
        self._close_timeout = close_timeout
        self._close_deadline: float | None = None
        self._wake = asyncio.Event()
        self._pending_since: float | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = self.committed = self.corrupt = 0

    def stats(self) -> ConsumerStats:
        failing = tuple(
            type(sink).__name__
            for sink, backoff in zip(self._sinks, self._backoffs, strict=True)
            if backoff.waiting
        )
        return ConsumerStats(self.batches, self.committed, self.corrupt, failing)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scan-journal-consumer")

    async def aclose(self) -> None:
        """Commit everything journalled so far (bounded by `close_timeout`), then stop."""
        self._close_deadline = time.monotonic() + self._close_timeout
        self._wake.set()
        if self._task is not None:
            try:
                await self._task
            finally:
                self._task = None

    @property
    def _closing(self) -> bool:
        return self._close_deadline is not None

    async def _run(self) -> None:
        trouble = Backoff(self._retry_first, self._retry_max)
        while True:
            try:
                if not await self._step():
                    return
                trouble.succeeded()
            except _GaveUp:
                log.warning("stopping with scans still uncommitted: they stay in the journal")
                return
            except Exception:
                # The journal itself failed (disk): nothing is lost, the step is redone
                # from the checkpoint, which still names any batch in flight.
                log.exception("scan journal consumer failed; retrying")
                if self._past_close_deadline():
                    return
                await asyncio.sleep(trouble.failed())

    async def _step(self) -> bool:
        """Send one batch, or wait a little; False once closing and caught up."""
        checkpoint = self._journal.checkpoint
        if checkpoint.inflight:
            await self._replay_inflight(checkpoint)
            return True
        span = await self._next_span()
        if span is not None:
            await self._process(span, replayed=False)
            return True
        if self._closing:
            return False
        await self._wait()
        return True

    async def _replay_inflight(self, checkpoint: Checkpoint) -> None:
        committed = checkpoint.committed
        end = self._journal.readable_end(committed.segment)
        if end is None:  # the segment is gone: it had been committed past (see Journal.open)
            await self._journal.save_checkpoint(
                Checkpoint(committed, committed.offset), durable=True
            )
            return
        span = await self._read(committed, min(end, checkpoint.inflight_end), limit=None)
        log.info("scan journal: sending again the %d scans in flight at the last stop",
                 len(span.facts))  # fmt: skip
        await self._process(span, replayed=True)

    async def _next_span(self) -> _Span | None:
        """The next batch to send, or None when there is nothing (yet) worth sending."""
        while True:
            position = self._journal.checkpoint.committed
            end = self._journal.readable_end(position.segment)
            if end is None or (
                end <= position.offset and self._journal.is_sealed(position.segment)
            ):
                if not await self._advance_segment(position.segment):
                    return None
                continue
            if end <= position.offset:
                self._pending_since = None
                return None
            if not self._batch_is_due(position.segment):
                return None
            self._pending_since = None
            return await self._read(position, end, limit=self._max_rows)

    def _batch_is_due(self, segment: int) -> bool:
        now = time.monotonic()
        if self._pending_since is None:
            self._pending_since = now
        if self._closing or self._journal.is_sealed(segment):
            return True
        if self._journal.stats().backlog_rows >= self._max_rows:
            return True
        return now - self._pending_since >= self._max_wait

    async def _advance_segment(self, segment: int) -> bool:
        following = self._journal.next_segment(segment)
        if following is None:
            return False
        checkpoint = Checkpoint(Position(following, 0), 0)
        await self._journal.save_checkpoint(checkpoint, durable=True)
        await anyio.to_thread.run_sync(self._journal.remove_before, following)
        return True

    async def _read(self, position: Position, end: int, *, limit: int | None) -> _Span:
        data = self._journal.read(position, end)
        facts: list[ScanFacts] = []
        offsets: list[int] = []
        offset = 0
        while offset < len(data) and (limit is None or len(facts) < limit):
            try:
                scan, following = decode_scan(data, offset)
            except TornRecord:
                whole = len(data) == end - position.offset
                if whole and self._journal.is_sealed(position.segment):
                    self._skip_torn_tail(position.segment, len(data) - offset)
                    offset = len(data)
                break
            except CorruptRecord as exc:
                self.corrupt += 1
                log.error("scan journal %s: %s; record skipped",
                          self._journal.segment_path(position.segment), exc)  # fmt: skip
                offset = exc.next_offset
                continue
            facts.append(scan)
            offsets.append(position.offset + offset)
            offset = following
            if len(facts) % _CHUNK == 0:
                await asyncio.sleep(0)
        return _Span(position.segment, position.offset, position.offset + offset, facts, offsets)

    def _skip_torn_tail(self, segment: int, size: int) -> None:
        self.corrupt += 1
        path = self._journal.segment_path(segment)
        log.warning("scan journal %s: %d bytes of a torn record at the end, skipped", path, size)

    async def _process(self, span: _Span, *, replayed: bool) -> None:
        journal = self._journal
        if span.facts:
            journal.oldest_pending_at = span.facts[0].at
        await journal.sync_through(Position(span.segment, span.end))
        inflight = Checkpoint(Position(span.segment, span.start), span.end)
        await journal.save_checkpoint(inflight, durable=True)
        if span.facts:
            batch = await self._batch(span, replayed)
            await asyncio.gather(*(self._commit(index, batch) for index in range(len(self._sinks))))
            for listener in self._listeners:
                try:
                    listener.submit(batch)
                except Exception:
                    log.exception("scan listener %r failed", listener)
        await journal.save_checkpoint(Checkpoint(Position(span.segment, span.end), span.end),
                                      durable=False)  # fmt: skip
        more = journal.readable_end(span.segment) != span.end
        journal.mark_consumed(len(span.facts), span.facts[-1].at if more and span.facts else None)
        self.batches += 1
        self.committed += len(span.facts)

    async def _batch(self, span: _Span, replayed: bool) -> ScanBatch:
        prefix = f"{self._journal.id}-{span.segment}-"
        keys = [f"{prefix}{offset}" for offset in span.offsets]
        rows: list[ScanRow] = []
        for first in range(0, len(span.facts), _CHUNK):
            last = first + _CHUNK
            rows += await self._enricher.rows(span.facts[first:last], keys[first:last])
            await asyncio.sleep(0)  # redirects get their turn between chunks
        token = f"{prefix}{span.start}-{span.end}"
        return ScanBatch(token=token, rows=rows, keys=keys, replayed=replayed)

    async def _commit(self, index: int, batch: ScanBatch) -> None:
        sink = self._sinks[index]
        done = await retry_until_done(
            lambda: sink.commit(batch),
            self._backoffs[index],
            log,
            f"committing {len(batch.rows)} scans to {type(sink).__name__}",
            give_up=self._past_close_deadline,
        )
        if not done:
            raise _GaveUp

    def _past_close_deadline(self) -> bool:
        return self._close_deadline is not None and time.monotonic() >= self._close_deadline

    async def _wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll)
        self._wake.clear()
