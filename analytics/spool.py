"""The on-disk spool: scan batches that could not reach the store yet.

One file per batch, named `<time_ns>-<rows>-<token>.scans`, one JSON object per line
(analytics.rowcodec). A batch is written to a `.part` file, fsynced, then renamed: a
completed name is the promise that every row is on disk, and a `.part` left by a crash is
never replayed (its rows were still only in memory). The token in the name is the batch's
insert-deduplication token, so a replay that races a slow earlier insert stores it once.
Every method does blocking I/O: call it from a worker thread.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from analytics.rowcodec import RowDecodeError, decode_row, encode_row
from core.scans import ScanRow

_MAX_DIRECTORIES = 64

log = logging.getLogger(__name__)

_SUFFIX = ".scans"
_PARTIAL = ".part"
_BAD = ".bad"


@dataclass(frozen=True)
class Batch:
    token: str  # insert-deduplication token: the same batch is stored once
    rows: tuple[ScanRow, ...]


def new_batch(rows: tuple[ScanRow, ...]) -> Batch:
    return Batch(uuid.uuid4().hex, rows)


@dataclass(frozen=True)
class SpoolFile:
    path: Path
    token: str
    rows: int


class SpoolCorrupt(Exception):
    """A completed spool file cannot be read back; it is set aside, not retried forever."""


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def recover(self) -> list[SpoolFile]:
        """Create the directory, drop unfinished writes, list completed batches oldest first."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for partial in self.directory.glob(f"*{_PARTIAL}"):
            partial.unlink(missing_ok=True)
        files = (_parse_name(path) for path in sorted(self.directory.glob(f"*{_SUFFIX}")))
        return [entry for entry in files if entry is not None]

    def write(self, batch: Batch) -> SpoolFile:
        name = f"{time.time_ns():020d}-{len(batch.rows)}-{batch.token}{_SUFFIX}"
        final = self.directory / name
        partial = final.with_name(name + _PARTIAL)
        with partial.open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(encode_row(row)) + "\n" for row in batch.rows)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, final)
        _fsync_directory(self.directory)
        return SpoolFile(final, batch.token, len(batch.rows))

    def read(self, entry: SpoolFile) -> Batch:
        try:
            with entry.path.open(encoding="utf-8") as handle:
                rows = tuple(decode_row(json.loads(line)) for line in handle if line.strip())
        except (OSError, ValueError, RowDecodeError) as exc:
            raise SpoolCorrupt(f"{entry.path}: {exc}") from exc
        return Batch(entry.token, rows)

    def remove(self, entry: SpoolFile) -> None:
        entry.path.unlink(missing_ok=True)

    def quarantine(self, entry: SpoolFile) -> None:
        log.error("scan spool file %s is unreadable; kept as %s%s", entry.path, entry.path, _BAD)
        try:
            entry.path.rename(entry.path.with_name(entry.path.name + _BAD))
        except FileNotFoundError:
            log.warning("scan spool file %s vanished before it could be set aside", entry.path)


def claim_directory(root: Path) -> tuple[Path, int]:
    """An exclusive spool directory under `root` for this process (`root/0`, `root/1`, ...).

    Several writer processes may share a data dir; each locks its own directory (released
    when the process ends, however it ends), and a directory left by a process that died
    is picked up, spool and all, by the next one to start. Returns the path and the lock's
    file descriptor, which must stay open for as long as the spool is used.
    """
    for number in range(_MAX_DIRECTORIES):
        directory = root / str(number)
        directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        return directory, descriptor
    raise OSError(f"all {_MAX_DIRECTORIES} scan spool directories under {root} are in use")


def _parse_name(path: Path) -> SpoolFile | None:
    parts = path.name.removesuffix(_SUFFIX).split("-", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        log.warning("ignoring unexpected file in the scan spool: %s", path)
        return None
    return SpoolFile(path, parts[2], int(parts[1]))


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry itself is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
