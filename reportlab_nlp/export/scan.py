"""Pass 1 of ``export``: every row's decision, made on disk in hash partitions (bounded memory).

1. **stream** both inputs chunk by chunk; each chunk becomes fixed-width records (:mod:`.spill`):
   label rows by report-id hash, metadata rows by image-id hash.
2. **images** (per image-hash partition): duplicated image ids (RL713). Rows already rejected get
   their decision; the others move on, by report-id hash.
3. **reports** (per report-hash partition, label rows and images of the same reports together):
   empty and duplicated report ids (RL712, RL716), bad cells (RL718), the join (RL710), reports
   whose images name more than one patient (RL719) and reports without an image (RL711). Joined
   images move on by patient key, carrying their report's label codes.
4. **patients** (per patient-key partition, all images of a patient together), three sweeps: the
   positive patients per label (summed over partitions), each patient's stratum and the strata
   sizes per partition, then the split, the ranks for ``--relayout`` and the prevalence counts.

The patient key is a seeded bijective mix of the patient-id hash (:func:`.splits.patient_key`);
patient partitions are ranges of it (its top bits), so "the patients of a stratum in key order"
is the same global order whatever the number of partitions: the split is the same at every
partition budget. Decisions (status, split, ranks, the report's label codes) and label-row
statuses go to files partitioned by row number, which pass 2 reads in step with the metadata.

What stays in memory: one chunk, one partition (at most about ``budget`` records, see
:func:`.spill.hash_bits`), and per-label / per-split counters; nothing grows with the input.

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
from .spill import RowTable, Spill, hash_bits, top_bits
from .splits import patient_key, split_bounds, strata
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

_U8, _I8 = np.uint64, np.int64
# metadata row after pass 1: image, report and patient id hashes, row-local status
_META = np.dtype([("ih", _U8), ("rh", _U8), ("ph", _U8), ("row", _I8), ("st", np.int8), ("has_img", bool)])
# a metadata row without a row-local problem or duplicate, on its way to the join
_JOIN = np.dtype([("rh", _U8), ("ph", _U8), ("row", _I8)])
# a label row's reject (status and the bad column of an RL718), by label row
LABEL_STATUS = np.dtype([("row", _I8), ("status", np.int8), ("bad", np.int16)])
# the first image of a patient (``--relayout`` numbering) and its patient partition; its number
_FIRST = np.dtype([("row", _I8), ("part", _I8)])
_PNUM = np.dtype([("row", _I8), ("pnum", _I8)])


def _label_rec(n_labels: int) -> np.dtype:
    return np.dtype(
        [("h", _U8), ("row", _I8), ("bad", np.int16), ("empty", bool), ("codes", np.int8, (n_labels,))]
    )


def _patient_rec(n_labels: int) -> np.dtype:
    """A joined image: patient key, metadata row, its report's label row and label codes."""
    return np.dtype([("key", _U8), ("row", _I8), ("rep", _I8), ("codes", np.int8, (n_labels,))])


def decision_dtype(n_labels: int) -> np.dtype:
    """Pass 1's decision for one metadata row (all but ``status`` only for usable images)."""
    return np.dtype(
        [
            ("row", _I8),
            ("status", np.int8),  # META_*
            ("split", np.int8),
            ("first", bool),  # the first image of its report (in file order)
            ("study", np.int32),  # rank of its report among its patient's reports (1-based)
            ("view_n", np.int32),  # rank of the image among its report's images (1-based)
            ("pnum", _I8),  # its patient's number, in order of first image (``--relayout`` only)
            ("codes", np.int8, (n_labels,)),  # its report's raw label codes (tables.value_codes)
        ]
    )


def hash_ids(ids: pd.Series) -> np.ndarray:
    """64-bit SipHash of each id (pandas' fixed key: the same id gives the same hash in every run)."""
    return pd.util.hash_array(ids.to_numpy(dtype=object)).astype(np.uint64)


def _duplicated(h: np.ndarray) -> np.ndarray:
    """True for every element whose value occurs more than once."""
    s = np.sort(h)
    dup_values = s[1:][s[1:] == s[:-1]]
    return np.isin(h, dup_values) if len(dup_values) else np.zeros(len(h), dtype=bool)


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    return (
        np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) if len(sorted_keys) else sorted_keys
    )


def rows_upper(path: Path, n_columns: int) -> int:
    """An upper bound of a table's rows: Parquet's row count, or a CSV's bytes / columns (every
    line holds at least one byte per column: its delimiters and its newline)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return path.stat().st_size // max(n_columns, 1) + 1


@dataclass
class Scan:
    """What pass 1 leaves: counters, and per-row decisions on disk (read with :meth:`decisions`)."""

    id_column: str
    labels: tuple[str, ...]
    missing_labels: tuple[str, ...]
    label_rows: int
    meta_rows: int
    label_counts: np.ndarray  # int64 per LAB_* status
    meta_counts: np.ndarray  # int64 per META_* status
    n_patients: int
    ages_integral: bool  # every known age of a usable row is a whole number
    split_images: np.ndarray  # int64 per split
    split_patients: np.ndarray
    split_reports: np.ndarray
    prevalence: np.ndarray  # int64 labels x splits x 4 (cell codes, raw)
    budget: int
    decision_spill: Spill  # decision_dtype records by row // budget
    label_spill: Spill  # LABEL_STATUS records (rejected label rows only) by row // budget

    def decisions(self) -> RowTable:
        fill = np.zeros(1, dtype=self.decision_spill.dtype)
        fill["status"] = -1  # no decision: never happens (every row gets one)
        return RowTable(self.decision_spill, self.budget, fill)

    def label_statuses(self) -> RowTable:
        fill = np.zeros(1, dtype=LABEL_STATUS)
        fill["bad"] = -1
        return RowTable(self.label_spill, self.budget, fill)


class _Scanner:
    """The stages of pass 1 (module docstring); one instance per export."""

    def __init__(self, folder: Path, n_labels: int, budget: int, seed: int) -> None:
        self.folder, self.n_labels, self.budget, self.seed = folder, n_labels, budget, seed
        self.meta_counts = np.zeros(max(META_CODES) + 1, dtype=np.int64)
        self.label_counts = np.zeros(max(LABEL_CODES) + 1, dtype=np.int64)

    def _buckets(self, rows: int) -> int:
        return max(1, -(-rows // self.budget))

    def decide(self, rows: np.ndarray, status: np.ndarray) -> None:
        """Rejected metadata rows: their status is their whole decision."""
        rec = np.zeros(len(rows), dtype=self.decisions.dtype)
        rec["row"], rec["status"] = rows, status
        self.decisions.add(rec, rows // self.budget)
        self.meta_counts += np.bincount(status, minlength=len(self.meta_counts))

    # ---------------------------------------------------------------- 1. stream
    def stream_labels(
        self, path: Path, names: Sequence[str], idc: str, prefix: str | None, bits: int
    ) -> None:
        present = [lab for lab in names if lab in table_columns(path, "label table")]
        self.lab = Spill(self.folder, "labels", _label_rec(self.n_labels), 1 << bits)
        row = 0
        for frame in iter_frames(path, "label table", [idc, *present]):
            ch = label_chunk(frame, names, idc, prefix)
            rec = np.zeros(len(frame), dtype=self.lab.dtype)
            rec["h"], rec["row"] = hash_ids(ch.ids), np.arange(row, row + len(frame))
            rec["bad"], rec["empty"], rec["codes"] = ch.bad_col, ch.empty, ch.codes
            self.lab.add(rec, top_bits(rec["h"], bits))
            row += len(frame)
            del frame, ch, rec  # one chunk alive at a time: not while the next is read
        self.label_rows = row

    def stream_metadata(self, path: Path, reader: MetadataReader, bits: int) -> None:
        self.img = Spill(self.folder, "images", _META, 1 << bits)
        row, fractional = 0, False
        for frame in iter_frames(path, "metadata", reader.read_columns):
            ch = reader.chunk(frame)
            rec = np.zeros(len(frame), dtype=_META)
            rec["ih"] = hash_ids(ch.fields["image_id"])
            rec["rh"] = hash_ids(ch.fields["report_id"])
            rec["ph"] = hash_ids(ch.fields["patient_id"])
            rec["row"], rec["st"] = np.arange(row, row + len(frame)), ch.status
            rec["has_img"] = (ch.fields["image_id"] != "").to_numpy()
            age = ch.age[ch.status == 0]
            age = age[~np.isnan(age)]
            fractional = fractional or bool(np.any(age != np.round(age)))
            self.img.add(rec, top_bits(rec["ih"], bits))
            row += len(frame)
            del frame, ch, rec, age
        self.meta_rows, self.ages_integral = row, not fractional
        self.decisions = Spill(self.folder, "decisions", decision_dtype(self.n_labels), self._buckets(row))

    # ---------------------------------------------------------------- 2. images
    def images(self, rep_bits: int) -> None:
        self.join = Spill(self.folder, "joins", _JOIN, 1 << rep_bits)
        for p in range(self.img.parts):
            rec = self.img.read(p)
            self.img.drop(p)
            st = rec["st"].copy()
            has = rec["has_img"]
            dup = np.zeros(len(rec), dtype=bool)
            dup[has] = _duplicated(rec["ih"][has])
            st[dup & (st != META_EMPTY)] = META_DUP
            bad = st != META_OK
            self.decide(rec["row"][bad], st[bad])
            ok = rec[~bad]
            j = np.zeros(len(ok), dtype=_JOIN)
            j["rh"], j["ph"], j["row"] = ok["rh"], ok["ph"], ok["row"]
            self.join.add(j, top_bits(j["rh"], rep_bits))

    # ---------------------------------------------------------------- 3. reports
    def reports(self, pat_bits: int) -> None:
        self.pat = Spill(self.folder, "patients", _patient_rec(self.n_labels), 1 << pat_bits)
        self.lstatus = Spill(self.folder, "label_status", LABEL_STATUS, self._buckets(self.label_rows))
        for p in range(self.lab.parts):
            lab, j = self.lab.read(p), self.join.read(p)
            self.lab.drop(p)
            self.join.drop(p)
            st = np.zeros(len(lab), dtype=np.int8)
            st[lab["bad"] >= 0] = LAB_BAD
            named = ~lab["empty"]
            dup = np.zeros(len(lab), dtype=bool)
            dup[named] = _duplicated(lab["h"][named])
            st[dup] = LAB_DUP
            st[lab["empty"]] = LAB_EMPTY
            usable = np.flatnonzero(st == LAB_OK)
            order = np.argsort(lab["h"][usable], kind="stable")
            sorted_h, sorted_idx = lab["h"][usable][order], usable[order]
            li = np.full(len(j), -1, dtype=np.int64)  # index into lab of each image's report
            if len(sorted_h):
                at = np.minimum(np.searchsorted(sorted_h, j["rh"]), len(sorted_h) - 1)
                li = np.where(sorted_h[at] == j["rh"], sorted_idx[at], -1)
            mst = np.where(li < 0, META_NO_REPORT, META_OK).astype(np.int8)
            # a report whose images name more than one patient: every image of it is rejected
            found = np.flatnonzero(li >= 0)
            if len(found):
                o = found[np.argsort(li[found], kind="stable")]
                starts = _group_starts(li[o])
                ph = j["ph"][o]
                mixed = np.minimum.reduceat(ph, starts) != np.maximum.reduceat(ph, starts)
                mst[o[np.repeat(mixed, np.diff(np.r_[starts, len(o)]))]] = META_MIXED
            ok = mst == META_OK
            used = np.zeros(len(lab), dtype=bool)
            used[li[ok]] = True
            st[(st == LAB_OK) & ~used] = LAB_ORPHAN
            self.label_counts += np.bincount(st, minlength=len(self.label_counts))
            rej = np.flatnonzero(st != LAB_OK)
            ls = np.zeros(len(rej), dtype=LABEL_STATUS)
            ls["row"], ls["status"], ls["bad"] = lab["row"][rej], st[rej], lab["bad"][rej]
            self.lstatus.add(ls, ls["row"] // self.budget)
            self.decide(j["row"][~ok], mst[~ok])
            rec = np.zeros(int(ok.sum()), dtype=self.pat.dtype)
            rec["key"] = patient_key(j["ph"][ok], self.seed)
            rec["row"], rec["rep"], rec["codes"] = j["row"][ok], lab["row"][li[ok]], lab["codes"][li[ok]]
            self.pat.add(rec, top_bits(rec["key"], pat_bits))

    # ---------------------------------------------------------------- 4. patients
    def _patient_groups(self, rec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Images sorted by (patient key, row), the start of each patient, its positive labels."""
        order = np.lexsort((rec["row"], rec["key"]))
        starts = _group_starts(rec["key"][order])
        pos = (
            np.logical_or.reduceat(rec["codes"][order] == 1, starts, axis=0)
            if len(starts)
            else np.zeros((0, self.n_labels), dtype=bool)
        )
        return order, starts, pos

    def patients(self, fractions: Sequence[float], number_patients: bool) -> None:
        n_parts, n_strata, n_splits = self.pat.parts, self.n_labels + 1, len(fractions)
        positive_patients = np.zeros(self.n_labels, dtype=np.int64)
        for p in range(n_parts):  # sweep 1: positive patients per label
            positive_patients += self._patient_groups(self.pat.read(p))[2].sum(axis=0)
        sizes = np.zeros((n_parts, n_strata), dtype=np.int64)
        firsts = Spill(self.folder, "firsts", _FIRST, self._buckets(self.meta_rows))
        for p in range(n_parts):  # sweep 2: strata sizes per partition; first images of patients
            rec = self.pat.read(p)
            order, starts, pos = self._patient_groups(rec)
            sizes[p] = np.bincount(strata(pos, positive_patients), minlength=n_strata)
            if number_patients:
                f = np.zeros(len(starts), dtype=_FIRST)
                f["row"], f["part"] = rec["row"][order][starts], p
                firsts.add(f, f["row"] // self.budget)
        pnums = Spill(self.folder, "pnums", _PNUM, n_parts)
        if number_patients:  # patients numbered in order of their first image
            base = 0
            for b in range(firsts.parts):
                f = np.sort(firsts.read(b), order="row")
                firsts.drop(b)
                rec = np.zeros(len(f), dtype=_PNUM)
                rec["row"], rec["pnum"] = f["row"], base + np.arange(1, len(f) + 1)
                pnums.add(rec, f["part"])
                base += len(f)
        bounds = split_bounds(sizes.sum(axis=0), fractions, self.seed)
        offsets = np.cumsum(sizes, axis=0) - sizes  # patients of each stratum in earlier partitions
        self.split_images = np.zeros(n_splits, dtype=np.int64)
        self.split_patients = np.zeros(n_splits, dtype=np.int64)
        self.split_reports = np.zeros(n_splits, dtype=np.int64)
        self.prevalence = np.zeros((self.n_labels, n_splits, 4), dtype=np.int64)
        self.n_patients = int(sizes.sum())
        for p in range(n_parts):  # sweep 3: split, ranks, counts; the decisions
            rec = self.pat.read(p)
            self.pat.drop(p)
            self._decide_images(rec, p, positive_patients, bounds, offsets[p], pnums, number_patients)

    def _decide_images(
        self,
        rec: np.ndarray,
        part: int,
        positive_patients: np.ndarray,
        bounds: np.ndarray,
        offsets: np.ndarray,
        pnums: Spill,
        number_patients: bool,
    ) -> None:
        n = len(rec)
        if not n:
            return
        order, starts, pos = self._patient_groups(rec)
        n_pat = len(starts)
        sizes = np.diff(np.r_[starts, n])
        patient = np.empty(n, dtype=np.int64)  # patient (0..n_pat-1, in key order) of each image
        patient[order] = np.repeat(np.arange(n_pat), sizes)
        # rank of each patient among its stratum's patients in key order (over all partitions)
        stratum = strata(pos, positive_patients)
        by_stratum = np.argsort(stratum, kind="stable")  # patients are in key order already
        s_sorted = stratum[by_stratum]
        first_of = np.r_[0, np.cumsum(np.bincount(stratum, minlength=len(offsets)))[:-1]]
        rank = np.empty(n_pat, dtype=np.int64)
        rank[by_stratum] = np.arange(n_pat) - first_of[s_sorted] + offsets[s_sorted]
        split_pat = (rank[:, None] >= bounds[stratum]).sum(axis=1).astype(np.int8)
        split = split_pat[patient]
        # view rank within the report, first image of each report, study rank within the patient
        o3 = np.lexsort((rec["row"], rec["rep"]))
        rst = _group_starts(rec["rep"][o3])
        view_n = np.empty(n, dtype=np.int32)
        view_n[o3] = np.arange(n) - np.repeat(rst, np.diff(np.r_[rst, n])) + 1
        first = view_n == 1
        fi = np.flatnonzero(first)
        o4 = np.lexsort((rec["row"][fi], rec["key"][fi]))
        ps = _group_starts(rec["key"][fi][o4])
        study = np.zeros(n, dtype=np.int32)
        study[fi[o4]] = np.arange(len(fi)) - np.repeat(ps, np.diff(np.r_[ps, len(fi)])) + 1
        study[o3] = np.repeat(study[o3[rst]], np.diff(np.r_[rst, n]))
        d = np.zeros(n, dtype=self.decisions.dtype)
        d["row"], d["split"], d["first"], d["study"], d["view_n"] = rec["row"], split, first, study, view_n
        d["codes"] = rec["codes"]
        if number_patients:
            pn = np.sort(pnums.read(part), order="row")
            first_row = rec["row"][order][starts]
            d["pnum"] = pn["pnum"][np.searchsorted(pn["row"], first_row)][patient]
        self.decisions.add(d, d["row"] // self.budget)
        self.meta_counts[META_OK] += n
        n_splits = len(self.split_images)
        self.split_images += np.bincount(split, minlength=n_splits)
        self.split_patients += np.bincount(split_pat, minlength=n_splits)
        self.split_reports += np.bincount(split[first], minlength=n_splits)
        cell = split.astype(np.int64) * 4
        for j in range(self.n_labels):
            self.prevalence[j] += np.bincount(cell + rec["codes"][:, j], minlength=n_splits * 4).reshape(
                n_splits, 4
            )


def scan_inputs(
    labels_path: Path,
    metadata_path: Path,
    reader: MetadataReader,
    names: Sequence[str],
    id_column: str | None,
    id_prefix: str | None,
    fractions: Sequence[float],
    seed: int,
    number_patients: bool,
    budget: int,
    folder: Path,
) -> Scan:
    """Pass 1 (module docstring); its files go to ``folder`` (the caller removes it)."""
    lab_columns = table_columns(labels_path, "label table")
    idc = label_id_column(lab_columns, names, id_column, labels_path.name)
    meta_upper = rows_upper(metadata_path, len(table_columns(metadata_path, "metadata")))
    lab_upper = rows_upper(labels_path, len(lab_columns))
    meta_bits = hash_bits(meta_upper, budget)
    rep_bits = hash_bits(max(meta_upper, lab_upper), budget)
    sc = _Scanner(folder, len(names), budget, seed)
    sc.stream_labels(labels_path, names, idc, id_prefix, rep_bits)
    sc.stream_metadata(metadata_path, reader, meta_bits)
    sc.images(rep_bits)
    sc.reports(meta_bits)
    if sc.pat.counts.sum():
        sc.patients(fractions, number_patients)
    else:  # nothing joined: the caller raises RL708
        sc.split_images = sc.split_patients = sc.split_reports = np.zeros(len(fractions), dtype=np.int64)
        sc.prevalence = np.zeros((len(names), len(fractions), 4), dtype=np.int64)
        sc.n_patients = 0
    return Scan(
        idc,
        tuple(names),
        tuple(lab for lab in names if lab not in lab_columns),
        sc.label_rows,
        sc.meta_rows,
        sc.label_counts,
        sc.meta_counts,
        sc.n_patients,
        sc.ages_integral,
        sc.split_images,
        sc.split_patients,
        sc.split_reports,
        sc.prevalence,
        budget,
        sc.decisions,
        sc.lstatus,
    )
