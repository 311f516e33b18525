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


def _record_end(buf: bytes) -> int:
    """Offset just past the last line end of ``buf`` outside quotes (``buf`` starts a record); -1 if none.

    A newline is outside quotes when the quotes before it are even in number (RFC 4180 writes a
    quote inside a quoted cell as two), so a cell holding a newline never splits across blocks.
    """
    pos = buf.rfind(b"\n")
    quotes = buf.count(b'"', 0, pos) if pos >= 0 else 0
    while pos >= 0:
        if quotes % 2 == 0:
            return pos + 1
        prev = buf.rfind(b"\n", 0, pos)
        if prev < 0:
            return -1
        quotes -= buf.count(b'"', prev, pos)
        pos = prev
    return -1


def _first_record_end(buf: bytes) -> int:
    """Offset just past the first line end of ``buf`` outside quotes (the header's end); -1 if none."""
    pos, quotes = buf.find(b"\n"), 0
    start = 0
    while pos >= 0:
        quotes += buf.count(b'"', start, pos)
        if quotes % 2 == 0:
            return pos + 1
        start, pos = pos, buf.find(b"\n", pos + 1)
    return -1


def csv_blocks(path: Path) -> Iterator[bytes]:
    """The data lines of a CSV/TSV file (header skipped) in blocks of about :data:`CHUNK_BYTES`,
    each ending at a record's end.

    The export parses each block on the calling thread (``pyarrow.csv.read_csv``): pyarrow's
    streaming reader reads up to 32 blocks ahead in a background thread (its generator's queue),
    which made the export's peak memory grow with the input's size, up to 32 x CHUNK_BYTES.
    Here one block is in memory at a time.
    """
    with open(path, "rb") as fh:
        rest, header_done = b"", False
        while True:
            data = fh.read(CHUNK_BYTES)
            buf = rest + data if rest else data
            if not header_done:
                end = _first_record_end(buf)
                if end < 0 and data:
                    rest = buf
                    continue
                buf, header_done = (buf[end:] if end >= 0 else b""), True
            if not data:
                if buf.strip():
                    yield buf
                return
            cut = _record_end(buf)
            if cut <= 0:
                rest = buf
                continue
            if buf[:cut].strip():
                yield buf[:cut]
            rest = buf[cut:]


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
                del frame  # not alive while the next chunk is read (see csv_blocks)
            return
        import pyarrow.csv as pacsv

        raw_names = _raw_header(path, suffix)
        by_name = dict(zip(names, raw_names))
        read = pacsv.ReadOptions(column_names=raw_names, use_threads=False, block_size=2 * CHUNK_BYTES)
        parse = pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
        convert = pacsv.ConvertOptions(
            column_types={n: pa.string() for n in raw_names},
            include_columns=[by_name[c] for c in wanted],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        for block in csv_blocks(path):
            read.block_size = len(block) + 1  # one record batch per block
            table = pacsv.read_csv(
                pa.py_buffer(block), read_options=read, parse_options=parse, convert_options=convert
            )
            frame = table.to_pandas()
            del table
            frame.columns = [str(c).strip() for c in frame.columns]
            yield frame
            del frame
    except ExportError:
        raise
    except Exception as err:  # pyarrow/pandas raise many types for unreadable files
        raise _unreadable(path, what, err) from None


def _raw_header(path: Path, suffix: str) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh, delimiter="\t" if suffix == ".tsv" else ","))
