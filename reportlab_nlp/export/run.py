"""``export``: plan (pass 1: read, validate, join, split) then write (pass 2), all-or-nothing.

:func:`plan_export` reads both inputs chunk by chunk (:mod:`.scan`), does every check and
decides every image's split in on-disk hash partitions (its own temporary folder), and writes
nothing in the output folder, so the command can print a dry-run summary first; its memory does
not grow with the input (see :mod:`.scan`).
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
from .scan import LAB_BAD, LAB_OK, LABEL_CODES, META_CODES, META_OK, Scan, scan_inputs
from .spill import PARTITION_ROWS, Workdir
from .splits import parse_split
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
    # records per on-disk partition (and rows per decision file): bounds pass 1's memory; the
    # output does not depend on it (tests set it to 3 so that every step crosses partitions)
    partition_rows: int = PARTITION_ROWS


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
    """Pass 1's result: counters in memory, per-row decisions in files of ``workdir`` (a private
    temporary folder, removed by :meth:`close`, when the plan is garbage-collected, or at exit)."""

    options: ExportOptions
    labels: tuple[str, ...]
    labels_path: Path
    metadata_path: Path
    scan: Scan
    reader: MetadataReader
    mapped: np.ndarray  # float32 4 x labels: the value each cell code becomes under the policy
    split_names: tuple[str, ...]
    fractions: tuple[float, ...]
    counts: dict
    prevalence: pd.DataFrame
    workdir: Workdir

    def close(self) -> None:
        """Remove the plan's temporary files (:meth:`image_chunks` cannot run afterwards)."""
        self.workdir.close()

    def __enter__(self) -> ExportPlan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ summary
    @property
    def n_images(self) -> int:
        return int(self.scan.meta_counts[META_OK])

    @property
    def n_rejects(self) -> int:
        sc = self.scan
        return int(sc.label_counts[1:].sum() + sc.meta_counts[1:].sum())

    def rejects_by_code(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for codes, counts in ((LABEL_CODES, self.scan.label_counts), (META_CODES, self.scan.meta_counts)):
            for k, code in codes.items():
                if counts[k]:
                    out[code] = out.get(code, 0) + int(counts[k])
        return dict(sorted(out.items()))

    def summary(self) -> dict:
        sc = self.scan
        per_split = {
            name: {
                "images": int(sc.split_images[s]),
                "patients": int(sc.split_patients[s]),
                "reports": int(sc.split_reports[s]),
            }
            for s, name in enumerate(self.split_names)
        }
        return {
            **self.counts,
            "images": self.n_images,
            "patients": int(sc.n_patients),
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
    def _changed(self, what: str, path: Path) -> ExportError:
        return ExportError(f"{what} {path.name} changed during the export", code=E.RL701)

    def label_rejects(self) -> Iterator[pd.DataFrame]:
        """Rejected label rows, chunk by chunk (re-reads the id column only, when there are any)."""
        sc = self.scan
        if not sc.label_counts[1:].any():
            return
        prefix = export_vocab().presets.get(self.options.preset, {}).get("report_id_prefix")
        statuses = sc.label_statuses()
        offset = 0
        for frame in iter_frames(self.labels_path, "label table", [sc.id_column]):
            n = len(frame)
            if offset + n > sc.label_rows:
                raise self._changed("label table", self.labels_path)
            rec = statuses.get(offset, offset + n)
            st = rec["status"]
            bad = np.flatnonzero(st != LAB_OK)
            if len(bad):
                ids = label_ids(frame, sc.id_column, prefix)
                codes = [LABEL_CODES[int(k)] for k in st[bad]]
                cols = rec["bad"][bad]
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
            del frame, rec
            offset += n

    def image_chunks(self) -> Iterator[ImageChunk]:
        """The metadata again, chunk by chunk: usable images with their labels and split, and rejects."""
        sc = self.scan
        lo, hi = export_vocab().age_range
        decisions = sc.decisions()
        offset = 0
        for frame in iter_frames(self.metadata_path, "metadata", self.reader.read_columns):
            n = len(frame)
            if offset + n > sc.meta_rows:
                raise self._changed("metadata", self.metadata_path)
            ch = self.reader.chunk(frame)
            dec = decisions.get(offset, offset + n)
            st = dec["status"]
            ok = st == META_OK
            images = pd.DataFrame({"line": np.arange(offset, offset + n) + 2, **ch.fields, "age": ch.age})
            images = images[ok].reset_index(drop=True)
            dec = dec[ok]
            images["patient_code"] = dec["pnum"] - 1
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
            out = ImageChunk(
                images, dec["codes"], dec["split"], dec["study"], dec["view_n"], dec["first"], rejects
            )
            del frame, ch, images, dec, rejects, record
            yield out
            del out  # one chunk alive at a time: not while the next is read
            offset += n
        if offset != sc.meta_rows:
            raise self._changed("metadata", self.metadata_path)

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


def _prevalence(
    counts: np.ndarray, split_images: np.ndarray, mapped: np.ndarray, split_names, labels
) -> pd.DataFrame:
    """Counts of 1 / 0 / -1 / blank per split and label after the policy, with the positive share.

    ``counts``: labels x splits x 4 raw cell codes of the usable images (pass 1's sums).
    """
    rows = []
    for s, name in enumerate(split_names):
        n = int(split_images[s])
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
    """Pass 1: read, validate, join and split (see :mod:`.scan`); nothing is written but the plan's
    temporary files (removed on an error here, else by :meth:`ExportPlan.close` or at exit)."""
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
    table_columns(labels_path, "label table")  # a missing label table is an error before any work
    workdir = Workdir()
    try:
        sc = scan_inputs(
            labels_path,
            metadata_path,
            reader,
            names,
            options.id_column,
            prefix,
            fractions,
            options.seed,
            options.relayout and options.format == "chexpert",  # only its paths number patients
            max(1, int(options.partition_rows)),
            workdir.path,
        )
        if not sc.meta_counts[META_OK]:
            n_rej = int(sc.label_counts[1:].sum() + sc.meta_counts[1:].sum())
            raise ExportError(
                f"no image could be joined to a report ({n_rej} rejects); check --columns, "
                "--preset and the id columns",
                code=E.RL708,
            )
    except BaseException:
        workdir.close()
        raise
    split_names = tuple(s.name for s in vocab.splits[: len(fractions)])
    counts = {
        "label_rows": sc.label_rows,
        "metadata_rows": sc.meta_rows,
        "missing_labels": list(sc.missing_labels),
    }
    return ExportPlan(
        options,
        tuple(names),
        labels_path,
        metadata_path,
        sc,
        reader,
        mapped,
        split_names,
        fractions,
        counts,
        _prevalence(sc.prevalence, sc.split_images, mapped, split_names, names),
        workdir,
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
    integral = plan.scan.ages_integral
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
    ``train.csv``; a killed export's temporary files are removed by the next export. On an error
    (or Ctrl-C) the plan is closed too: its temporary files go with it.
    """
    try:
        return _write_export(plan, labels_path, metadata_path, Path(out_dir), overwrite)
    except BaseException:
        plan.close()
        raise


def _write_export(plan: ExportPlan, labels_path, metadata_path, out: Path, overwrite: bool) -> dict:
    from ..batch.staging import write_json_atomic

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
            del ch
        sinks[out / "prevalence.csv"].write(pa.Table.from_pandas(plan.prevalence, preserve_index=False))
    if overwrite:  # files of an earlier export that this one does not write (e.g. its valid.csv)
        for stale in _export_file_names(vocab) - set(files):
            if (out / stale).is_file():
                (out / stale).unlink()
    summary = {**plan.summary(), "files": sorted(files)}
    write_json_atomic(out / "export.json", summary)
    return summary
