"""Reading report archives: CSV, TSV, JSONL, Parquet, or a directory of ``.txt`` files.

Archives are streamed in chunks (pandas DataFrames) so memory stays flat on inputs larger
than RAM. Record-level problems never stop the stream: each becomes a :class:`Reject` that the
caller writes to its rejects file, and the file as a whole fails (:class:`InputFormatError`)
only when nothing can be read (no header, no columns). No message here contains report text.

Decoding (``encoding=``). ``"auto"`` sniffs a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32
LE/BE), then UTF-16/32 without a BOM from the pattern of NUL bytes in the first 4 KiB, and
otherwise reads UTF-8. Any Python codec name chooses explicitly. Bytes that are invalid in the
encoding never refuse the file: the record holding them is rejected (``RL113``, its line and
the encoding named; ``RL109`` for a ``.txt`` file) and the others are read.

Structure (CSV/TSV). Python's :mod:`csv` parser in strict mode reads one physical line (ending
at LF; a bare CR stays in its field) at a time; a record with more fields than the header is
rejected (``RL115``: an unquoted delimiter shifts every field after it); a shorter one whose
id looks like an id (see below) reads its missing trailing fields as missing values (as pandas
does: its text may be missing, ``RL105``), any other short one is ``RL115`` too (a stray piece
of text). When quoting breaks
(a stray or unclosed quote: ``csv.Error``, or a quoted field longer than
:data:`MAX_RECORD_CHARS` characters), the record's first line is
rejected (``RL114``) and parsing starts again at the *next* line, so that a runaway quote costs
only the damaged record, not every record up to the next quote. Until a record looks like one
again, every line read joins the damaged block (reported once, ``<lines N-M>``): it must have the
header's number of fields and an id without whitespace, of at most
:data:`MAX_RECOVERED_ID_CHARS` characters and of a shape already seen among the file's ids
(``rpt-027`` has the shape ``a-9``; the shapes of the first 1,000 ids are learned, and the shape
test is dropped when ids are free-form, with more than 50 shapes). A piece of a damaged report
("IMPRESSION: ...", "Lyss, nan 50662" in a file of numeric ids) thus never goes out as a record,
and resynchronising never pairs a text with the id of another record. Limit: a stray quote that
happens to close exactly at a field boundary is indistinguishable
from a legitimate multi-line field and cannot be detected by any parser.

Cleaning. Control characters (C0 except tab, newline and carriage return; DEL; C1; and the
non-characters U+FFFE/U+FFFF) are *replaced*, not deleted, so that every offset into the
cleaned text is an offset into the source text: line and page separators (VT, FF, FS, GS, RS,
NEL) by a newline, all others (NUL included) by a space. Their number is counted per chunk
(:attr:`Chunk.control_chars`); a text is never cut at a NUL.

Content. A text must hold at least one alphabetic word of :data:`MIN_WORD_LETTERS` (2) or more
letters in a row (any script; digits and ``_`` are not letters) to be a report. "123", "4.5",
"x", "--" or control-character garbage are rejected (``RL112``) instead of being labeled;
terse real reports ("Normal.", "No acute disease.", "NAD", "WNL") pass. The check runs after
cleaning and markup stripping, in :func:`validate_records` too (used for DataFrames).

Markup (``strip_markup=``): see :mod:`reportlab_nlp.markup`. The frame holds the stripped
text; :attr:`Chunk.offset_maps` holds, per frame row, ``None`` (text unchanged) or an
:class:`~reportlab_nlp.markup.OffsetMap` back to the source text.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import _csv

from .errors import (
    REJECT_BAD_UNICODE,
    REJECT_BROKEN_QUOTE,
    REJECT_FIELD_COUNT,
    REJECT_UNDECODABLE,
    ColumnError,
    E,
    EncodingError,
    InputFormatError,
    InputOptionError,
)
from .markup import MARKUP_MODES, OffsetMap
from .record_checks import (
    MIN_WORD_LETTERS,
    PreparedRecords,
    Reject,
    clean_controls,
    has_words,
    prepare_records,
    validate_records,
)
from .text_decoding import (
    MARK_ERRORS,
    MARKS,
    SNIFF_BYTES,
    SURROGATE,
    open_binary,
    resolve_encoding,
    sniff_encoding,
)
from .text_decoding import (
    first_invalid as _first_invalid,
)

__all__ = [
    "MIN_WORD_LETTERS",
    "Chunk",
    "OffsetMap",
    "PreparedRecords",
    "Reject",
    "ReportSource",
    "clean_controls",
    "detect_format",
    "has_words",
    "open_binary",
    "prepare_records",
    "read_reports",
    "resolve_encoding",
    "sniff_encoding",
    "validate_records",
]

log = logging.getLogger(__name__)

DEFAULT_ID_COLUMN = "report_id"
DEFAULT_TEXT_COLUMN = "report"
ID_CANDIDATES = (
    "report_id",
    "id",
    "study_id",
    "accession",
    "accession_number",
    "note_id",
    "document_id",
    "doc_id",
    "uid",
    "filename",
)
TEXT_CANDIDATES = ("report", "text", "report_text", "note", "note_text", "body", "content", "document")
FORMATS = ("csv", "tsv", "jsonl", "parquet", "txtdir")

MAX_RECORD_CHARS = 1_000_000  # a CSV field running longer than this is a runaway quote
MAX_RECOVERED_ID_CHARS = 100

_ID_SHAPE = re.compile(rf"\S{{1,{MAX_RECOVERED_ID_CHARS}}}")
_SHAPE_RUNS = re.compile(r"(\d+)|[^\W\d_]+")
_ENCODING_HINT = "pass --encoding if the file has another encoding"


@dataclass
class Chunk:
    """A slice of the archive: the good rows (all input columns kept) and this slice's rejects.

    ``offset_maps[i]`` belongs to ``frame`` row ``i``: ``None`` when markup stripping left the
    text unchanged, else the map from the stripped text back to the source text.
    ``control_chars`` counts the control characters replaced in this chunk's texts.
    """

    frame: pd.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    offset_maps: list[OffsetMap | None] = field(default_factory=list)
    control_chars: int = 0

    @property
    def n_in(self) -> int:
        return len(self.frame) + len(self.rejects)


_HEADER_NAME = re.compile(r"[^\W_][\w#()/-]*(?: [\w#()/-]+){0,2}")


def describe_columns(columns: Sequence[str], limit: int = 40) -> str:
    """``columns are: …`` for an error message, or only their number when the header looks damaged.

    A broken quote can make report text part of the header, and error messages never hold
    report text: the names are listed only if every one looks like a column name (at most
    32 characters and three words of letters, digits and ``_#()/-``).
    """
    names = [str(c) for c in columns]
    if names and all(len(n) <= 32 and _HEADER_NAME.fullmatch(n) for n in names):
        shown = ", ".join(names[:limit]) + (f", … ({len(names)} in all)" if len(names) > limit else "")
        return f"columns are: {shown}"
    return (
        f"the header has {len(names)} column(s) whose names are not shown "
        "(it looks damaged and may hold report text)"
    )


def detect_format(path: str | Path) -> str:
    p = Path(path)
    if p.is_dir():
        return "txtdir"
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zst", ".xz"):
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    mapping = {
        ".csv": "csv",
        ".tsv": "tsv",
        ".tab": "tsv",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".json": "jsonl",
        ".parquet": "parquet",
        ".pq": "parquet",
    }
    if ext not in mapping:
        raise InputFormatError(
            f"cannot tell the format of {p.name}: "
            "expected .csv, .tsv, .jsonl, .parquet or a directory of .txt files"
        )
    return mapping[ext]


def _trusted_id(value: object, line: int) -> str:
    """The id of a record rejected by the reader, or ``<line N>`` when it may not be an id."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and _ID_SHAPE.fullmatch(value) and _first_invalid(value) < 0:
        return value
    return f"<line {line}>"


def _has_surrogates(obj: dict[str, Any]) -> bool:
    """Whether a JSON object's keys or string values hold lone surrogates (from ``\\udXXX`` escapes)."""
    return any(
        _first_invalid(str(k)) >= 0 or (isinstance(v, str) and _first_invalid(v) >= 0) for k, v in obj.items()
    )


# -- CSV/TSV records ----------------------------------------------------------------------
# csv.reader ends a record at any CR, even a bare one inside an unquoted field (text written by
# csv.writer with lineterminator="\n" keeps bare CRs unquoted): lines are split at \n only and a
# bare CR is hidden from the parser, then given back in the fields.
CR_PLACEHOLDER = "\ue000"
_BARE_CR = re.compile("\r(?!\n)")


class _LineWindow:
    """Blocks of physical lines read from a text stream, kept from the current record's first line.

    ``csv.reader`` iterates them at C speed; after a parse error, :meth:`lines_from` gives back
    every line already read after a given one, so that parsing can start again there.
    """

    BLOCK_CHARS = 1 << 16

    def __init__(self, fh: IO[str], hide_bare_cr: bool):
        self._fh = fh
        self._hide_bare_cr = hide_bare_cr
        self.blocks: list[tuple[int, list[str]]] = []  # (number of the block's first line, lines)
        self.next_line = 1
        self.hid_cr = False  # a bare CR was replaced by CR_PLACEHOLDER

    def source(self) -> Iterator[list[str]]:
        while True:
            lines = self._fh.readlines(self.BLOCK_CHARS)
            if not lines:
                return
            if self._hide_bare_cr:
                for k, line in enumerate(lines):
                    if "\r" in line and _BARE_CR.search(line):
                        lines[k] = _BARE_CR.sub(CR_PLACEHOLDER, line)
                        self.hid_cr = True
            self.blocks.append((self.next_line, lines))
            self.next_line += len(lines)
            yield lines

    def lines_from(self, first: int) -> list[str]:
        """Every line already read whose number is ``first`` or more."""
        out: list[str] = []
        for start, lines in self.blocks:
            if start + len(lines) > first:
                out.extend(lines[max(0, first - start) :])
        return out

    def forget_before(self, first: int) -> None:
        while len(self.blocks) > 1 and self.blocks[1][0] <= first:
            self.blocks.pop(0)


class _IdShapes:
    """The shapes of the ids read so far ("rpt-027" -> "a-9"), to tell a record from a piece of text.

    After damage, a line is taken for a record only if it has the header's number of fields and
    an id of a shape seen before in the file (when the file's ids have few shapes) with no
    whitespace: "Lyss, nan 50662" in a file of numeric ids is a piece of a damaged record.
    """

    LEARN_ROWS = 1000  # ids whose shape is learned (the first rows of the file)
    MAX_SHAPES = 50  # more distinct shapes than this: ids are free-form, only the basic check holds

    def __init__(self) -> None:
        self.shapes: set[str] = set()
        self.learned = 0

    @staticmethod
    def shape(rid: str) -> str:
        return _SHAPE_RUNS.sub(lambda m: "9" if m.group(1) else "a", rid)

    def learn(self, rid: str | None) -> None:
        if self.learned < self.LEARN_ROWS and rid:
            self.learned += 1
            self.shapes.add(self.shape(rid))

    def id_fits(self, rid: str) -> bool:
        if not _ID_SHAPE.fullmatch(rid):
            return False
        return not self.shapes or len(self.shapes) > self.MAX_SHAPES or self.shape(rid) in self.shapes

    def fits(self, fields: list[str], n_fields: int, id_idx: int) -> bool:
        return len(fields) == n_fields and self.id_fits(fields[id_idx])


@dataclass
class _Damaged:
    first: int
    last: int
    reason: str

    def reject(self) -> Reject:
        where = f"line {self.first}" if self.first == self.last else f"lines {self.first}-{self.last}"
        return Reject(
            f"<{where}>", f"{where}: {self.reason}; the record(s) there are not read", REJECT_BROKEN_QUOTE
        )


# what each format reader yields: a raw frame of at most `size` records and the rejects among them
_Chunks = Iterator[tuple[pd.DataFrame, list[Reject]]]


class ReportSource:
    """An archive of reports with resolved id and text columns.

    ``encoding``: ``"auto"`` (BOM, then UTF-16/32 by NUL pattern, else UTF-8) or a Python codec
    name; ``strip_markup``: ``"none"``, ``"auto"``, ``"html"`` or ``"rtf"``. After construction,
    ``encoding`` holds the codec used (``"auto"`` for a directory: sniffed per file).

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
        encoding: str = "auto",
        strip_markup: str = "none",
    ):
        self.path = Path(path)
        if strip_markup not in MARKUP_MODES:
            raise InputOptionError(
                f"unknown markup mode {strip_markup!r}; expected one of {', '.join(MARKUP_MODES)}"
            )
        self.strip_markup = strip_markup
        requested = resolve_encoding(encoding)
        if not self.path.exists():
            raise InputFormatError(f"input {self.path} does not exist")
        self.format = fmt or detect_format(self.path)
        if self.format not in FORMATS:
            raise InputFormatError(
                f"unknown input format {self.format!r}; expected one of {', '.join(FORMATS)}"
            )
        self.notes: list[str] = []
        self.encoding = requested
        self._cr_lines = False  # lines end with a bare CR (old Mac files): no \n in the first bytes
        if self.format in ("csv", "tsv", "jsonl"):
            try:
                with open_binary(self.path) as fh:
                    head = fh.read(SNIFF_BYTES)
            except OSError as err:
                raise InputFormatError(
                    f"{self.path.name} cannot be read ({err.strerror or type(err).__name__})"
                ) from None
            self._cr_lines = b"\r" in head and b"\n" not in head
            if requested == "auto":
                self.encoding, why = sniff_encoding(head)
                if why != "default":
                    self.notes.append(f"reading {self.path.name} as {self.encoding} ({why})")
        columns = self._columns()
        self.columns = columns
        self.id_column = self._pick(columns, id_column, DEFAULT_ID_COLUMN, ID_CANDIDATES, "id", "--id-column")
        self.text_column = self._pick(
            columns, text_column, DEFAULT_TEXT_COLUMN, TEXT_CANDIDATES, "text", "--text-column"
        )
        for col in required_columns:
            if col not in columns:
                raise ColumnError(f"{self.path.name} has no column {col!r}; {describe_columns(columns)}")

    # -- column discovery -------------------------------------------------------------
    def _open_text(self, newline: str) -> io.TextIOWrapper:
        return io.TextIOWrapper(
            open_binary(self.path), encoding=self.encoding, errors=MARK_ERRORS, newline=newline
        )

    def _columns(self) -> list[str]:
        if self.format == "txtdir":
            return ["report_id", "report"]
        if self.format in ("csv", "tsv"):
            stream = self._csv_stream()
            try:
                header: list[str] = next(stream)[2]
                return header
            finally:
                stream.close()
        if self.format == "parquet":
            import pyarrow.parquet as pq

            try:
                return list(pq.ParquetFile(self.path).schema_arrow.names)
            except Exception as err:  # pyarrow raises several types for a broken file
                raise InputFormatError(
                    f"{self.path.name} is not a readable Parquet file ({type(err).__name__})"
                ) from None
        # jsonl: union of keys over the first 100 parsable lines
        cols: list[str] = []
        with self._open_text("\n") as fh:
            for i, line in enumerate(fh):
                if i >= 100:
                    break
                try:
                    obj = json.loads(line.lstrip("\ufeff"))
                except json.JSONDecodeError:
                    continue
                if isinstance(obj, dict):
                    for k in obj:
                        if k not in cols and _first_invalid(str(k)) < 0:
                            cols.append(str(k))
        if not cols:
            raise InputFormatError(
                f"{self.path.name} has no JSON object lines in its first 100 lines (read as {self.encoding})"
            )
        return cols

    def _pick(
        self,
        columns: Sequence[str],
        given: str | None,
        default: str,
        candidates: Sequence[str],
        what: str,
        flag: str,
    ) -> str:
        if given:
            if given not in columns:
                raise ColumnError(
                    f"{self.path.name} has no {what} column {given!r}; {describe_columns(columns)}"
                )
            return given
        if default in columns:
            return default
        lower = {c.lower(): c for c in columns}
        for cand in candidates:
            if cand in lower:
                chosen = lower[cand]
                note = (
                    f"using column {chosen!r} as the report {what} "
                    f"(no {default!r} column; pass {flag} to choose another)"
                )
                self.notes.append(note)
                log.info(note)
                return chosen
        raise ColumnError(
            f"{self.path.name} has no {what} column: looked for {default!r} and "
            f"{', '.join(repr(c) for c in candidates)}; {describe_columns(columns)}",
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
        prepared = prepare_records(ids, texts, list(frame.index), seen_ids, strip_markup=self.strip_markup)
        rejects.extend(prepared.rejects)
        keep = prepared.keep
        good = frame.iloc[keep].copy() if len(keep) != len(frame) else frame  # each reader frame is new
        if len(good):
            if any(type(ids[i]) is not str for i in keep):
                good[idc] = [str(ids[i]) for i in keep]
            if any(t is not texts[i] for i, t in zip(keep, prepared.texts)):
                good[txc] = prepared.texts
        good.reset_index(drop=True, inplace=True)
        return Chunk(good, rejects, prepared.offset_maps, prepared.control_chars)

    def _csv_stream(self) -> Generator[tuple[str, int, Any], None, None]:
        """``("header", 1, names)``, then ``("row", line, fields)`` or ``("reject", line, Reject)``."""
        sep = "," if self.format == "csv" else "\t"
        csv.field_size_limit(MAX_RECORD_CHARS)  # process-wide: a longer field is a runaway quote
        with self._open_text("" if self._cr_lines else "\n") as fh:
            window = _LineWindow(fh, hide_bare_cr=not self._cr_lines)
            source = window.source()
            n_fields = id_idx = -1
            damaged: _Damaged | None = None
            shapes = _IdShapes()

            def new_reader(pending: list[str]) -> _csv.Reader:
                lines = itertools.chain(pending, itertools.chain.from_iterable(source))
                return csv.reader(lines, delimiter=sep, quotechar='"', doublequote=True, strict=True)

            reader = new_reader([])
            base = 0  # line number = base + reader.line_num
            done = 0  # number of the last line of the last record read
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as err:
                    first = done + 1
                    if n_fields < 0:
                        raise InputFormatError(
                            f"{self.path.name}: the header of this {self.format.upper()} file "
                            f"cannot be parsed ({err})"
                        ) from None
                    if str(err).startswith("field larger than field limit"):
                        reason = f"a quoted field runs past {MAX_RECORD_CHARS} characters"
                    else:
                        reason = f"broken quoting ({err})"
                    if damaged is not None:  # contiguous damage is one block
                        damaged.last = max(damaged.last, first)
                    else:
                        damaged = _Damaged(first, first, reason)
                    # parsing starts again at the line after `first`
                    reader, base, done = new_reader(window.lines_from(first + 1)), first, first
                    continue
                first, last = done + 1, base + reader.line_num
                done = last
                if not fields:
                    continue  # a blank line
                if window.hid_cr and any(f and CR_PLACEHOLDER in f for f in fields):
                    fields = [f.replace(CR_PLACEHOLDER, "\r") for f in fields]
                if n_fields < 0:
                    names = self._header_names(fields)
                    n_fields = len(names)
                    yield "header", first, names
                    continue
                if id_idx < 0:  # known once the header is (rows are only read after __init__)
                    id_idx = self.columns.index(self.id_column)
                window.forget_before(first)
                # right after damage, a record must look like one, or it is a piece of the damaged record
                if damaged is not None and not shapes.fits(fields, n_fields, id_idx):
                    damaged.last = max(damaged.last, last)
                    continue
                if damaged is not None:
                    yield "reject", damaged.first, damaged.reject()
                    damaged = None
                if len(fields) < n_fields and shapes.id_fits(fields[id_idx] if id_idx < len(fields) else ""):
                    # a short row of an id: the missing trailing fields are missing values
                    fields.extend([None] * (n_fields - len(fields)))  # type: ignore[list-item]
                elif len(fields) != n_fields:  # extra fields, or a short row that is a piece of text
                    where = f"line {first}" if first == last else f"lines {first}-{last}"
                    reason = f"{where}: {len(fields)} fields where the header has {n_fields}"
                    yield "reject", first, Reject(f"<{where}>", reason, REJECT_FIELD_COUNT)
                    continue
                shapes.learn(fields[id_idx])
                yield "row", first, fields
            if damaged is not None:
                yield "reject", damaged.first, damaged.reject()
            if n_fields < 0:
                raise InputFormatError(f"{self.path.name} is empty: no {self.format.upper()} header line")

    def _header_names(self, fields: list[str]) -> list[str]:
        if fields and fields[0].startswith("\ufeff"):
            fields[0] = fields[0][1:]
        if any(_first_invalid(f) >= 0 for f in fields):
            raise EncodingError(
                f"{self.path.name}: the header line is not valid {self.encoding}",
                hint="pass --encoding with the file's encoding",
            )
        names: list[str] = []
        for i, name in enumerate(fields):
            name = name or f"Unnamed: {i}"
            base, k = name, 0
            while name in names:  # duplicate names get .1, .2 as pandas does
                k += 1
                name = f"{base}.{k}"
            names.append(name)
        return names

    def _undecodable(self, line: int, values: list[str], id_value: str) -> Reject | None:
        """A Reject when a record holds bytes invalid in the encoding (marked surrogates)."""
        for col, value in zip(self.columns, values):
            pos = _first_invalid(value) if isinstance(value, str) else -1
            if pos >= 0:
                rid = _trusted_id(id_value, line)
                reason = (
                    f"line {line}: column {col!r} is not valid {self.encoding} "
                    f"(first invalid byte at character {pos}); {_ENCODING_HINT}"
                )
                return Reject(rid, reason, REJECT_UNDECODABLE)
        return None

    def _csv_chunks(self, size: int) -> _Chunks:
        marks_before = MARKS[0]
        stream = self._csv_stream()
        next(stream)  # the header
        columns = self.columns
        id_idx = columns.index(self.id_column)
        rows: list[list[str]] = []
        lines: list[int] = []
        rejects: list[Reject] = []
        for kind, line, payload in stream:
            if kind == "row":
                fields: list[str] = payload
                bad = (
                    self._undecodable(line, fields, fields[id_idx])
                    if MARKS[0] != marks_before and any(f and SURROGATE.search(f) for f in fields)
                    else None
                )
                if bad is None:
                    rows.append(fields)
                    lines.append(line)
                else:
                    rejects.append(bad)
            else:
                rejects.append(payload)
            if len(rows) + len(rejects) >= size:
                yield self._frame(rows, lines, columns), rejects
                rows, lines, rejects = [], [], []
        if rows or rejects:
            yield self._frame(rows, lines, columns), rejects

    @staticmethod
    def _frame(rows: list[list[str]], lines: list[int], columns: list[str]) -> pd.DataFrame:
        frame = (
            pd.DataFrame(rows, columns=columns, dtype=str)
            if rows
            else pd.DataFrame(columns=columns, dtype=str)
        )
        frame.index = lines  # 1-based file line numbers of each record's first line (header = 1)
        return frame

    def _jsonl_chunks(self, size: int) -> _Chunks:
        rows: list[dict[str, Any]] = []
        lines: list[int] = []
        rejects: list[Reject] = []
        idc = self.id_column
        with self._open_text("\n") as fh:
            for lineno, line in enumerate(fh, start=1):
                if lineno == 1:
                    line = line.lstrip("\ufeff")
                if not line.strip():
                    continue
                undecodable = _first_invalid(line) >= 0
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    reason = f"line is not valid JSON ({err.msg})"
                    if undecodable:
                        reason = f"line {lineno} is not valid {self.encoding}; {_ENCODING_HINT}"
                    rejects.append(
                        Reject(f"<line {lineno}>", reason, REJECT_UNDECODABLE if undecodable else E.RL108)
                    )
                    obj = None
                if obj is not None and not isinstance(obj, dict):
                    rejects.append(Reject(f"<line {lineno}>", "line is not a JSON object", E.RL108))
                    obj = None
                if obj is not None:
                    if undecodable:
                        rejects.append(self._undecodable_json(lineno, obj))
                    elif _has_surrogates(obj):
                        rid = _trusted_id(obj.get(idc), lineno)
                        reason = (
                            f"line {lineno}: a field holds an unpaired surrogate escape (invalid Unicode)"
                        )
                        rejects.append(Reject(rid, reason, REJECT_BAD_UNICODE))
                    elif idc not in obj:
                        rejects.append(Reject(f"<line {lineno}>", f"no {idc!r} field", E.RL103))
                    else:
                        obj.setdefault(self.text_column, None)
                        rows.append(obj)
                        lines.append(lineno)
                if len(rows) + len(rejects) >= size:
                    yield self._json_frame(rows, lines), rejects
                    rows, lines, rejects = [], [], []
        if rows or rejects:
            yield self._json_frame(rows, lines), rejects

    def _undecodable_json(self, lineno: int, obj: dict[str, Any]) -> Reject:
        rid = _trusted_id(obj.get(self.id_column), lineno)
        where = "a key"
        for key, value in obj.items():
            if isinstance(value, str) and _first_invalid(value) >= 0:
                where = f"field {key!r}" if _first_invalid(key) < 0 else "a field"
                break
        reason = f"line {lineno}: {where} is not valid {self.encoding}; {_ENCODING_HINT}"
        return Reject(rid, reason, REJECT_UNDECODABLE)

    def _json_frame(self, rows: list[dict[str, Any]], lines: list[int]) -> pd.DataFrame:
        frame = pd.DataFrame(rows, columns=self._frame_columns(rows))
        frame.index = lines
        return frame

    def _frame_columns(self, rows: list[dict[str, Any]]) -> list[str]:
        cols = list(self.columns)
        for r in rows:
            for k in r:
                if k not in cols:
                    cols.append(k)
        return cols

    def _parquet_chunks(self, size: int) -> _Chunks:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(self.path)
        offset = 0
        for batch in pf.iter_batches(batch_size=size):
            frame = batch.to_pandas()
            frame.index = range(offset + 1, offset + 1 + len(frame))  # 1-based row numbers
            offset += len(frame)
            # Parquet ids may be ints; text must be str (checked in _validate)
            yield frame, []

    def _read_txt(self, p: Path) -> tuple[dict[str, str] | None, Reject | None]:
        try:
            data = p.read_bytes()
        except OSError as err:
            return None, Reject(p.stem, f"file cannot be read ({err.strerror})", E.RL109)
        codec, why = sniff_encoding(data[:SNIFF_BYTES]) if self.encoding == "auto" else (self.encoding, "")
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as err:
            how = f" ({why})" if why and why != "default" else ""
            reason = (
                f"file is not valid {codec}{how}: first invalid byte at offset {err.start}; "
                "pass --encoding if the files have another encoding"
            )
            return None, Reject(p.stem, reason, E.RL109)
        return {"report_id": p.stem, "report": text.lstrip("\ufeff")}, None

    def _txt_chunks(self, size: int) -> _Chunks:
        files = sorted(p for p in self.path.iterdir() if p.is_file() and p.suffix.lower() == ".txt")
        if not files:
            raise InputFormatError(f"directory {self.path} holds no .txt files")
        rows: list[dict[str, str]] = []
        rejects: list[Reject] = []
        for p in files:
            row, reject = self._read_txt(p)
            if row is not None:
                rows.append(row)
            if reject is not None:
                rejects.append(reject)
            if len(rows) + len(rejects) >= size:
                yield pd.DataFrame(rows, columns=["report_id", "report"]), rejects
                rows, rejects = [], []
        if rows or rejects:
            yield pd.DataFrame(rows, columns=["report_id", "report"]), rejects


def read_reports(
    path: str | Path,
    id_column: str | None = None,
    text_column: str | None = None,
    *,
    encoding: str = "auto",
    strip_markup: str = "none",
) -> tuple[pd.DataFrame, list[Reject], ReportSource]:
    """Read a whole (small) archive into memory: good rows, rejects and the resolved source."""
    src = ReportSource(path, id_column, text_column, encoding=encoding, strip_markup=strip_markup)
    frames, rejects = [], []
    for ch in src.chunks(10_000):
        frames.append(ch.frame)
        rejects.extend(ch.rejects)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=src.columns)
    return frame, rejects, src
