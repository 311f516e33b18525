"""Patient-level split: property tests (Hypothesis) and exact small cases."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from reportlab_nlp.export import patient_split
from reportlab_nlp.export.splits import prevalence_table

FRACTIONS = st.sampled_from(
    [(0.8, 0.1, 0.1), (0.8, 0.2), (0.5, 0.5), (0.7, 0.2, 0.1), (1.0,), (0.6, 0.0, 0.4)]
)


@st.composite
def archives(draw):
    n_images = draw(st.integers(1, 400))
    n_patients = draw(st.integers(1, n_images))
    patients = np.array(draw(st.lists(st.integers(0, n_patients - 1), min_size=n_images, max_size=n_images)))
    n_labels = draw(st.integers(1, 6))
    rates = draw(st.lists(st.floats(0.0, 0.6), min_size=n_labels, max_size=n_labels))
    seed = draw(st.integers(0, 2**16))
    positives = np.random.default_rng(seed).random((n_images, n_labels)) < np.array(rates)
    return patients, positives, seed


@given(archives(), FRACTIONS)
def test_no_patient_in_two_splits(archive, fractions):
    patients, positives, seed = archive
    split = patient_split(patients, positives, fractions, seed)
    assert split.shape == patients.shape
    assert set(np.unique(split)) <= {i for i, f in enumerate(fractions) if f > 0}
    for p in np.unique(patients):
        assert len(np.unique(split[patients == p])) == 1  # every image of a patient in one split


@given(archives(), FRACTIONS)
def test_the_rarest_label_reaches_every_split(archive, fractions):
    patients, positives, seed = archive
    split = patient_split(patients, positives, fractions, seed)
    patient_pos = np.zeros((patients.max() + 1, positives.shape[1]), dtype=bool)
    np.logical_or.at(patient_pos, patients, positives)
    counts = patient_pos.sum(axis=0)
    wanted = [i for i, f in enumerate(fractions) if f > 0]
    if counts.max() == 0:
        return
    rarest = int(np.argmin(np.where(counts > 0, counts, np.iinfo(np.int64).max)))
    if counts[rarest] >= len(wanted):
        assert set(np.unique(split[positives[:, rarest]])) == set(wanted)


def test_split_is_reproducible_and_seed_dependent():
    rng = np.random.default_rng(0)
    patients = rng.integers(0, 300, 1000)
    positives = rng.random((1000, 5)) < 0.1
    a = patient_split(patients, positives, (0.8, 0.1, 0.1), seed=3)
    assert np.array_equal(a, patient_split(patients, positives, (0.8, 0.1, 0.1), seed=3))
    assert not np.array_equal(a, patient_split(patients, positives, (0.8, 0.1, 0.1), seed=4))


def test_split_sizes_follow_the_fractions_exactly_for_unlabelled_patients():
    patients = np.arange(10)
    split = patient_split(patients, np.zeros((10, 2), dtype=bool), (0.8, 0.1, 0.1), seed=0)
    assert np.bincount(split, minlength=3).tolist() == [8, 1, 1]
    split = patient_split(np.arange(3), np.zeros((3, 1), dtype=bool), (0.5, 0.5), seed=0)
    assert sorted(np.bincount(split, minlength=2).tolist()) == [1, 2]


def test_prevalence_table_counts():
    m = np.array([[1, 0], [-1, np.nan], [1, 1], [0, np.nan]], dtype=np.float32)
    t = prevalence_table(m, ["A", "B"], np.array([0, 0, 1, 1]), ["train", "valid"])
    assert t.values.tolist() == [
        ["train", "A", 2, 1, 0, 1, 0, 50.0],
        ["train", "B", 2, 0, 1, 0, 1, 0.0],
        ["valid", "A", 2, 1, 1, 0, 0, 50.0],
        ["valid", "B", 2, 1, 0, 0, 1, 50.0],
    ]
