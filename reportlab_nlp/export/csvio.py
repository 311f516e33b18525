"""Fast, atomic CSV writing with pyarrow: plain header, cells quoted only when they must be."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import OutputError
from ..outputs import publish, temp_path

_CELL_TEXT = ["", "1.0", "0.0", "-1.0"]  # CheXpert spelling of blank, positive, negative, uncertain


def label_cells(values: np.ndarray) -> pa.Array:
    """float32 label values (NaN blank) -> CheXpert's cell strings (dictionary-encoded: written as text)."""
    codes = np.zeros(len(values), dtype=np.int8)
    codes[values == 1.0] = 1
    codes[values == 0.0] = 2
    codes[values == -1.0] = 3
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(_CELL_TEXT))


def _needs_quotes(table: pa.Table) -> bool:
    """Whether a text cell holds a comma, quote or newline (dictionary columns are label cells: never)."""
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            if pc.any(pc.match_substring_regex(col, r'[",\r\n]')).as_py():
                return True
    return False


def _header(columns: Sequence[str]) -> bytes:
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(columns)
    return header.getvalue().encode("utf-8")


def append_csv(table: pa.Table, fh: BinaryIO) -> None:
    """Rows of ``table`` (no header) onto an open file; cells quoted only in a chunk that needs it."""
    if table.num_rows:
        style = "needed" if _needs_quotes(table) else "none"
        pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style=style))


def _write_csv(table: pa.Table, tmp: Path) -> None:
    with open(tmp, "wb") as fh:
        fh.write(_header(table.column_names))
        append_csv(table, fh)


class CsvSink:
    """One output CSV written chunk by chunk: the header first, then :meth:`write` per chunk."""

    def __init__(self, fh: BinaryIO, columns: Sequence[str]) -> None:
        self.fh = fh
        self.columns = list(columns)
        fh.write(_header(self.columns))

    def write(self, table: pa.Table) -> None:
        if table.column_names != self.columns:
            raise ValueError(f"chunk columns {table.column_names} differ from the header {self.columns}")
        append_csv(table, self.fh)


@contextlib.contextmanager
def atomic_files(paths: Iterable[Path]):
    """Yield {path: temp path}; on a clean exit every temp is renamed into place, else all are removed.

    The renames happen only after every file is complete, so an interrupted export leaves no
    final file half-written (a kill during the renames leaves some files new, none partial).
    """
    temps = {Path(p): temp_path(Path(p)) for p in paths}
    try:
        yield temps
    except BaseException:
        for tmp in temps.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    for final, tmp in temps.items():
        if tmp.exists():
            publish(tmp, final)


@contextlib.contextmanager
def csv_sinks(columns: Mapping[Path, Sequence[str]]) -> Iterator[dict[Path, CsvSink]]:
    """Open a :class:`CsvSink` per output (under its temporary name); all renamed into place on a
    clean exit, all removed otherwise (see :func:`atomic_files`)."""
    try:
        with atomic_files(columns) as temps, contextlib.ExitStack() as stack:
            sinks = {
                final: CsvSink(stack.enter_context(open(temps[final], "wb")), cols)
                for final, cols in columns.items()
            }
            yield sinks
    except OSError as err:
        raise OutputError(f"cannot write the export: {err.strerror}") from None


def write_tables(tables: Mapping[Path, pa.Table]) -> None:
    """Write several CSV files all-or-nothing (see :func:`atomic_files`)."""
    try:
        with atomic_files(tables) as temps:
            for final, table in tables.items():
                _write_csv(table, temps[final])
    except OSError as err:
        raise OutputError(f"cannot write the export: {err.strerror}") from None
