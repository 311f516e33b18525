"""``export``: plan (read, validate, join, split, apply the policy) then write, all-or-nothing.

:func:`plan_export` does every check and computation in memory and writes nothing, so the
command can print a dry-run summary first; :func:`write_export` then writes the files of the
chosen format, ``prevalence.csv``, ``rejects.csv`` (when there are rejects) and
``export.json``, each under a temporary name, renamed into place together at the end.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..batch.paths import guard_paths
from ..errors import ExportError, OutputError
from ..schema import load_taxonomy
from .csvio import write_tables
from .formats import (
    chexpert_table,
    csv_table,
    mimic_relayout_paths,
    mimic_tables,
    relayout_paths,
    split_paths,
)
from .join import join_images
from .policies import apply_policy, load_policy
from .splits import parse_split, patient_split, prevalence_table
from .tables import REJECT_COLUMNS, load_labels, load_metadata
from .vocab import export_vocab

FORMATS = ("chexpert", "mimic", "csv")


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
class ExportPlan:
    options: ExportOptions
    labels: tuple[str, ...]
    images: pd.DataFrame
    raw: np.ndarray  # labels before the policy
    values: np.ndarray  # labels after --uncertain / --blank-as
    split_idx: np.ndarray
    split_names: tuple[str, ...]
    fractions: tuple[float, ...]
    rejects: pd.DataFrame
    counts: dict
    prevalence: pd.DataFrame

    def summary(self) -> dict:
        per_split = {}
        for s, name in enumerate(self.split_names):
            mask = self.split_idx == s
            per_split[name] = {
                "images": int(mask.sum()),
                "patients": int(self.images["patient_code"][mask].nunique()),
                "reports": int(self.images["report_id"][mask].nunique()),
            }
        by_code = self.rejects["code"].value_counts().sort_index()
        return {
            **self.counts,
            "images": len(self.images),
            "patients": int(self.images["patient_code"].nunique()),
            "rejects": int(len(self.rejects)),
            "rejects_by_code": {str(k): int(v) for k, v in by_code.items()},
            "splits": per_split,
            "format": self.options.format,
            "uncertain": self.options.uncertain,
            "blank_as": self.options.blank_as,
            "split": list(self.fractions),
            "seed": self.options.seed,
            "relayout": self.options.relayout,
        }


def plan_export(labels_path: str | Path, metadata_path: str | Path, options: ExportOptions) -> ExportPlan:
    """Read, validate, join, split and apply the policy; nothing is written."""
    if options.format not in FORMATS:
        raise ExportError(f"--format {options.format!r}: use {', '.join(FORMATS)}", code="RL700")
    vocab = export_vocab()
    names = [lab.name for lab in load_taxonomy(options.taxonomy).labels]
    policy = load_policy(options.uncertain, names)
    fractions = parse_split(options.split, len(vocab.splits))
    prefix = vocab.presets.get(options.preset, {}).get("report_id_prefix")
    table = load_labels(Path(labels_path), names, options.id_column, prefix)
    meta = load_metadata(Path(metadata_path), options.preset, options.columns)
    joined = join_images(table, meta)
    rejects = pd.concat([table.rejects, meta.rejects, joined.rejects], ignore_index=True)
    if len(joined.images) == 0:
        raise ExportError(
            f"no image could be joined to a report ({len(rejects)} rejects); check --columns, "
            "--preset and the id columns",
            code="RL708",
        )
    raw = joined.matrix
    split_idx = patient_split(joined.images["patient_code"].to_numpy(), raw == 1.0, fractions, options.seed)
    values = apply_policy(raw, names, policy, options.blank_as)
    split_names = tuple(s.name for s in vocab.splits[: len(fractions)])
    counts = {
        "label_rows": int(len(table.ids) + (table.rejects["source"] == "labels").sum()),
        "metadata_rows": int(len(meta.frame) + len(meta.rejects)),
        "missing_labels": list(table.missing_labels),
    }
    return ExportPlan(
        options,
        tuple(names),
        joined.images,
        raw,
        values,
        split_idx,
        split_names,
        fractions,
        rejects,
        counts,
        prevalence_table(values, names, split_idx, split_names),
    )


def check_output_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse a non-empty folder (RL702) unless ``overwrite``; refuse a file."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"-o {out_dir} is a file; give a folder", code="RL702")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise ExportError(
            f"-o {out_dir} is not empty; give --overwrite to replace its export, or an empty folder",
            code="RL702",
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
            raise OutputError(f"{folder} holds regular files; not removing it for the relayout", code="RL300")
    shutil.rmtree(folder)


def write_export(
    plan: ExportPlan,
    labels_path: str | Path,
    metadata_path: str | Path,
    out_dir: str | Path,
    overwrite: bool = False,
) -> dict:
    """Write the plan's files into ``out_dir``; returns the summary also written to ``export.json``."""
    from ..batch.staging import write_json_atomic

    out = Path(out_dir)
    check_output_dir(out, overwrite)
    opts = plan.options
    vocab = export_vocab()
    folders = np.array([s.folder for s in vocab.splits])[plan.split_idx]
    tables: dict[str, pa.Table] = {}
    link_paths: pd.Series | None = None
    if opts.format == "chexpert":
        paths = (
            relayout_paths(plan.images, folders)
            if opts.relayout
            else split_paths(plan.images, folders, opts.image_root)
        )
        link_paths = paths if opts.relayout else None
        for s, name in enumerate(plan.split_names):
            if plan.fractions[s] > 0:
                m = plan.split_idx == s
                tables[f"{name}.csv"] = chexpert_table(plan.images[m], plan.values[m], plan.labels, paths[m])
    elif opts.format == "csv":
        for s, name in enumerate(plan.split_names):
            if plan.fractions[s] > 0:
                m = plan.split_idx == s
                tables[f"{name}.csv"] = csv_table(
                    plan.images[m].reset_index(drop=True), plan.values[m], plan.labels
                )
    else:
        tables.update(mimic_tables(plan.images, plan.values, plan.labels, plan.split_idx))
        link_paths = mimic_relayout_paths(plan.images) if opts.relayout else None
    if link_paths is not None:
        tables["path_map.csv"] = pa.table(
            {"Path": pa.array(link_paths.astype(str)), "source": pa.array(plan.images["path"].astype(str))}
        )
    tables["prevalence.csv"] = pa.Table.from_pandas(plan.prevalence, preserve_index=False)
    if len(plan.rejects):
        tables["rejects.csv"] = pa.Table.from_pandas(
            plan.rejects[REJECT_COLUMNS].astype(
                {"line": "int64", "source": str, "record": str, "code": str, "reason": str}
            ),
            preserve_index=False,
        )
    finals = {out / name: t for name, t in tables.items()}
    guard_paths(
        {"LABELS": labels_path, "--metadata": metadata_path},
        {**dict(zip(tables, finals)), "export.json": out / "export.json"},
    )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create folder {out}: {err.strerror}") from None
    if link_paths is not None:
        for top in sorted({p.split("/", 1)[0] for p in link_paths.unique()}):
            _clear_tree(out, top)
        _link_tree(out, link_paths, plan.images["path"].astype(str), opts.image_root)
    write_tables(finals)
    if overwrite:  # files of an earlier export that this one does not write (e.g. its valid.csv)
        for stale in _export_file_names(vocab) - set(tables):
            if (out / stale).is_file():
                (out / stale).unlink()
    summary = {**plan.summary(), "files": sorted(tables)}
    write_json_atomic(out / "export.json", summary)
    return summary
