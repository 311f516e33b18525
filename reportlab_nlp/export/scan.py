"""Pass 1 of ``export``: read both inputs chunk by chunk and keep only compact arrays.

What stays in memory after the pass (and so bounds the export's memory, besides one chunk):

* per label row: a 64-bit hash of the report id, one int8 code per label, a status byte;
* per metadata row: a status byte, the row's report (int32) and patient (int32), plus, while
  the pass runs, 64-bit hashes of its image and patient ids;
* per patient: one bool per label (for the stratified split) and its split.

That is 26 bytes per label row (14 labels) and 10 bytes per image kept (17 more while pass 1
runs; sorting roughly doubles an array for a moment): no text, no pandas frame of the whole
input. docs/export.md ("Speed and memory") has the measured peaks.

Keys are compared by their 64-bit hashes (pandas' SipHash), so two different ids collide with a
probability of about n^2 / 2^65 (3e-8 for two million ids).

Statuses (0 = usable) map to the reject codes (:data:`LABEL_CODES`, :data:`META_CODES`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import E
from .chunks import iter_frames, table_columns
from .tables import META_AGE, META_EMPTY, META_SEX, META_VIEW, MetadataReader, label_chunk, label_id_column

# label-row statuses -> reject codes
LAB_OK, LAB_EMPTY, LAB_DUP, LAB_BAD, LAB_ORPHAN = 0, 1, 2, 3, 4
LABEL_CODES = {LAB_EMPTY: E.RL712, LAB_DUP: E.RL716, LAB_BAD: E.RL718, LAB_ORPHAN: E.RL711}
# metadata-row statuses -> reject codes (row-local ones from .tables, then the global ones)
META_OK, META_DUP, META_NO_REPORT, META_MIXED = 0, 2, 6, 7
META_CODES = {
    META_EMPTY: E.RL712,
    META_DUP: E.RL713,
    META_VIEW: E.RL714,
    META_AGE: E.RL715,
    META_SEX: E.RL717,
    META_NO_REPORT: E.RL710,
    META_MIXED: E.RL719,
}


def hash_ids(ids: pd.Series) -> np.ndarray:
    """64-bit SipHash of each id (pandas' fixed key: the same id gives the same hash in every run)."""
    return pd.util.hash_array(ids.to_numpy(dtype=object)).astype(np.uint64)


def _duplicated(h: np.ndarray) -> np.ndarray:
    """True for every element whose value occurs more than once."""
    s = np.sort(h)
    dup_values = s[1:][s[1:] == s[:-1]]
    return np.isin(h, dup_values) if len(dup_values) else np.zeros(len(h), dtype=bool)


@dataclass
class LabelScan:
    id_column: str
    labels: tuple[str, ...]
    missing_labels: tuple[str, ...]
    codes: np.ndarray  # int8 rows x labels
    status: np.ndarray  # int8 per row (LAB_*)
    bad_col: np.ndarray  # int16 per row: label column of an RL718, -1 none
    sorted_hash: np.ndarray  # uint64 hashes of the usable rows' ids, sorted
    sorted_row: np.ndarray  # int64: the row of each sorted hash

    @property
    def rows(self) -> int:
        return len(self.status)

    def lookup(self, h: np.ndarray) -> np.ndarray:
        """Row of the usable label row whose id hashes to ``h``; -1 where there is none."""
        if not len(self.sorted_hash):
            return np.full(len(h), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.sorted_hash, h), len(self.sorted_hash) - 1)
        return np.where(self.sorted_hash[at] == h, self.sorted_row[at], -1)


def scan_labels(path: Path, labels: Sequence[str], id_column: str | None, id_prefix: str | None) -> LabelScan:
    columns = table_columns(path, "label table")
    idc = label_id_column(columns, labels, id_column, path.name)
    present = [lab for lab in labels if lab in columns]
    codes, hashes, empty, bad_col = [], [], [], []
    for frame in iter_frames(path, "label table", [idc, *present]):
        ch = label_chunk(frame, labels, idc, id_prefix)
        codes.append(ch.codes)
        hashes.append(hash_ids(ch.ids))
        empty.append(ch.empty)
        bad_col.append(ch.bad_col)
    codes_a = np.concatenate(codes) if codes else np.zeros((0, len(labels)), dtype=np.int8)
    h = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    empty_a = np.concatenate(empty) if empty else np.zeros(0, dtype=bool)
    bad_a = np.concatenate(bad_col) if bad_col else np.zeros(0, dtype=np.int16)
    del codes, hashes
    dup = np.zeros(len(h), dtype=bool)
    dup[~empty_a] = _duplicated(h[~empty_a])
    status = np.zeros(len(h), dtype=np.int8)
    status[bad_a >= 0] = LAB_BAD
    status[dup] = LAB_DUP
    status[empty_a] = LAB_EMPTY
    ok = np.flatnonzero(status == LAB_OK)
    order = np.argsort(h[ok], kind="stable")
    return LabelScan(
        idc,
        tuple(labels),
        tuple(lab for lab in labels if lab not in present),
        codes_a,
        status,
        bad_a,
        h[ok][order],
        ok[order],
    )


@dataclass
class MetaScan:
    columns: list[str]
    status: np.ndarray  # int8 per metadata row (META_*)
    report: np.ndarray  # int32 per row: label row of its report (-1 unknown)
    patient: np.ndarray  # int32 per row: patient code 0..P-1 of a usable row (order of first image), else -1
    n_patients: int
    ages_integral: bool  # every known age of a usable row is a whole number

    @property
    def rows(self) -> int:
        return len(self.status)

    @property
    def usable(self) -> np.ndarray:
        return self.status == META_OK


def scan_metadata(path: Path, reader: MetadataReader, labels: LabelScan) -> MetaScan:
    status, report, img_h, has_img, pat_h, fractional = [], [], [], [], [], []
    for frame in iter_frames(path, "metadata", reader.read_columns):
        ch = reader.chunk(frame)
        status.append(ch.status)
        report.append(labels.lookup(hash_ids(ch.fields["report_id"])).astype(np.int32))
        img_h.append(hash_ids(ch.fields["image_id"]))
        has_img.append((ch.fields["image_id"] != "").to_numpy())
        pat_h.append(hash_ids(ch.fields["patient_id"]))
        age = ch.age[ch.status == 0]
        age = age[~np.isnan(age)]
        fractional.append(bool(np.any(age != np.round(age))))

    def cat(parts: list, dtype) -> np.ndarray:  # one column at a time, its chunks freed as it goes
        out = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
        parts.clear()
        return out

    st = cat(status, np.int8)
    ih, hi = cat(img_h, np.uint64), cat(has_img, bool)
    if hi.all():
        dup = _duplicated(ih)
    else:
        dup = np.zeros(len(st), dtype=bool)
        dup[hi] = _duplicated(ih[hi])
    del ih, hi
    st[dup & (st != META_EMPTY)] = META_DUP
    del dup
    rep = cat(report, np.int32)
    st[(st == META_OK) & (rep < 0)] = META_NO_REPORT
    ph = cat(pat_h, np.uint64)
    # a report whose images name more than one patient: every image of it is rejected. Any one
    # patient of each report serves as its representative (which one a repeated index keeps
    # does not matter: a report is mixed when some image differs from it)
    ok = np.flatnonzero(st == META_OK)
    some_pat = np.zeros(labels.rows, dtype=np.uint64)
    some_pat[rep[ok]] = ph[ok]
    mixed_report = np.zeros(labels.rows, dtype=bool)
    mixed_report[rep[ok][ph[ok] != some_pat[rep[ok]]]] = True
    del some_pat
    st[ok[mixed_report[rep[ok]]]] = META_MIXED
    # reports without a usable image
    ok = np.flatnonzero(st == META_OK)
    used = np.zeros(labels.rows, dtype=bool)
    used[rep[ok]] = True
    labels.status[(labels.status == LAB_OK) & ~used] = LAB_ORPHAN
    # patient codes in the order of their first usable image (pandas' hash-table factorize)
    patient = np.full(len(st), -1, dtype=np.int32)
    codes, uniques = pd.factorize(ph[ok])
    patient[ok] = codes
    n_patients = len(uniques)
    del ph, codes, uniques
    return MetaScan(
        table_columns(path, "metadata"),
        st,
        rep,
        patient,
        n_patients,
        not any(fractional),
    )
