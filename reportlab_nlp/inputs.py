"""Reading report archives: CSV, TSV, JSONL, Parquet, or a directory of ``.txt`` files.

Archives are streamed in chunks (pandas DataFrames) so memory stays flat on inputs larger
than RAM. Record-level problems (empty text, text that is not a string, a JSON line that does
not parse, a file that is not UTF-8) never stop the stream: each becomes a :class:`Reject`
that the caller writes to its rejects file. No message here contains report text.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd

from .errors import ColumnError, InputFormatError

log = logging.getLogger(__name__)

DEFAULT_ID_COLUMN = "report_id"
DEFAULT_TEXT_COLUMN = "report"
ID_CANDIDATES = ("report_id", "id", "study_id", "accession", "accession_number", "note_id", "document_id", "doc_id", "uid", "filename")
TEXT_CANDIDATES = ("report", "text", "report_text", "note", "note_text", "body", "content", "document")
FORMATS = ("csv", "tsv", "jsonl", "parquet", "txtdir")


@dataclass
class Reject:
    """A record that could not be processed; ``reason`` never contains report text."""

    record_id: str
    reason: str
    code: str = "RL102"


@dataclass
class Chunk:
    """A slice of the archive: the good rows (all input columns kept) and this slice's rejects."""

    frame: pd.DataFrame
    rejects: list[Reject] = field(default_factory=list)

    @property
    def n_in(self) -> int:
        return len(self.frame) + len(self.rejects)


def detect_format(path: str | Path) -> str:
    p = Path(path)
    if p.is_dir():
        return "txtdir"
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zst", ".xz"):
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    mapping = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
    if ext not in mapping:
        raise InputFormatError(
            f"cannot tell the format of {p.name}: expected .csv, .tsv, .jsonl, .parquet or a directory of .txt files"
        )
    return mapping[ext]


def validate_records(ids: list, texts: list, row_labels: list, seen_ids: set[str]) -> tuple[list[int], list[Reject]]:
    """Positions of usable records and a Reject for each other one (in input order).

    A record needs a non-empty id not seen before (``seen_ids`` is updated) and a non-empty
    string text. ``row_labels`` name rows without an id (``<row N>``).
    """
    keep: list[int] = []
    rejects: list[Reject] = []
    for i, (rid, text) in enumerate(zip(ids, texts)):
        rid_s = "" if rid is None or (isinstance(rid, float) and rid != rid) else str(rid)
        if not rid_s.strip():
            rejects.append(Reject(f"<row {row_labels[i]}>", "missing record id", "RL103"))
        elif rid_s in seen_ids:
            rejects.append(Reject(rid_s, "duplicate record id", "RL104"))
        elif text is None or (isinstance(text, float) and text != text):
            rejects.append(Reject(rid_s, "report text is missing", "RL105"))
        elif not isinstance(text, str):
            rejects.append(Reject(rid_s, f"report text is a {type(text).__name__}, not a string", "RL106"))
        elif not text.strip():
            rejects.append(Reject(rid_s, "report text is empty", "RL107"))
        else:
            seen_ids.add(rid_s)
            keep.append(i)
    return keep, rejects


class ReportSource:
    """An archive of reports with resolved id and text columns.

    >>> src = ReportSource("reports.csv")            # doctest: +SKIP
    >>> for chunk in src.chunks(1000): ...           # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | Path,
        id_column: str | None = None,
        text_column: str | None = None,
        *,
        required_columns: Sequence[str] = (),
        fmt: str | None = None,
    ):
        self.path = Path(path)
        if not self.path.exists():
            raise InputFormatError(f"input {self.path} does not exist")
        self.format = fmt or detect_format(self.path)
        if self.format not in FORMATS:
            raise InputFormatError(f"unknown input format {self.format!r}; expected one of {', '.join(FORMATS)}")
        self.notes: list[str] = []
        columns = self._columns()
        self.columns = columns
        self.id_column = self._pick(columns, id_column, DEFAULT_ID_COLUMN, ID_CANDIDATES, "id", "--id-column")
        self.text_column = self._pick(columns, text_column, DEFAULT_TEXT_COLUMN, TEXT_CANDIDATES, "text", "--text-column")
        for col in required_columns:
            if col not in columns:
                raise ColumnError(f"{self.path.name} has no column {col!r}; columns are: {', '.join(columns)}")

    # -- column discovery -------------------------------------------------------------
    def _columns(self) -> list[str]:
        if self.format == "txtdir":
            return ["report_id", "report"]
        if self.format in ("csv", "tsv"):
            try:
                head = pd.read_csv(self.path, sep="," if self.format == "csv" else "\t", nrows=0, dtype=str)
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
                raise InputFormatError(f"{self.path.name} is not a readable {self.format.upper()} file ({type(err).__name__})") from None
            return [str(c) for c in head.columns]
        if self.format == "parquet":
            import pyarrow.parquet as pq

            try:
                return list(pq.ParquetFile(self.path).schema_arrow.names)
            except Exception as err:  # pyarrow raises several types for a broken file
                raise InputFormatError(f"{self.path.name} is not a readable Parquet file ({type(err).__name__})") from None
        # jsonl: union of keys over the first 100 parsable lines
        cols: list[str] = []
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for i, line in enumerate(fh):
                if i >= 100:
                    break
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(obj, dict):
                    for k in obj:
                        if k not in cols:
                            cols.append(str(k))
        if not cols:
            raise InputFormatError(f"{self.path.name} has no JSON object lines in its first 100 lines")
        return cols

    def _pick(self, columns, given, default, candidates, what, flag) -> str:
        if given:
            if given not in columns:
                raise ColumnError(f"{self.path.name} has no {what} column {given!r}; columns are: {', '.join(columns)}")
            return given
        if default in columns:
            return default
        lower = {c.lower(): c for c in columns}
        for cand in candidates:
            if cand in lower:
                chosen = lower[cand]
                note = f"using column {chosen!r} as the report {what} (no {default!r} column; pass {flag} to choose another)"
                self.notes.append(note)
                log.info(note)
                return chosen
        raise ColumnError(
            f"{self.path.name} has no {what} column: looked for {default!r} and {', '.join(repr(c) for c in candidates)}; "
            f"columns are: {', '.join(columns)}",
            hint=f"pass {flag}",
        )

    # -- streaming ------------------------------------------------------------------
    def chunks(self, size: int = 1000) -> Iterator[Chunk]:
        """Yield chunks of at most ``size`` input records, validated."""
        reader = {
            "csv": self._csv_chunks,
            "tsv": self._csv_chunks,
            "jsonl": self._jsonl_chunks,
            "parquet": self._parquet_chunks,
            "txtdir": self._txt_chunks,
        }[self.format]
        seen_ids: set[str] = set()
        for frame, rejects in reader(size):
            yield self._validate(frame, rejects, seen_ids)

    def __iter__(self) -> Iterator[Chunk]:
        return self.chunks()

    def _validate(self, frame: pd.DataFrame, rejects: list[Reject], seen_ids: set[str]) -> Chunk:
        idc, txc = self.id_column, self.text_column
        ids = frame[idc].tolist() if len(frame) else []
        texts = frame[txc].tolist() if len(frame) else []
        keep, bad = validate_records(ids, texts, list(frame.index), seen_ids)
        rejects.extend(bad)
        good = frame.iloc[keep].copy() if len(keep) != len(frame) else frame.copy()
        if len(good):
            good[idc] = [str(x) for x in good[idc].tolist()]
        good.reset_index(drop=True, inplace=True)
        return Chunk(good, rejects)

    def _csv_chunks(self, size: int):
        sep = "," if self.format == "csv" else "\t"
        try:
            reader = pd.read_csv(
                self.path, sep=sep, dtype=str, keep_default_na=False, na_values=[], chunksize=size,
                encoding="utf-8", encoding_errors="strict", on_bad_lines="error",
            )
            offset = 0
            for frame in reader:
                frame.index = range(offset + 2, offset + 2 + len(frame))  # 1-based file line numbers (header = 1)
                offset += len(frame)
                yield frame, []
        except UnicodeDecodeError:
            raise InputFormatError(f"{self.path.name} is not UTF-8 text", hint="re-encode it as UTF-8") from None
        except pd.errors.ParserError as err:
            # pandas' message holds line numbers and field counts only, never cell contents
            raise InputFormatError(f"{self.path.name}: malformed {self.format.upper()} ({str(err).splitlines()[0][:200]})") from None

    def _jsonl_chunks(self, size: int):
        rows: list[dict] = []
        rejects: list[Reject] = []
        idc = self.id_column
        with open(self.path, encoding="utf-8", errors="strict") as fh:
            lineno = 0
            while True:
                try:
                    line = fh.readline()
                except UnicodeDecodeError:
                    raise InputFormatError(f"{self.path.name} is not UTF-8 text (after line {lineno})") from None
                if not line:
                    break
                lineno += 1
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    rejects.append(Reject(f"<line {lineno}>", f"line is not valid JSON ({err.msg})", "RL108"))
                    obj = None
                if obj is not None and not isinstance(obj, dict):
                    rejects.append(Reject(f"<line {lineno}>", "line is not a JSON object", "RL108"))
                    obj = None
                if obj is not None:
                    if idc not in obj:
                        rejects.append(Reject(f"<line {lineno}>", f"no {idc!r} field", "RL103"))
                    else:
                        obj.setdefault(self.text_column, None)
                        rows.append(obj)
                if len(rows) + len(rejects) >= size:
                    yield pd.DataFrame(rows, columns=self._frame_columns(rows)), rejects
                    rows, rejects = [], []
        if rows or rejects:
            yield pd.DataFrame(rows, columns=self._frame_columns(rows)), rejects

    def _frame_columns(self, rows: list[dict]) -> list[str]:
        cols = list(self.columns)
        for r in rows:
            for k in r:
                if k not in cols:
                    cols.append(k)
        return cols

    def _parquet_chunks(self, size: int):
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(self.path)
        for batch in pf.iter_batches(batch_size=size):
            frame = batch.to_pandas()
            # Parquet ids may be ints; text must be str (checked in _validate)
            yield frame, []

    def _txt_chunks(self, size: int):
        files = sorted(p for p in self.path.iterdir() if p.is_file() and p.suffix.lower() == ".txt")
        if not files:
            raise InputFormatError(f"directory {self.path} holds no .txt files")
        rows: list[dict] = []
        rejects: list[Reject] = []
        for p in files:
            try:
                rows.append({"report_id": p.stem, "report": p.read_text(encoding="utf-8")})
            except UnicodeDecodeError:
                rejects.append(Reject(p.stem, "file is not UTF-8 text", "RL109"))
            except OSError as err:
                rejects.append(Reject(p.stem, f"file cannot be read ({err.strerror})", "RL109"))
            if len(rows) + len(rejects) >= size:
                yield pd.DataFrame(rows, columns=["report_id", "report"]), rejects
                rows, rejects = [], []
        if rows or rejects:
            yield pd.DataFrame(rows, columns=["report_id", "report"]), rejects


def read_reports(path: str | Path, id_column: str | None = None, text_column: str | None = None) -> tuple[pd.DataFrame, list[Reject], ReportSource]:
    """Read a whole (small) archive into memory: good rows, rejects and the resolved source."""
    src = ReportSource(path, id_column, text_column)
    frames, rejects = [], []
    for ch in src.chunks(10_000):
        frames.append(ch.frame)
        rejects.extend(ch.rejects)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=src.columns)
    return frame, rejects, src
