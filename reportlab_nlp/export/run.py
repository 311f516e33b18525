"""``export``: plan (pass 1: read, validate, join, split) then write (pass 2), all-or-nothing.

:func:`plan_export` reads both inputs chunk by chunk (:mod:`.scan`), does every check and
decides every image's split, and writes nothing, so the command can print a dry-run summary
first; it keeps compact arrays only (see :mod:`.scan` for what they cost per row).
:func:`write_export` reads the metadata again chunk by chunk and streams each chunk's rows into
the files of the chosen format, ``rejects.csv`` (when there are rejects), ``prevalence.csv`` and
``export.json``, each under a temporary name, renamed into place together at the end.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..batch.paths import guard_paths
from ..errors import E, ExportError, OutputError
from ..schema import load_taxonomy
from .chunks import iter_frames, table_columns
from .csvio import csv_sinks
from .formats import (
    CSV_FIELDS,
    MIMIC_SPLIT_COLUMNS,
    check_chexpert_labels,
    chexpert_columns,
    chexpert_table,
    csv_table,
    mimic_columns,
    mimic_relayout_paths,
    mimic_tables,
    relayout_paths,
    split_paths,
)
from .policies import apply_policy, load_policy
from .scan import (
    LAB_BAD,
    LAB_OK,
    LABEL_CODES,
    META_CODES,
    META_OK,
    LabelScan,
    MetaScan,
    scan_labels,
    scan_metadata,
)
from .splits import parse_split, split_patients
from .tables import CODE_VALUES, FIELDS, META_EMPTY, META_VIEW, REJECT_COLUMNS, MetadataReader, label_ids
from .vocab import export_vocab

FORMATS = ("chexpert", "mimic", "csv")
_REASONS = {
    E.RL712: "empty report id",
    E.RL716: "report id appears more than once in the label table",
    E.RL711: "report without an image in the metadata",
    E.RL713: "image id appears more than once in the metadata",
    E.RL717: "unknown sex (see rules/export.yml sexes)",
    E.RL710: "image without a usable report in the label table",
    E.RL719: "its report's images name more than one patient",
}


@dataclass
class ExportOptions:
    format: str = "chexpert"
    preset: str = "default"
    columns: Mapping[str, str] = field(default_factory=dict)
    id_column: str | None = None
    taxonomy: str = "chexpert"
    uncertain: str = "keep"
    blank_as: str = "blank"
    split: str = "0.8,0.1,0.1"
    seed: int = 0
    relayout: bool = False
    image_root: Path | None = None


@dataclass
class ImageChunk:
    """The usable images of one metadata chunk (pass 2), with their pass-1 decisions."""

    images: pd.DataFrame  # line, FIELDS, age, patient_code; index 0..n-1
    codes: np.ndarray  # int8 images x labels (raw cells, see tables.value_codes)
    split: np.ndarray  # int8 split index per image
    study: np.ndarray  # int32: rank of the report among its patient's reports (1-based)
    view_n: np.ndarray  # int32: rank of the image among its report's images (1-based)
    first: np.ndarray  # bool: the first image of its report
    rejects: pd.DataFrame  # the chunk's metadata rejects


@dataclass
class ExportPlan:
    options: ExportOptions
    labels: tuple[str, ...]
    labels_path: Path
    metadata_path: Path
    label_scan: LabelScan
    meta_scan: MetaScan
    reader: MetadataReader
    mapped: np.ndarray  # float32 4 x labels: the value each cell code becomes under the policy
    patient_split: np.ndarray  # int8 split index per patient
    study: np.ndarray  # int32 per metadata row (0 where not usable); empty unless --relayout chexpert
    view_n: np.ndarray  # int32 per metadata row; empty unless --relayout chexpert
    first: np.ndarray  # bool per metadata row: the first usable image of its report
    split_names: tuple[str, ...]
    fractions: tuple[float, ...]
    counts: dict
    prevalence: pd.DataFrame

    # ------------------------------------------------------------------ summary
    @property
    def n_images(self) -> int:
        return int(self.meta_scan.usable.sum())

    @property
    def n_rejects(self) -> int:
        return int((self.label_scan.status != LAB_OK).sum() + (self.meta_scan.status != META_OK).sum())

    def rejects_by_code(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for codes, status in ((LABEL_CODES, self.label_scan.status), (META_CODES, self.meta_scan.status)):
            counts = np.bincount(status, minlength=max(codes) + 1)
            for k, code in codes.items():
                if counts[k]:
                    out[code] = out.get(code, 0) + int(counts[k])
        return dict(sorted(out.items()))

    def summary(self) -> dict:
        ms = self.meta_scan
        ok = ms.usable
        img_split = self.patient_split[ms.patient[ok]]
        reports = ms.report[ok][self.first[ok]]
        report_split = img_split[self.first[ok]]
        per_split = {}
        for s, name in enumerate(self.split_names):
            per_split[name] = {
                "images": int((img_split == s).sum()),
                "patients": int((self.patient_split == s).sum()),
                "reports": int(len(np.unique(reports[report_split == s]))),
            }
        return {
            **self.counts,
            "images": self.n_images,
            "patients": int(ms.n_patients),
            "rejects": self.n_rejects,
            "rejects_by_code": self.rejects_by_code(),
            "splits": per_split,
            "format": self.options.format,
            "uncertain": self.options.uncertain,
            "blank_as": self.options.blank_as,
            "split": list(self.fractions),
            "seed": self.options.seed,
            "relayout": self.options.relayout,
        }

    # ------------------------------------------------------------------ pass 2
    def label_rejects(self) -> Iterator[pd.DataFrame]:
        """Rejected label rows, chunk by chunk (re-reads the id column only, when there are any)."""
        ls = self.label_scan
        if not (ls.status != LAB_OK).any():
            return
        prefix = export_vocab().presets.get(self.options.preset, {}).get("report_id_prefix")
        offset = 0
        for frame in iter_frames(self.labels_path, "label table", [ls.id_column]):
            n = len(frame)
            st = ls.status[offset : offset + n]
            bad = np.flatnonzero(st != LAB_OK)
            if len(bad):
                ids = label_ids(frame, ls.id_column, prefix)
                codes = [LABEL_CODES[int(k)] for k in st[bad]]
                cols = ls.bad_col[offset + bad]
                reasons = [
                    f"column {self.labels[c]} holds a value that is not 1, 0, -1 or blank"
                    if k == LAB_BAD
                    else _REASONS[code]
                    for k, c, code in zip(st[bad], cols, codes)
                ]
                yield pd.DataFrame(
                    {
                        "source": "labels",
                        "line": offset + bad + 2,
                        "record": ids.iloc[bad].to_numpy(dtype=object),
                        "code": codes,
                        "reason": reasons,
                    },
                    columns=REJECT_COLUMNS,
                )
            offset += n

    def image_chunks(self) -> Iterator[ImageChunk]:
        """The metadata again, chunk by chunk: usable images with their labels and split, and rejects."""
        ms, ls = self.meta_scan, self.label_scan
        lo, hi = export_vocab().age_range
        offset = 0
        for frame in iter_frames(self.metadata_path, "metadata", self.reader.read_columns):
            n = len(frame)
            ch = self.reader.chunk(frame)
            sl = slice(offset, offset + n)
            st = ms.status[sl]
            if len(st) != n:
                raise ExportError(
                    f"metadata {self.metadata_path.name} changed during the export", code=E.RL701
                )
            ok = st == META_OK
            images = pd.DataFrame({"line": np.arange(offset, offset + n) + 2, **ch.fields, "age": ch.age})
            images = images[ok].reset_index(drop=True)
            images["patient_code"] = ms.patient[sl][ok]
            rep = ms.report[sl][ok]
            bad = np.flatnonzero(~ok)
            record = images_record(ch.fields["image_id"], bad, offset)
            reasons = []
            for i, k in zip(bad, st[bad]):
                code = META_CODES[int(k)]
                if k == META_EMPTY:
                    reasons.append(f"empty {ch.empty_field[i]}")
                elif k == META_VIEW:
                    reasons.append(f"unknown view {ch.view_text[i][:30]} (see rules/export.yml views)")
                elif code == E.RL715:
                    reasons.append(f"age is not a number between {lo:g} and {hi:g}")
                else:
                    reasons.append(_REASONS[code])
            rejects = pd.DataFrame(
                {
                    "source": "metadata",
                    "line": offset + bad + 2,
                    "record": record,
                    "code": [META_CODES[int(k)] for k in st[bad]],
                    "reason": reasons,
                },
                columns=REJECT_COLUMNS,
            )
            yield ImageChunk(
                images,
                ls.codes[rep],
                self.patient_split[images["patient_code"].to_numpy()],
                self.study[sl][ok] if len(self.study) else self.study,
                self.view_n[sl][ok] if len(self.view_n) else self.view_n,
                self.first[sl][ok],
                rejects,
            )
            offset += n

    @cached_property
    def images(self) -> pd.DataFrame:
        """Every usable image (reads the metadata again; for small inputs and tests)."""
        parts = [c.images for c in self.image_chunks()]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["line", *FIELDS])

    @cached_property
    def rejects(self) -> pd.DataFrame:
        """Every reject, label rows first, each source in file order (reads the inputs again)."""
        parts = [*self.label_rejects(), *(c.rejects for c in self.image_chunks())]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=REJECT_COLUMNS)


def images_record(image_ids: pd.Series, rows: np.ndarray, offset: int) -> np.ndarray:
    """The image id of each rejected row, or ``line N`` where it is empty."""
    rec = image_ids.iloc[rows].to_numpy(dtype=object)
    lines = np.char.add("line ", (offset + rows + 2).astype(str)).astype(object)
    return np.where(rec == "", lines, rec)


def _first_of_report(ms: MetaScan) -> np.ndarray:
    """Per metadata row: the first usable image of its report (hash-table ``duplicated``)."""
    first = np.zeros(ms.rows, dtype=bool)
    ok = np.flatnonzero(ms.usable)
    first[ok] = ~pd.Series(ms.report[ok]).duplicated().to_numpy()
    return first


def _ranks(ms: MetaScan, first: np.ndarray, n_reports: int) -> tuple[np.ndarray, np.ndarray]:
    """Per metadata row (``--relayout`` only): study rank within its patient, view rank within its report."""
    ok = np.flatnonzero(ms.usable)
    rep, pat = ms.report[ok], ms.patient[ok]
    study = np.zeros(ms.rows, dtype=np.int32)
    view_n = np.zeros(ms.rows, dtype=np.int32)
    if not len(ok):
        return study, view_n
    order = np.argsort(rep, kind="stable")
    sorted_rep = rep[order]
    starts = np.flatnonzero(np.r_[True, sorted_rep[1:] != sorted_rep[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    view_n[ok[order]] = np.arange(len(order)) - group_start + 1
    del order, group_start
    # reports of a patient ranked by their first image
    first_pos = np.flatnonzero(first[ok])  # (within ok) first image of each report, in file order
    o2 = np.lexsort((first_pos, pat[first_pos]))
    p_sorted = pat[first_pos][o2]
    pstarts = np.flatnonzero(np.r_[True, p_sorted[1:] != p_sorted[:-1]])
    pgroup = np.repeat(pstarts, np.diff(np.r_[pstarts, len(o2)]))
    study_of_report = np.zeros(n_reports, dtype=np.int32)
    study_of_report[rep[first_pos][o2]] = np.arange(len(o2)) - pgroup + 1
    study[ok] = study_of_report[rep]
    return study, view_n


def _prevalence(
    ls: LabelScan, ms: MetaScan, patient_split: np.ndarray, mapped: np.ndarray, split_names, labels
) -> pd.DataFrame:
    """Counts of 1 / 0 / -1 / blank per split and label after the policy, with the positive share."""
    ok = ms.usable
    rep = ms.report[ok]
    split = patient_split[ms.patient[ok]].astype(np.int64)
    n_s = len(split_names)
    images = np.bincount(split, minlength=n_s)
    rows = []
    counts = np.zeros((len(labels), n_s, 4), dtype=np.int64)
    for j in range(len(labels)):
        counts[j] = np.bincount(split * 4 + ls.codes[rep, j], minlength=n_s * 4).reshape(n_s, 4)
    for s, name in enumerate(split_names):
        n = int(images[s])
        for j, lab in enumerate(labels):
            v, c = mapped[:, j], counts[j, s]
            pos = int(c[v == 1.0].sum())
            rows.append(
                {
                    "split": name,
                    "label": lab,
                    "images": n,
                    "positive": pos,
                    "negative": int(c[v == 0.0].sum()),
                    "uncertain": int(c[v == -1.0].sum()),
                    "blank": int(c[np.isnan(v)].sum()),
                    "positive_pct": round(100.0 * pos / n, 2) if n else 0.0,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["split", "label", "images", "positive", "negative", "uncertain", "blank", "positive_pct"],
    )


def plan_export(labels_path: str | Path, metadata_path: str | Path, options: ExportOptions) -> ExportPlan:
    """Pass 1: read, validate, join and split; nothing is written (see :mod:`.scan` for memory)."""
    if options.format not in FORMATS:
        raise ExportError(f"--format {options.format!r}: use {', '.join(FORMATS)}", code=E.RL700)
    vocab = export_vocab()
    names = [lab.name for lab in load_taxonomy(options.taxonomy).labels]
    if options.format in ("chexpert", "mimic"):
        check_chexpert_labels(names, options.format)
    policy = load_policy(options.uncertain, names)
    mapped = apply_policy(
        np.repeat(CODE_VALUES[:, None], len(names), axis=1), names, policy, options.blank_as
    )
    fractions = parse_split(options.split, len(vocab.splits))
    prefix = vocab.presets.get(options.preset, {}).get("report_id_prefix")
    labels_path, metadata_path = Path(labels_path), Path(metadata_path)
    reader = MetadataReader(
        table_columns(metadata_path, "metadata"), metadata_path.name, options.preset, options.columns
    )
    ls = scan_labels(labels_path, names, options.id_column, prefix)
    ms = scan_metadata(metadata_path, reader, ls)
    if not ms.usable.any():
        n_rej = int((ls.status != LAB_OK).sum() + (ms.status != META_OK).sum())
        raise ExportError(
            f"no image could be joined to a report ({n_rej} rejects); check --columns, "
            "--preset and the id columns",
            code=E.RL708,
        )
    ok = ms.usable
    pos = np.zeros((ms.n_patients, len(names)), dtype=bool)
    for j in range(len(names)):
        pos[:, j] = (
            np.bincount(ms.patient[ok], weights=ls.codes[ms.report[ok], j] == 1, minlength=ms.n_patients) > 0
        )
    patient_split = split_patients(pos, fractions, options.seed)
    del pos
    first = _first_of_report(ms)
    if options.relayout and options.format == "chexpert":
        study, view_n = _ranks(ms, first, ls.rows)
    else:  # only CheXpert's relayout paths number studies and views
        study = view_n = np.zeros(0, dtype=np.int32)
    split_names = tuple(s.name for s in vocab.splits[: len(fractions)])
    counts = {
        "label_rows": ls.rows,
        "metadata_rows": ms.rows,
        "missing_labels": list(ls.missing_labels),
    }
    return ExportPlan(
        options,
        tuple(names),
        labels_path,
        metadata_path,
        ls,
        ms,
        reader,
        mapped,
        patient_split,
        study,
        view_n,
        first,
        split_names,
        fractions,
        counts,
        _prevalence(ls, ms, patient_split, mapped, split_names, names),
    )


_LEFTOVER = re.compile(r"^\.(.+)\.\d+\.tmp$")


def _leftovers(out_dir: Path) -> list[Path]:
    """Temporary files that an interrupted (killed) export of ours left in ``out_dir``."""
    names = _export_file_names(export_vocab()) | {"export.json"}
    return [p for p in out_dir.iterdir() if (m := _LEFTOVER.match(p.name)) and m.group(1) in names]


def check_output_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse a non-empty folder (RL702) unless ``overwrite``; refuse a file.

    The temporary files a killed export left behind do not count: the next export removes them.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"-o {out_dir} is a file; give a folder", code=E.RL702)
    if out_dir.is_dir() and not overwrite:
        left = set(_leftovers(out_dir))
        if any(p not in left for p in out_dir.iterdir()):
            raise ExportError(
                f"-o {out_dir} is not empty; give --overwrite to replace its export, or an empty folder",
                code=E.RL702,
            )


def _export_file_names(vocab) -> set[str]:
    names = {f"{s.name}.csv" for s in vocab.splits} | {"rejects.csv", "path_map.csv", "prevalence.csv"}
    return names | {vocab.mimic[k] for k in ("labels_file", "metadata_file", "split_file")}


def _link_tree(out_dir: Path, rel_paths: pd.Series, sources: pd.Series, root: Path | None) -> None:
    """Symlinks ``out_dir/<rel>`` -> source image (absolute). Images are never copied."""
    base = Path(os.path.realpath(root)) if root is not None else Path.cwd()
    made: set[str] = set()
    for rel, src in zip(rel_paths.tolist(), sources.tolist()):
        target = out_dir / rel
        parent = str(target.parent)
        if parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(parent)
        if target.is_symlink():
            target.unlink()
        os.symlink(src if os.path.isabs(src) else base / src, target)


def _clear_tree(out_dir: Path, top: str) -> None:
    """Remove an earlier relayout folder: only symlinks and the folders holding them."""
    folder = out_dir / top
    if not folder.is_dir() or folder.is_symlink():
        return
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            raise OutputError(f"{folder} holds regular files; not removing it for the relayout", code=E.RL300)
    shutil.rmtree(folder)


def _output_columns(plan: ExportPlan, out: Path) -> dict[Path, list[str]]:
    opts, vocab = plan.options, export_vocab()
    cols: dict[Path, list[str]] = {}
    live = [name for s, name in enumerate(plan.split_names) if plan.fractions[s] > 0]
    if opts.format == "chexpert":
        cols.update({out / f"{name}.csv": chexpert_columns() for name in live})
    elif opts.format == "csv":
        cols.update({out / f"{name}.csv": [*CSV_FIELDS, *plan.labels] for name in live})
    else:
        m = vocab.mimic
        cols[out / m["labels_file"]] = mimic_columns(True)
        cols[out / m["metadata_file"]] = mimic_columns(False)
        cols[out / m["split_file"]] = list(MIMIC_SPLIT_COLUMNS)
    if opts.relayout:
        cols[out / "path_map.csv"] = ["Path", "source"]
    if plan.n_rejects:
        cols[out / "rejects.csv"] = list(REJECT_COLUMNS)
    cols[out / "prevalence.csv"] = list(plan.prevalence.columns)
    return cols


def _reject_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(
        frame[REJECT_COLUMNS].astype(
            {"line": "int64", "source": str, "record": str, "code": str, "reason": str}
        ),
        preserve_index=False,
    )


def _write_chunk(plan: ExportPlan, ch: ImageChunk, out: Path, sinks: dict, width: int) -> None:
    """One metadata chunk's images into the format's files (and symlinks with --relayout)."""
    opts, vocab = plan.options, export_vocab()
    idx = np.arange(len(plan.labels))
    values = plan.mapped[ch.codes, idx] if len(ch.codes) else np.zeros((0, len(plan.labels)), np.float32)
    integral = plan.meta_scan.ages_integral
    link_paths: pd.Series | None = None
    if opts.format == "mimic":
        for name, table in mimic_tables(ch.images, values, plan.labels, ch.split, ch.first).items():
            sinks[out / name].write(table)
        link_paths = mimic_relayout_paths(ch.images) if opts.relayout else None
    else:
        folders = np.array([s.folder for s in vocab.splits])[ch.split]
        if opts.format == "chexpert":
            paths = (
                relayout_paths(ch.images, folders, ch.study, ch.view_n, width)
                if opts.relayout
                else split_paths(ch.images, folders, opts.image_root)
            )
            link_paths = paths if opts.relayout else None
        for s, name in enumerate(plan.split_names):
            if plan.fractions[s] <= 0:
                continue
            m = ch.split == s
            sub = ch.images[m].reset_index(drop=True)
            if opts.format == "chexpert":
                table = chexpert_table(sub, values[m], plan.labels, paths[m].reset_index(drop=True), integral)
            else:
                table = csv_table(sub, values[m], plan.labels, integral)
            sinks[out / f"{name}.csv"].write(table)
    if link_paths is not None:
        sinks[out / "path_map.csv"].write(
            pa.table(
                {"Path": pa.array(link_paths.astype(str)), "source": pa.array(ch.images["path"].astype(str))}
            )
        )
        _link_tree(out, link_paths, ch.images["path"].astype(str), opts.image_root)


def write_export(
    plan: ExportPlan,
    labels_path: str | Path,
    metadata_path: str | Path,
    out_dir: str | Path,
    overwrite: bool = False,
) -> dict:
    """Pass 2: stream the plan's images into ``out_dir``; returns the summary also in ``export.json``.

    Every file is written under a temporary name and renamed into place only when all are
    complete, so an interrupted export (an error, Ctrl-C or a kill) never leaves a half-written
    ``train.csv``; a killed export's temporary files are removed by the next export.
    """
    from ..batch.staging import write_json_atomic

    out = Path(out_dir)
    check_output_dir(out, overwrite)
    opts = plan.options
    vocab = export_vocab()
    columns = _output_columns(plan, out)
    files = [p.name for p in columns]
    guard_paths(
        {"LABELS": labels_path, "--metadata": metadata_path},
        {
            **{p.name: p for p in columns},
            "export.json": out / "export.json",
        },
    )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create folder {out}: {err.strerror}") from None
    for left in _leftovers(out):
        left.unlink()
    if opts.relayout:
        tops = ["files"] if opts.format == "mimic" else [s.folder for s in vocab.splits]
        for top in tops:
            _clear_tree(out, top)
    width = max(5, len(str(plan.n_images)))
    with csv_sinks(columns) as sinks:
        if plan.n_rejects:
            for frame in plan.label_rejects():
                sinks[out / "rejects.csv"].write(_reject_table(frame))
        for ch in plan.image_chunks():
            _write_chunk(plan, ch, out, sinks, width)
            if len(ch.rejects):
                sinks[out / "rejects.csv"].write(_reject_table(ch.rejects))
        sinks[out / "prevalence.csv"].write(pa.Table.from_pandas(plan.prevalence, preserve_index=False))
    if overwrite:  # files of an earlier export that this one does not write (e.g. its valid.csv)
        for stale in _export_file_names(vocab) - set(files):
            if (out / stale).is_file():
                (out / stale).unlink()
    summary = {**plan.summary(), "files": sorted(files)}
    write_json_atomic(out / "export.json", summary)
    return summary
