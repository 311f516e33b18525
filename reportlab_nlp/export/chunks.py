"""Reading a CSV/TSV/Parquet table chunk by chunk, every cell as text (pyarrow's streaming readers).

The export reads its inputs in chunks of about :data:`CHUNK_BYTES` of CSV (or
:data:`CHUNK_ROWS` Parquet rows), so its memory does not hold a whole input table.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from ..errors import E, ExportError

CHUNK_BYTES = 4 << 20  # CSV bytes per chunk (pyarrow block size): ~60,000 rows of metadata
CHUNK_ROWS = 65_536  # Parquet rows per chunk

_SUFFIXES = (".csv", ".tsv", ".parquet")


def _check(path: Path, what: str) -> str:
    if not path.is_file():
        raise ExportError(f"{what} {path} does not exist", code=E.RL701)
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ExportError(f"{what} {path.name}: use a .csv, .tsv or .parquet file", code=E.RL701)
    return suffix


def _unreadable(path: Path, what: str, err: Exception) -> ExportError:
    return ExportError(f"{what} {path.name} cannot be read ({type(err).__name__})", code=E.RL701)


def table_columns(path: Path, what: str) -> list[str]:
    """The column names (stripped) of a CSV/TSV header or a Parquet schema."""
    suffix = _check(path, what)
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            names = pq.ParquetFile(path).schema_arrow.names
        else:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                names = next(csv.reader(fh, delimiter="\t" if suffix == ".tsv" else ","), [])
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as err:
        raise _unreadable(path, what, err) from None
    except Exception as err:  # pyarrow raises its own types for unreadable Parquet files
        raise _unreadable(path, what, err) from None
    if not names:
        raise ExportError(f"{what} {path.name} has no header", code=E.RL701)
    return [str(c).strip() for c in names]


def iter_frames(path: Path, what: str, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
    """The table in chunks (pandas frames, stripped column names); CSV cells as text, empty = ``""``.

    ``columns`` (stripped names) limits what is read. Rows of all chunks are in file order.
    """
    import pyarrow as pa

    suffix = _check(path, what)
    names = table_columns(path, what)
    wanted = list(dict.fromkeys(columns)) if columns is not None else names
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            raw = {n.strip(): n for n in pf.schema_arrow.names}
            for batch in pf.iter_batches(batch_size=CHUNK_ROWS, columns=[raw[c] for c in wanted]):
                frame = batch.to_pandas()
                frame.columns = [str(c).strip() for c in frame.columns]
                yield frame
            return
        import pyarrow.csv as pacsv

        raw_names = _raw_header(path, suffix)
        by_name = dict(zip(names, raw_names))
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=raw_names, skip_rows=1, block_size=CHUNK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ","),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in raw_names},
                include_columns=[by_name[c] for c in wanted],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            frame = batch.to_pandas()
            frame.columns = [str(c).strip() for c in frame.columns]
            yield frame
    except ExportError:
        raise
    except Exception as err:  # pyarrow/pandas raise many types for unreadable files
        raise _unreadable(path, what, err) from None


def _raw_header(path: Path, suffix: str) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh, delimiter="\t" if suffix == ".tsv" else ","))
