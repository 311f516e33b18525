"""Fast, atomic CSV writing with pyarrow: plain header, cells quoted only when they must be."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

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


def _write_csv(table: pa.Table, tmp: Path) -> None:
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(table.column_names)
    style = "needed" if _needs_quotes(table) else "none"
    with open(tmp, "wb") as fh:
        fh.write(header.getvalue().encode("utf-8"))
        if table.num_rows:
            pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style=style))


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


def write_tables(tables: Mapping[Path, pa.Table]) -> None:
    """Write several CSV files all-or-nothing (see :func:`atomic_files`)."""
    try:
        with atomic_files(tables) as temps:
            for final, table in tables.items():
                _write_csv(table, temps[final])
    except OSError as err:
        raise OutputError(f"cannot write the export: {err.strerror}") from None
