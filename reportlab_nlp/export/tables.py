"""Reading the label table and the image metadata, vectorised, with coded rejects.

:func:`label_chunk` and :class:`MetadataReader` validate one chunk of rows at a time (the
export's two passes, :mod:`.scan` and :mod:`.run`); :func:`load_labels` reads a whole label table
(the QA report). Rejects are rows ``source, line, record, code, reason``: ``line`` is the 1-based
line of the row in a CSV/TSV file (header = line 1); ``record`` is the report id or image id,
never report text. Codes (RL710, RL711 and RL719 are decided by the join, :mod:`.scan`):

* RL712 a key cell (report id, patient id, path or image id) is empty
* RL713 an image id appears more than once in the metadata (every copy is rejected)
* RL714 the view is not one of rules/export.yml's spellings
* RL715 the age is not a number, or outside ``age_range``
* RL716 a report id appears more than once in the label table (every copy is rejected)
* RL717 the sex is not one of rules/export.yml's spellings
* RL718 a label cell is not 1, 0, -1 or blank
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import E, ExportError
from ..schema import LABEL_SCHEMA
from .vocab import export_vocab

REJECT_COLUMNS = ["source", "line", "record", "code", "reason"]
FIELDS = ("report_id", "patient_id", "image_id", "path", "view", "sex", "age", "study_date")


def read_strings(path: Path, what: str) -> pd.DataFrame:
    """A whole CSV/TSV/Parquet table; CSV cells as stripped strings (pyarrow's parser)."""
    if not path.is_file():
        raise ExportError(f"{what} {path} does not exist", code=E.RL701)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".csv", ".tsv"):
            frame = pd.read_csv(
                path,
                sep="\t" if suffix == ".tsv" else ",",
                dtype=str,
                keep_default_na=False,
                engine="pyarrow",
            )
        else:
            raise ExportError(f"{what} {path.name}: use a .csv, .tsv or .parquet file", code=E.RL701)
    except ExportError:
        raise
    except Exception as err:  # pandas/pyarrow raise many types for unreadable files
        raise ExportError(f"{what} {path.name} cannot be read ({type(err).__name__})", code=E.RL701) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _text(series: pd.Series) -> pd.Series:
    if series.dtype.kind in "fiu":
        out = series.astype("string").fillna("")
        return out.str.replace(r"\.0$", "", regex=True) if series.dtype.kind == "f" else out
    return series.astype("string").fillna("").str.strip()


def to_arrow(series: pd.Series):
    """One contiguous pyarrow array of a pandas Series (arrow-backed columns are not copied)."""
    import pyarrow as pa

    arr = pa.array(series, from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def by_value(series: pd.Series, fn) -> np.ndarray:
    """``fn`` applied to each distinct value once (pyarrow dictionary encoding), spread to every row."""
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(to_arrow(series.astype("string").fillna("")))
    table = np.array([fn(v) for v in enc.dictionary.to_pylist()] + [None], dtype=object)
    return table[enc.indices.to_numpy(zero_copy_only=False)]


def by_value_text(series: pd.Series, fn) -> pd.Series:
    """Like :func:`by_value` for a text result, kept in pyarrow (no Python object per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(to_arrow(series.astype("string").fillna("")))
    table = pa.array([fn(v) for v in enc.dictionary.to_pylist()], type=pa.string())
    return pd.Series(pd.array(pc.take(table, enc.indices), dtype="string"))


def blank_text(n: int) -> pd.Series:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pd.Series(pd.array(pc.fill_null(pa.nulls(n, pa.string()), ""), dtype="string"))


def _number(text: str) -> float:
    try:
        return float(text) if text else float("nan")
    except ValueError:
        return float("nan")


def duplicated(series: pd.Series) -> np.ndarray:
    """True for every row whose value occurs more than once (pyarrow hashing: fast on millions of ids)."""
    import pyarrow.compute as pc

    codes = pc.dictionary_encode(to_arrow(series)).indices.to_numpy(zero_copy_only=False)
    return np.bincount(codes)[codes] > 1 if len(codes) else np.zeros(0, dtype=bool)


def _rejects(
    source: str, mask: np.ndarray, records: pd.Series, code: str, reason: str | pd.Series
) -> pd.DataFrame:
    idx = np.flatnonzero(mask)
    reasons = reason.iloc[idx].to_numpy() if isinstance(reason, pd.Series) else reason
    return pd.DataFrame(
        {
            "source": source,
            "line": idx + 2,
            "record": records.iloc[idx].to_numpy(),
            "code": code,
            "reason": reasons,
        },
        columns=REJECT_COLUMNS,
    )


@dataclass
class LabelTable:
    ids: pd.Series  # report ids (str), one per usable row
    matrix: np.ndarray  # float32, rows x labels, NaN = blank
    labels: tuple[str, ...]
    rejects: pd.DataFrame
    missing_labels: tuple[str, ...]
    lines: np.ndarray  # file line of each usable row


def parse_cells(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Label cells -> float32 values (NaN blank) and a mask of cells that are not 1, 0, -1 or blank.

    Text cells are dictionary-encoded (pyarrow) and only the few distinct spellings are parsed.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    allowed = np.array([v for v in LABEL_SCHEMA.values.values() if v is not None], dtype=np.float64)
    if series.dtype.kind in "fiu":
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isnan(values) & ~np.isin(values, allowed)
    else:
        arr = (
            pa.array(series.to_numpy(dtype=object, na_value=""))
            if series.dtype == object
            else pa.chunked_array(pa.array(series, from_pandas=True)).combine_chunks()
        )
        enc = pc.dictionary_encode(pc.utf8_trim_whitespace(pc.fill_null(arr.cast(pa.string()), "")))
        lookup = np.full(len(enc.dictionary) + 1, np.nan)
        bad_value = np.zeros(len(enc.dictionary) + 1, dtype=bool)
        for k, text in enumerate(enc.dictionary.to_pylist()):
            if text == "":
                continue
            try:
                v = float(text)
            except ValueError:
                v = float("nan")
            lookup[k] = v
            bad_value[k] = not np.isin(v, allowed)
        idx = enc.indices.to_numpy(zero_copy_only=False)
        values, bad = lookup[idx], bad_value[idx]
    values = values.astype(np.float32)
    values[bad] = np.nan
    return values, bad


def load_labels(
    path: Path, labels: Sequence[str], id_column: str | None = None, id_prefix: str | None = None
) -> LabelTable:
    frame = read_strings(path, "label table")
    idc = id_column or str(frame.columns[0])
    if idc not in frame.columns:
        raise ExportError(f"label table {path.name} has no id column {idc!r}", code=E.RL701)
    present = [lab for lab in labels if lab in frame.columns]
    if not present:
        raise ExportError(f"label table {path.name} has none of the labels {', '.join(labels)}", code=E.RL701)
    ids = _text(frame[idc])
    if id_prefix:
        ids = ids.str.replace(rf"^{id_prefix}(?=\d+$)", "", regex=True)
    n = len(frame)
    matrix = np.full((n, len(labels)), np.nan, dtype=np.float32)
    bad_col = np.full(n, "", dtype=object)
    bad_any = np.zeros(n, dtype=bool)
    for j, lab in enumerate(labels):
        if lab not in frame.columns:
            continue
        values, bad = parse_cells(frame[lab].reset_index(drop=True))
        matrix[:, j] = values
        bad_col[bad & ~bad_any] = lab
        bad_any |= bad
    bad_col[bad_any] = [f"column {c} holds a value that is not 1, 0, -1 or blank" for c in bad_col[bad_any]]
    empty = (ids == "").to_numpy()
    dup = duplicated(ids) & ~empty
    parts = [
        _rejects("labels", empty, ids, E.RL712, "empty report id"),
        _rejects("labels", dup, ids, E.RL716, "report id appears more than once in the label table"),
        _rejects("labels", bad_any & ~empty & ~dup, ids, E.RL718, pd.Series(bad_col)),
    ]
    keep = ~(empty | dup | bad_any)
    return LabelTable(
        ids[keep].reset_index(drop=True),
        matrix[keep],
        tuple(labels),
        pd.concat(parts, ignore_index=True),
        tuple(lab for lab in labels if lab not in present),
        np.flatnonzero(keep) + 2,
    )


def column_map(preset: str, overrides: Mapping[str, str]) -> tuple[dict[str, str], Mapping]:
    presets = export_vocab().presets
    if preset not in presets:
        raise ExportError(f"--preset {preset!r}: use one of {', '.join(presets)}", code=E.RL705)
    spec = presets[preset]
    cols = dict(spec.get("columns", {}))
    unknown = [k for k in overrides if k not in FIELDS]
    if unknown:
        raise ExportError(
            f"--columns names unknown fields {', '.join(unknown)}; fields: {', '.join(FIELDS)}", code=E.RL705
        )
    cols.update(overrides)
    return cols, spec


def parse_columns(text: str | None) -> dict[str, str]:
    """``"view=ViewPosition,age=PatientAge"`` -> {"view": "ViewPosition", "age": "PatientAge"}."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ExportError(f"--columns {part!r}: write FIELD=COLUMN, e.g. view=ViewPosition", code=E.RL705)
        out[key.strip()] = value.strip()
    return out


def _template(template: str, fields: Mapping[str, pd.Series]) -> pd.Series:
    """Vectorised ``str.format``-like template; ``{name:.N}`` keeps the first N characters."""
    out: pd.Series | None = None
    n = len(next(iter(fields.values())))
    for literal, name, spec, _ in string.Formatter().parse(template):
        piece = pd.Series(literal, index=range(n), dtype="string")
        if name is not None:
            if name not in fields:
                raise ExportError(f"path template {template!r} names unknown field {name!r}", code=E.RL705)
            val = fields[name].reset_index(drop=True)
            if spec and spec.startswith("."):
                val = val.str.slice(0, int(spec[1:]))
            piece = piece + val
        out = piece if out is None else out + piece
    return out if out is not None else pd.Series("", index=range(n), dtype="string")


CODE_VALUES = np.array([np.nan, 1.0, 0.0, -1.0], dtype=np.float32)  # label cell code -> value


def value_codes(values: np.ndarray) -> np.ndarray:
    """float32 label values (NaN blank) -> int8 codes 0 blank, 1 positive, 2 negative, 3 uncertain."""
    codes = np.zeros(values.shape, dtype=np.int8)
    codes[values == 1.0] = 1
    codes[values == 0.0] = 2
    codes[values == -1.0] = 3
    return codes


@dataclass
class LabelChunk:
    ids: pd.Series  # normalised report ids
    codes: np.ndarray  # int8 rows x labels (see value_codes)
    empty: np.ndarray  # the report id is empty
    bad_col: np.ndarray  # int16: first label column holding a value that is not 1, 0, -1 or blank; -1 none


def label_id_column(columns: Sequence[str], labels: Sequence[str], id_column: str | None, name: str) -> str:
    """The label table's id column (``--id-column`` or the first); checks that some label is present."""
    idc = id_column or str(columns[0])
    if idc not in columns:
        raise ExportError(f"label table {name} has no id column {idc!r}", code=E.RL701)
    if not any(lab in columns for lab in labels):
        raise ExportError(f"label table {name} has none of the labels {', '.join(labels)}", code=E.RL701)
    return idc


def label_ids(frame: pd.DataFrame, idc: str, id_prefix: str | None) -> pd.Series:
    ids = _text(frame[idc]).reset_index(drop=True)
    if id_prefix:
        ids = ids.str.replace(rf"^{id_prefix}(?=\d+$)", "", regex=True)
    return ids


def label_chunk(frame: pd.DataFrame, labels: Sequence[str], idc: str, id_prefix: str | None) -> LabelChunk:
    """One chunk of the label table: ids, cell codes and the row-local problems."""
    n = len(frame)
    codes = np.zeros((n, len(labels)), dtype=np.int8)
    bad_col = np.full(n, -1, dtype=np.int16)
    for j, lab in enumerate(labels):
        if lab not in frame.columns:
            continue
        values, bad = parse_cells(frame[lab].reset_index(drop=True))
        codes[:, j] = value_codes(values)
        bad_col[bad & (bad_col < 0)] = j
    ids = label_ids(frame, idc, id_prefix)
    return LabelChunk(ids, codes, (ids == "").to_numpy(), bad_col)


# row-local metadata problems, in the order of precedence (the first one found is the reject's code)
META_EMPTY, META_VIEW, META_AGE, META_SEX = 1, 3, 4, 5


@dataclass
class MetaChunk:
    fields: dict[str, pd.Series]  # FIELDS, normalised text; view and sex canonical ("" unknown)
    age: np.ndarray  # float64, NaN unknown
    status: np.ndarray  # int8: 0 or a row-local problem (META_*)
    empty_field: np.ndarray  # object: the first empty required field, "" none
    view_text: np.ndarray  # object: upper-cased view as given (for the RL714 reason)


class MetadataReader:
    """Column mapping and row-local validation of image metadata, applied chunk by chunk."""

    def __init__(
        self,
        columns: Sequence[str],
        name: str,
        preset: str = "default",
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self.vocab = export_vocab()
        self.cols, spec = column_map(preset, overrides or {})
        self.template = spec.get("path_template")
        self.required = ["report_id", "patient_id"] + (
            ["image_id"] if self.template and "path" not in (overrides or {}) else ["path"]
        )
        missing = [
            f"{f} (column {self.cols.get(f, f)!r})"
            for f in self.required
            if self.cols.get(f, f) not in columns
        ]
        if missing:
            raise ExportError(
                f"metadata {name} lacks {', '.join(missing)}; "
                f"its columns: {', '.join(map(str, columns))}"
                "; map them with --columns FIELD=COLUMN",
                code=E.RL701,
            )
        self.source = {f: self.cols.get(f, f) for f in FIELDS if self.cols.get(f, f) in columns}

    @property
    def read_columns(self) -> list[str]:
        return list(dict.fromkeys(self.source.values()))

    def chunk(self, raw: pd.DataFrame) -> MetaChunk:
        vocab = self.vocab
        n = len(raw)
        blank = blank_text(n)
        f = {
            name: (_text(raw[self.source[name]]).reset_index(drop=True) if name in self.source else blank)
            for name in FIELDS
        }
        if "path" in self.required:
            f["image_id"] = f["image_id"].where(f["image_id"] != "", f["path"])
        else:
            f["path"] = _template(str(self.template), f)  # "path" not required: a template is set
        status = np.zeros(n, dtype=np.int8)
        empty_field = np.full(n, "", dtype=object)
        for name in self.required:
            new = (f[name] == "").to_numpy() & (status == 0)
            status[new] = META_EMPTY
            empty_field[new] = name
        # views, ages and sexes take few distinct values: normalise each distinct value once
        view_up = by_value(f["view"], lambda v: " ".join(v.upper().split()))
        view = by_value(f["view"], lambda v: vocab.view_aliases.get(" ".join(v.upper().split())))
        status[(status == 0) & pd.isna(view) & (view_up != "")] = META_VIEW
        lo, hi = vocab.age_range
        age = by_value(f["age"], _number).astype(np.float64)
        bad_age = (f["age"] != "").to_numpy() & ~((age >= lo) & (age <= hi))
        status[(status == 0) & bad_age] = META_AGE
        sex_up = by_value(f["sex"], str.upper)
        sex = by_value(f["sex"], lambda v: vocab.sex_aliases.get(v.upper()))
        status[(status == 0) & pd.isna(sex) & (sex_up != "")] = META_SEX
        f["view"] = by_value_text(
            f["view"], lambda v: vocab.view_aliases.get(" ".join(v.upper().split()), "")
        )
        f["sex"] = by_value_text(f["sex"], lambda v: vocab.sex_aliases.get(v.upper(), "Unknown"))
        return MetaChunk(f, age, status, empty_field, view_up)
