"""Writing tables (CSV, TSV, Parquet, JSONL) chunk by chunk, rejects files, and label tables.

A label table is the input id column (under its input name) followed by the taxonomy's labels
in canonical order, cells encoded as in ``rules/labels.yml`` (1.0 / 0.0 / -1.0 / blank).

Every writer is atomic: it writes under a temporary name in the target folder
(``.<name>.<pid>.tmp``) and renames the file into place (``os.replace``) when it is closed after
a clean run. ``abort()`` (or leaving a ``with`` block through an exception) removes the
temporary file, so a file at the final name is always complete.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

from .errors import GoldTableError, InputFormatError, OutputError
from .inputs import Reject, detect_format
from .schema import LABEL_SCHEMA


def _fmt_for_output(path: Path) -> str:
    if str(path) in ("/dev/null", os.devnull):
        return "null"
    try:
        fmt = detect_format(path) if not path.is_dir() else "txtdir"
    except InputFormatError:
        raise OutputError(
            f"cannot tell the output format of {path.name}: use .csv, .tsv, .jsonl or .parquet"
        ) from None
    if fmt == "txtdir":
        raise OutputError(f"output {path} is a directory; give a .csv, .tsv, .jsonl or .parquet file name")
    return fmt


def temp_path(path: Path) -> Path:
    """The temporary name a writer uses for ``path``: hidden, in the same folder (same file system)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def publish(tmp: Path, path: Path) -> None:
    """Flush ``tmp`` to disk and rename it to ``path`` in one step."""
    try:
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror}") from None


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()


def _mkdir_for(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create folder {path.parent}: {err.strerror}") from None


class TableWriter:
    """Append DataFrame chunks to one CSV/TSV/JSONL/Parquet file with a fixed column list."""

    def __init__(
        self, path: str | Path, columns: Sequence[str] | None = None, float_columns: Sequence[str] = ()
    ):
        self.path = Path(path)
        self.format = _fmt_for_output(self.path)
        self.columns = list(columns) if columns is not None else None
        self.float_columns = list(float_columns)
        self.rows = 0
        self._pq: Any = None  # a pyarrow.parquet.ParquetWriter once the first parquet chunk is written
        self._schema: Any = None
        self._fh: IO[str] | None = None
        self._tmp = temp_path(self.path)
        self._done = False
        if self.format != "null":
            _mkdir_for(self.path)

    def write(self, frame: pd.DataFrame) -> None:
        if self.columns is None:
            self.columns = list(frame.columns)
        frame = frame.reindex(columns=self.columns)
        for c in self.float_columns:
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
        self.rows += len(frame)
        if self.format == "null":
            return
        try:
            if self.format in ("csv", "tsv"):
                if self._fh is None:
                    self._fh = open(self._tmp, "w", encoding="utf-8", newline="")
                    header = True
                else:
                    header = False
                frame.to_csv(
                    self._fh,
                    sep="," if self.format == "csv" else "\t",
                    index=False,
                    header=header,
                    na_rep="",
                    lineterminator="\n",
                    quoting=_quoting_for(frame),
                )
            elif self.format == "jsonl":
                if self._fh is None:
                    self._fh = open(self._tmp, "w", encoding="utf-8")
                for rec in frame.to_dict(orient="records"):
                    self._fh.write(
                        json.dumps({k: _jsonable(v) for k, v in rec.items()}, ensure_ascii=False) + "\n"
                    )
            elif self.format == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                table = pa.Table.from_pandas(frame, preserve_index=False)
                if self._pq is None:
                    self._schema = table.schema
                    self._pq = pq.ParquetWriter(self._tmp, self._schema)
                else:
                    table = table.cast(self._schema)
                self._pq.write_table(table)
        except OSError as err:
            raise OutputError(f"cannot write {self.path}: {err.strerror}") from None

    def close(self) -> None:
        """Finish the file and rename it into place (an empty result still gets a valid file)."""
        if self._done:
            return
        self._done = True
        if self.format == "null":
            return
        try:
            if self.format == "parquet" and self._pq is None and self.columns is not None:
                import pyarrow as pa
                import pyarrow.parquet as pq

                empty = pd.DataFrame(
                    {
                        c: pd.Series(dtype="float64" if c in self.float_columns else "object")
                        for c in self.columns
                    }
                )
                pq.write_table(pa.Table.from_pandas(empty, preserve_index=False), self._tmp)
            if self.format in ("csv", "tsv") and self._fh is None and self.columns is not None:
                with open(self._tmp, "w", encoding="utf-8", newline="") as fh:
                    csv.writer(
                        fh, delimiter="," if self.format == "csv" else "\t", lineterminator="\n"
                    ).writerow(self.columns)
            if self.format == "jsonl" and self._fh is None:
                open(self._tmp, "w").close()
            if self._pq is not None:
                self._pq.close()
            if self._fh is not None:
                self._fh.close()
        except OSError as err:
            _discard(self._tmp)
            raise OutputError(f"cannot write {self.path}: {err.strerror}") from None
        if self._tmp.exists():
            publish(self._tmp, self.path)

    def abort(self) -> None:
        """Drop what was written: nothing appears at the final name."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(Exception):
            if self._pq is not None:
                self._pq.close()
            if self._fh is not None:
                self._fh.close()
        _discard(self._tmp)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _quoting_for(frame: pd.DataFrame) -> int:
    """csv's minimal quoting, or quoting every text cell when one holds a carriage return.

    Python's csv writer quotes only the characters of its line terminator (``\\n``), so a bare
    ``\\r`` inside a text would go out unquoted and split the record for any reader.
    """
    for col in frame.columns:
        if (
            not pd.api.types.is_numeric_dtype(frame[col])
            and frame[col].map(lambda v: isinstance(v, str) and "\r" in v).any()
        ):
            return csv.QUOTE_NONNUMERIC
    return csv.QUOTE_MINIMAL


def write_csv_row(fh: IO[str], row: Sequence[Any], delimiter: str = ",") -> None:
    """One CSV row ending in ``\\n``, with fields holding ``\\r`` or ``\\n`` quoted."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerow(row)  # quotes \r and \n
    fh.write(buf.getvalue()[:-2] + "\n")


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


class JsonlWriter:
    """Append dict records to a JSONL file (evidence, spans); atomic like :class:`TableWriter`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.count = 0
        self._tmp = temp_path(self.path)
        self._done = False
        _mkdir_for(self.path)
        try:
            self._fh = open(self._tmp, "w", encoding="utf-8")
        except OSError as err:
            raise OutputError(f"cannot write {self.path}: {err.strerror}") from None

    def write_many(self, records: Iterable[dict[str, Any]]) -> None:
        try:
            for r in records:
                self._fh.write(json.dumps(r, ensure_ascii=False) + "\n")
                self.count += 1
        except OSError as err:
            raise OutputError(f"cannot write {self.path}: {err.strerror}") from None

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        self._fh.close()
        publish(self._tmp, self.path)

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            self._fh.close()
        _discard(self._tmp)

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def default_rejects_path(output: str | Path) -> Path:
    out = Path(output)
    if str(out) in ("/dev/null", os.devnull):
        return Path("rejects.csv")
    return out.with_name(out.name.split(".")[0] + ".rejects.csv")


class RejectsWriter:
    """``<id column>,code,reason`` rows; the file is written only if there is a reject (atomically)."""

    def __init__(self, path: str | Path, id_column: str):
        self.path = Path(path)
        self.id_column = id_column
        self.count = 0
        self._fh: IO[str] | None = None
        self._tmp = temp_path(self.path)
        self._done = False

    def write(self, rejects: Iterable[Reject]) -> None:
        try:
            for r in rejects:
                if self._fh is None:
                    _mkdir_for(self.path)
                    self._fh = open(self._tmp, "w", encoding="utf-8", newline="")
                    write_csv_row(self._fh, [self.id_column, "code", "reason"])
                write_csv_row(self._fh, [r.record_id, r.code, r.reason])
                self.count += 1
        except OSError as err:
            raise OutputError(f"cannot write rejects file {self.path}: {err.strerror}") from None

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        if self._fh is not None:
            self._fh.close()
            publish(self._tmp, self.path)

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            _discard(self._tmp)

    def __enter__(self) -> RejectsWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def label_frame(
    id_column: str, ids: Sequence[str], rows: Sequence[dict[str, Any]], label_names: Sequence[str]
) -> pd.DataFrame:
    """Build a label table chunk: id column then labels in canonical order, float cells, NaN = blank."""
    data: dict[str, Any] = {id_column: list(ids)}
    for name in label_names:
        data[name] = [float("nan") if r.get(name) is None else float(r[name]) for r in rows]
    return pd.DataFrame(data, columns=[id_column, *label_names])


def read_small_table(path: str | Path, what: str) -> pd.DataFrame:
    """Read a whole CSV/TSV/JSONL/Parquet table (gold labels, spans) with string cells.

    ``what`` names the table in errors ("label table", "spans table").
    """
    p = Path(path)
    if not p.exists():
        raise GoldTableError(f"{what} {p} does not exist")
    fmt = detect_format(p)  # an unknown extension is an InputFormatError naming the file
    try:
        if fmt == "parquet":
            return pd.read_parquet(p)
        if fmt == "jsonl":
            return pd.read_json(p, lines=True, dtype=False)
        return pd.read_csv(p, sep="," if fmt == "csv" else "\t", dtype=str, keep_default_na=False)
    except Exception as err:  # pandas/pyarrow raise many types for unreadable files
        raise GoldTableError(f"{what} {p.name} cannot be read ({type(err).__name__})") from None


def read_label_table(
    path: str | Path,
    label_names: Sequence[str],
    id_column: str | None = None,
    aliases: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, str]:
    """Read a label table (CSV/TSV/Parquet/JSONL) and validate its cells.

    Returns the frame indexed by id (as str) with the labels present in the file (canonical
    names; ``aliases`` maps other column names to canonical ones), and the id column name.
    """
    p = Path(path)
    frame = read_small_table(p, "label table")
    aliases = aliases or {}
    frame = frame.rename(
        columns={c: aliases[c] for c in frame.columns if c in aliases and aliases[c] not in frame.columns}
    )
    if id_column is None:
        id_column = str(frame.columns[0])
    if id_column not in frame.columns:
        raise GoldTableError(f"label table {p.name} has no id column {id_column!r}")
    present = [n for n in label_names if n in frame.columns]
    if not present:
        raise GoldTableError(f"label table {p.name} has none of the labels {', '.join(label_names)}")
    out = pd.DataFrame(index=frame[id_column].astype(str))
    out.index.name = id_column
    for name in present:
        col = []
        for i, v in enumerate(frame[name].tolist()):
            try:
                parsed = LABEL_SCHEMA.parse_cell(v)
            except (ValueError, TypeError):
                raise GoldTableError(
                    f"label table {p.name}: row {i + 2}, column {name!r} holds a value that is not 1, 0, -1 "
                    "or blank"
                ) from None
            col.append(float("nan") if parsed is None else parsed)
        out[name] = col
    if out.index.has_duplicates:
        dup = out.index[out.index.duplicated()][0]
        raise GoldTableError(f"label table {p.name}: id {dup!r} appears more than once")
    return out, id_column
