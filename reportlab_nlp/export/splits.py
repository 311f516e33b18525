"""Patient-level stratified splits and per-split prevalence tables.

Every patient goes to exactly one split, so no patient's images appear in two splits.
Stratification: each patient joins the stratum of the rarest label it is positive for (or the
stratum of patients with no positive label); within a stratum, patients are shuffled with the
seed and dealt to the splits: each stratum takes the floor of each split's share, the
left-over patients of all strata are dealt together in proportion to the fractions, and a
stratum with at least one patient per split with a non-zero share gets one in each. A rare label therefore
reaches every split once it has as many positive patients as there are non-empty splits.
All steps are vectorised (numpy), so a million images split in well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import E, ExportError


def parse_split(text: str, n_names: int) -> tuple[float, ...]:
    """``"0.8,0.1,0.1"`` -> fractions (two or three, non-negative, summing to 1)."""
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise ExportError(
            f"--split {text!r}: give comma-separated fractions such as 0.8,0.1,0.1", code=E.RL703
        ) from None
    if not 1 <= len(parts) <= n_names or any(not np.isfinite(p) or p < 0 for p in parts):
        raise ExportError(f"--split {text!r}: give 1 to {n_names} non-negative fractions", code=E.RL703)
    if abs(sum(parts) - 1.0) > 1e-6 or parts[0] <= 0:
        raise ExportError(
            f"--split {text!r}: the fractions must sum to 1 and the first (train) must be > 0", code=E.RL703
        )
    return parts


def _largest_remainder(total: int, fractions: np.ndarray) -> np.ndarray:
    exact = total * fractions
    out = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - out), kind="stable")
    out[order[: total - int(out.sum())]] += 1
    return out


def _allocate(sizes: np.ndarray, fractions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Patients per split for each stratum (strata x splits).

    Each stratum gets the floor of its share; the left-over patients of all strata are dealt
    together, so that the totals follow the fractions even when most strata are tiny; then each
    stratum with at least one patient per wanted split gets at least one patient in each.
    """
    alloc = np.floor(sizes[:, None] * fractions[None, :]).astype(np.int64)
    short = sizes - alloc.sum(axis=1)
    n_left = int(short.sum())
    if n_left:
        per_split = _largest_remainder(n_left, fractions)
        slots = np.concatenate([(np.arange(c) + 0.5) / c for c in per_split if c])
        owners = np.concatenate([np.full(c, j) for j, c in enumerate(per_split) if c])
        deal = owners[np.argsort(slots, kind="stable")]
        deal = deal[rng.permutation(n_left)] if n_left > 1 else deal
        stratum_of_slot = np.repeat(np.arange(len(sizes)), short)
        np.add.at(alloc, (stratum_of_slot, deal), 1)
    wanted = fractions > 0
    n_wanted = int(wanted.sum())
    rows_all = np.arange(len(sizes))
    for j in np.flatnonzero(wanted):
        need = (alloc[:, j] == 0) & (sizes >= n_wanted)
        if not need.any():
            continue
        donor = np.argmax(np.where(wanted[None, :], alloc, -1), axis=1)
        rows = np.flatnonzero(need & (alloc[rows_all, donor] > 1))
        alloc[rows, donor[rows]] -= 1
        alloc[rows, j] += 1
    return alloc


def patient_split(
    patients: np.ndarray, positives: np.ndarray, fractions: Sequence[float], seed: int = 0
) -> np.ndarray:
    """Split index (0 = train, 1 = valid, 2 = test) for each image.

    ``patients``: one integer patient code per image. ``positives``: images x labels,
    true where the image's report is positive for the label.
    """
    if len(patients) == 0:
        return np.zeros(0, dtype=np.int8)
    patients = np.unique(patients, return_inverse=True)[1].reshape(-1)  # dense codes 0..P-1
    n_patients = int(patients.max()) + 1
    order = np.argsort(patients, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(patients[order]) != 0])
    pos = (
        np.logical_or.reduceat(positives[order], starts, axis=0)
        if positives.shape[1]
        else np.zeros((n_patients, 0), dtype=bool)
    )
    return split_patients(pos, fractions, seed)[patients]


def split_patients(pos: np.ndarray, fractions: Sequence[float], seed: int = 0) -> np.ndarray:
    """Split index of each patient; ``pos``: patients x labels, true where any of its reports is positive."""
    n_patients, n_labels = pos.shape
    if n_patients == 0:
        return np.zeros(0, dtype=np.int8)
    stratum = strata(pos, pos.sum(axis=0))
    rng = np.random.default_rng(seed)
    shuffled = np.lexsort((rng.random(n_patients), stratum))  # patients sorted by stratum, random within
    sorted_strata = stratum[shuffled]
    sizes = np.bincount(stratum, minlength=n_labels + 1)
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    rank_in_stratum = np.arange(n_patients) - first[sorted_strata]
    bounds = np.cumsum(_allocate(sizes, np.asarray(fractions, dtype=float), rng), axis=1)
    split_sorted = (rank_in_stratum[:, None] >= bounds[sorted_strata]).sum(axis=1)
    patient_to_split = np.empty(n_patients, dtype=np.int8)
    patient_to_split[shuffled] = split_sorted
    return patient_to_split


def strata(pos: np.ndarray, positive_patients: np.ndarray) -> np.ndarray:
    """Stratum of each patient: the rarest label it is positive for (rarest by ``positive_patients``,
    the positive patients per label over the whole export), or ``n_labels`` for none."""
    n_labels = pos.shape[1]
    masked = np.where(pos, positive_patients[None, :], np.iinfo(np.int64).max)
    return np.where(pos.any(axis=1), np.argmin(masked, axis=1) if n_labels else 0, n_labels)


def split_bounds(sizes: np.ndarray, fractions: Sequence[float], seed: int = 0) -> np.ndarray:
    """Strata x splits: cumulated patients per split; a patient of rank ``r`` within its stratum
    (0-based, in random order) goes to the first split whose bound exceeds ``r``."""
    rng = np.random.default_rng(seed)
    return np.cumsum(_allocate(sizes, np.asarray(fractions, dtype=float), rng), axis=1)


_M64 = (1 << 64) - 1


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of uint64 that scatters every input bit over the output."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def patient_key(patient_hash: np.ndarray, seed: int) -> np.ndarray:
    """The export's random order of patients: a seeded bijective mix of each patient-id hash.

    Different patients keep different keys (a bijection), the same seed gives the same order in
    every run, and the keys of a stratum's patients are a uniformly shuffled order of them, which
    is what the stratified split deals from (``export`` sorts patients by stratum, then key).
    """
    salt = _mix64(np.array([seed & _M64], dtype=np.uint64))[0]
    return _mix64(np.asarray(patient_hash, dtype=np.uint64) ^ salt)


def prevalence_table(
    matrix: np.ndarray, labels: Sequence[str], split_idx: np.ndarray, split_names: Sequence[str]
) -> pd.DataFrame:
    """Counts of 1 / 0 / -1 / blank per split and label, with the positive share (exact integers)."""
    rows = []
    for s, name in enumerate(split_names):
        sub = matrix[split_idx == s]
        n = len(sub)
        for j, lab in enumerate(labels):
            col = sub[:, j]
            pos = int((col == 1).sum())
            rows.append(
                {
                    "split": name,
                    "label": lab,
                    "images": n,
                    "positive": pos,
                    "negative": int((col == 0).sum()),
                    "uncertain": int((col == -1).sum()),
                    "blank": int(np.isnan(col).sum()),
                    "positive_pct": round(100.0 * pos / n, 2) if n else 0.0,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["split", "label", "images", "positive", "negative", "uncertain", "blank", "positive_pct"],
    )
