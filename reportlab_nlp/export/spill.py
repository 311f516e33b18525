"""Records on disk, in partitions: what lets ``export`` decide every row in bounded memory.

A :class:`Spill` holds fixed-width numpy records (a structured dtype) appended with ``tofile`` to
one file per partition, and gives them back one partition at a time. ``export`` partitions by
the top bits of a 64-bit key hash (:func:`hash_bits`, :func:`top_bits`), so all records of one
key (a report, an image, a patient) meet in one partition, or by row number (``row // rows``),
so that a :class:`RowTable` can hand pass 2 the decisions of consecutive rows in step with the
file it streams. A partition holds about :data:`PARTITION_ROWS` records or fewer, whatever the
input's size: memory depends on that budget and on the chunk size, not on the number of rows.

:class:`Workdir` is the private temporary folder that holds the files; it is removed when the
export's plan is closed or garbage-collected, and at interpreter exit (an error, Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import weakref
from pathlib import Path

import numpy as np

PARTITION_ROWS = 262_144  # default budget: records per partition (and rows per decision bucket)
MAX_BITS = 16  # at most 65,536 partitions


_PREFIX = "reportlab-export-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_workdirs(root: Path) -> list[Path]:
    """Remove the temporary folders of exports that were killed (``kill -9``): those named
    ``reportlab-export-<pid>-*`` whose process no longer runs. Returns what was removed."""
    removed = []
    for path in root.glob(f"{_PREFIX}*-*"):
        pid = path.name[len(_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class Workdir:
    """A private temporary folder (``tempfile``'s, ``TMPDIR``), removed by :meth:`close`, on garbage
    collection of its owner or at interpreter exit; a killed export's folder is removed by the next
    export (:func:`remove_stale_workdirs`)."""

    def __init__(self) -> None:
        root = Path(tempfile.gettempdir())
        remove_stale_workdirs(root)
        self.path = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=root))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def close(self) -> None:
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive


def hash_bits(rows_upper: int, budget: int) -> int:
    """Bits of the key hash that choose a partition: the fewest giving at most ``budget`` records
    per partition on average for ``rows_upper`` records (capped at :data:`MAX_BITS`)."""
    bits = 0
    while bits < MAX_BITS and rows_upper > budget * (1 << bits):
        bits += 1
    return bits


def top_bits(h: np.ndarray, bits: int) -> np.ndarray:
    """Partition of each 64-bit hash: its top ``bits`` bits (0 when ``bits`` is 0)."""
    if bits == 0:
        return np.zeros(len(h), dtype=np.int64)
    return (h >> np.uint64(64 - bits)).astype(np.int64)


class Spill:
    """Records of one dtype in ``parts`` append-only files, ``<name>.<part>.bin`` under ``folder``."""

    def __init__(self, folder: Path, name: str, dtype: np.dtype, parts: int) -> None:
        self.folder, self.name, self.dtype, self.parts = folder, name, np.dtype(dtype), parts
        self.counts = np.zeros(parts, dtype=np.int64)

    def path(self, part: int) -> Path:
        return self.folder / f"{self.name}.{part}.bin"

    def add(self, records: np.ndarray, part: np.ndarray) -> None:
        """Append each record to its partition's file (one write per partition present)."""
        if not len(records):
            return
        order = np.argsort(part, kind="stable")
        rec, sorted_part = records[order], part[order]
        bounds = np.searchsorted(sorted_part, np.arange(self.parts + 1))
        for p in np.flatnonzero(np.diff(bounds)):
            with open(self.path(int(p)), "ab") as fh:
                rec[bounds[p] : bounds[p + 1]].tofile(fh)
            self.counts[p] += bounds[p + 1] - bounds[p]

    def read(self, part: int) -> np.ndarray:
        """The records of one partition, in the order they were added."""
        if not self.counts[part]:
            return np.zeros(0, dtype=self.dtype)
        return np.fromfile(self.path(part), dtype=self.dtype)

    def drop(self, part: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(part).unlink()


class RowTable:
    """Dense per-row records (``fill`` where none was added) read sequentially from a :class:`Spill`
    partitioned by ``row // rows``; each record has a ``row`` field. One bucket in memory at a time."""

    def __init__(self, spill: Spill, rows: int, fill: np.ndarray) -> None:
        self.spill, self.rows, self.fill = spill, rows, fill
        self._bucket = -1
        self._dense = np.zeros(0, dtype=spill.dtype)

    def _load(self, bucket: int) -> np.ndarray:
        if bucket != self._bucket:
            dense = np.repeat(self.fill, self.rows) if bucket < self.spill.parts else self.fill[:0]
            if bucket < self.spill.parts:
                rec = self.spill.read(bucket)
                dense[rec["row"] - bucket * self.rows] = rec
                dense["row"] = np.arange(bucket * self.rows, (bucket + 1) * self.rows)
            self._bucket, self._dense = bucket, dense
        return self._dense

    def get(self, lo: int, hi: int) -> np.ndarray:
        """Records of rows ``lo`` .. ``hi - 1``, in row order."""
        parts = []
        while lo < hi:
            bucket = lo // self.rows
            end = min(hi, (bucket + 1) * self.rows)
            parts.append(self._load(bucket)[lo - bucket * self.rows : end - bucket * self.rows])
            lo = end
        return np.concatenate(parts) if parts else self.fill[:0]
