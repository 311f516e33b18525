"""Output tables of each ``--format``, as pyarrow tables ready for :mod:`.csvio`.

* ``chexpert``: ``<split>.csv`` per split (train.csv, valid.csv, test.csv) with CheXpert's columns;
  every ``Path`` starts with its split's folder (``train/``, ``valid/``), which is how
  torchxrayvision's CheX_Dataset finds the patient id.
* ``mimic``: MIMIC-CXR-JPG's label, metadata and split files (one label row per study).
* ``csv``: ``<split>.csv`` with the metadata fields and the labels, for any other trainer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import E, ExportError
from .csvio import label_cells
from .vocab import export_vocab


def _labels(table: dict, matrix: np.ndarray, labels: Sequence[str], order: Sequence[str]) -> None:
    for name in order:
        table[name] = label_cells(matrix[:, labels.index(name)])


def _age(age: pd.Series, integral: bool) -> pa.Array:
    """Ages as whole numbers (``60``) when every known age of the export is whole, else as floats."""
    values = age.to_numpy(dtype=np.float64, na_value=np.nan)
    if integral:
        return pa.array(pd.array(np.round(values), dtype="Float64").astype("Int64"))
    return pa.array(values, from_pandas=True)


def relayout_paths(
    images: pd.DataFrame, folders: np.ndarray, study: np.ndarray, view_n: np.ndarray, width: int
) -> pd.Series:
    """CheXpert-style paths ``<split>/patientNNNNN/studyN/viewN_frontal.jpg`` for each image.

    ``study``: the rank of the image's report among its patient's reports, ``view_n`` the rank of
    the image among its report's images (both 1-based, in the order of first appearance).
    """
    vocab = export_vocab()
    pnum = pd.Series((images["patient_code"].to_numpy() + 1).astype(str))
    fl = images["view"].map({k: v.frontal_lateral.lower() for k, v in vocab.views.items()}).fillna("unknown")
    fl = fl.where(fl != "", "unknown").reset_index(drop=True)
    suffix = images["path"].str.extract(r"(\.[A-Za-z0-9]{1,5})$", expand=False).fillna(".jpg").str.lower()
    return (
        pd.Series(folders)
        + "/patient"
        + pnum.str.zfill(width)
        + "/study"
        + pd.Series(study.astype(str))
        + "/view"
        + pd.Series(view_n.astype(str))
        + "_"
        + fl.astype(str)
        + suffix.reset_index(drop=True)
    )


def split_paths(images: pd.DataFrame, folders: np.ndarray, image_root: Path | None) -> pd.Series:
    """``<split>/<path relative to the image root>``: the split folder leads every path."""
    paths = images["path"].astype(str)
    absolute = paths.str.startswith("/")
    if absolute.any():
        if image_root is None:
            raise ExportError(
                "metadata paths are absolute: give --image-root (the folder they are under) or --relayout",
                code=E.RL706,
            )
        root = os.path.realpath(image_root).rstrip("/") + "/"
        outside = absolute & ~paths.str.startswith(root)
        if outside.any():
            raise ExportError(
                f"{int(outside.sum())} metadata paths are outside --image-root {image_root}", code=E.RL706
            )
        paths = paths.where(~absolute, paths.str.slice(len(root)))
    paths = paths.str.replace(r"^\./", "", regex=True)
    return pd.Series(folders) + "/" + paths


def chexpert_columns() -> list[str]:
    vocab = export_vocab()
    return ["Path", "Sex", "Age", "Frontal/Lateral", "AP/PA", *vocab.chexpert_labels]


def check_chexpert_labels(labels: Sequence[str], fmt: str) -> None:
    missing = [lab for lab in export_vocab().chexpert_labels if lab not in labels]
    if missing:
        raise ExportError(
            f"--format {fmt} needs the CheXpert labels; missing {', '.join(missing)}", code=E.RL707
        )


def chexpert_table(
    images: pd.DataFrame, matrix: np.ndarray, labels: Sequence[str], paths: pd.Series, integral: bool
) -> pa.Table:
    vocab = export_vocab()
    fl = images["view"].map({k: v.frontal_lateral for k, v in vocab.views.items()}).fillna("")
    appa = images["view"].map({k: v.ap_pa for k, v in vocab.views.items()}).fillna("")
    table = {
        "Path": pa.array(paths.astype(str)),
        "Sex": pa.array(images["sex"].astype(str)),
        "Age": _age(images["age"], integral),
        "Frontal/Lateral": pa.array(fl.astype(str)),
        "AP/PA": pa.array(appa.astype(str)),
    }
    _labels(table, matrix, labels, vocab.chexpert_labels)
    return pa.table(table)


CSV_FIELDS = ("report_id", "patient_id", "image_id", "path", "view", "sex", "age")


def csv_table(images: pd.DataFrame, matrix: np.ndarray, labels: Sequence[str], integral: bool) -> pa.Table:
    table = {c: pa.array(images[c].astype(str)) for c in CSV_FIELDS[:-1]}
    table["age"] = _age(images["age"], integral)
    _labels(table, matrix, labels, labels)
    return pa.table(table)


def mimic_columns(labels_file: bool) -> list[str]:
    if labels_file:
        return ["subject_id", "study_id", *sorted(export_vocab().chexpert_labels)]
    return ["dicom_id", "subject_id", "study_id", "ViewPosition", "StudyDate"]


MIMIC_SPLIT_COLUMNS = ["dicom_id", "study_id", "subject_id", "split"]


def mimic_tables(
    images: pd.DataFrame, matrix: np.ndarray, labels: Sequence[str], split_idx: np.ndarray, first: np.ndarray
) -> dict[str, pa.Table]:
    """MIMIC-CXR-JPG's three files: labels per study (``first``: the study's first image; labels in
    alphabetical order, as MIMIC ships them), metadata per image (with StudyDate, which
    torchxrayvision reads) and the split per image."""
    vocab = export_vocab()
    studies = images[first]
    lab_table = {
        "subject_id": pa.array(studies["patient_id"].astype(str)),
        "study_id": pa.array(studies["report_id"].astype(str)),
    }
    _labels(lab_table, matrix[first], labels, sorted(vocab.chexpert_labels))
    vp = images["view"].map({k: v.view_position for k, v in vocab.views.items()}).fillna("")
    meta = {
        "dicom_id": images["image_id"],
        "subject_id": images["patient_id"],
        "study_id": images["report_id"],
        "ViewPosition": vp,
        "StudyDate": images["study_date"],
    }
    names = np.array([s.mimic for s in vocab.splits])
    split = {
        "dicom_id": images["image_id"],
        "study_id": images["report_id"],
        "subject_id": images["patient_id"],
        "split": pd.Series(names[split_idx]),
    }
    m = vocab.mimic
    return {
        m["labels_file"]: pa.table(lab_table),
        m["metadata_file"]: pa.table({k: pa.array(pd.Series(v).astype(str)) for k, v in meta.items()}),
        m["split_file"]: pa.table({k: pa.array(pd.Series(v).astype(str)) for k, v in split.items()}),
    }


def mimic_relayout_paths(images: pd.DataFrame) -> pd.Series:
    """``files/p<first two of subject>/p<subject>/s<study>/<dicom>.jpg``, where MIMIC_Dataset looks."""
    sid = images["patient_id"].astype(str)
    return (
        "files/p"
        + sid.str.slice(0, 2)
        + "/p"
        + sid
        + "/s"
        + images["report_id"].astype(str)
        + "/"
        + images["image_id"].astype(str)
        + ".jpg"
    )
