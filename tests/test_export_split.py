"""Patient-level split: property tests (Hypothesis) and exact small cases."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
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


@st.composite
def metadata_files(draw):
    """Image metadata (patients, reports, images; some duplicated image ids and mixed reports)."""
    n_reports = draw(st.integers(1, 60))
    n_patients = draw(st.integers(1, n_reports))
    report_patient = draw(st.lists(st.integers(0, n_patients - 1), min_size=n_reports, max_size=n_reports))
    images = draw(st.lists(st.integers(0, n_reports - 1), min_size=1, max_size=120))
    rows = []
    for k, r in enumerate(images):
        patient = report_patient[r] if draw(st.integers(0, 19)) else (report_patient[r] + 1) % n_patients
        image = k if draw(st.integers(0, 19)) else 0  # now and then a duplicated image id
        rows.append(f"r{r},p{patient},img/{image}.jpg,PA,F,40\n")
    return n_reports, rows, draw(st.integers(0, 2**16))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metadata_files(), FRACTIONS)
def test_streamed_export_never_puts_a_patient_in_two_split_files(
    tmp_path_factory, monkeypatch, archive, fractions
):
    """End to end, in chunks of ~10 rows: rows in = rows out + rejects, and no patient in two files."""
    _check_streamed_export(tmp_path_factory, monkeypatch, archive, fractions, None)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metadata_files(), FRACTIONS)
def test_export_in_tiny_partitions_never_puts_a_patient_in_two_split_files(
    tmp_path_factory, monkeypatch, archive, fractions
):
    """The same with on-disk partitions of 3 records: every join and split step crosses partitions."""
    _check_streamed_export(tmp_path_factory, monkeypatch, archive, fractions, 3)


def _check_streamed_export(tmp_path_factory, monkeypatch, archive, fractions, partition_rows):
    import pandas as pd

    import reportlab_nlp.export.chunks as chunks
    from reportlab_nlp.export import ExportOptions, plan_export, write_export
    from reportlab_nlp.schema import load_taxonomy

    monkeypatch.setattr(chunks, "CHUNK_BYTES", 256)
    n_reports, rows, seed = archive
    folder = tmp_path_factory.mktemp("feed")
    labels = list(load_taxonomy("chexpert").label_names)
    rng = np.random.default_rng(seed)
    cells = np.array(["", "1.0", "0.0", "-1.0"])[rng.integers(0, 4, (n_reports, len(labels)))]
    pd.DataFrame(cells, columns=labels).assign(report_id=[f"r{i}" for i in range(n_reports)])[
        ["report_id", *labels]
    ].to_csv(folder / "labels.csv", index=False)
    (folder / "meta.csv").write_text("report_id,patient_id,path,view,sex,age\n" + "".join(rows))
    split = ",".join(str(f) for f in fractions)
    try:
        plan = plan_export(
            folder / "labels.csv",
            folder / "meta.csv",
            ExportOptions(format="csv", split=split, seed=seed)
            if partition_rows is None
            else ExportOptions(format="csv", split=split, seed=seed, partition_rows=partition_rows),
        )
    except Exception as err:  # every image rejected: a coded error, nothing else
        assert "[RL708]" in str(err)
        return
    summary = write_export(plan, folder / "labels.csv", folder / "meta.csv", folder / "out")
    names = [n for n, f in zip(("train", "valid", "test"), fractions) if f > 0]
    frames = {n: pd.read_csv(folder / "out" / f"{n}.csv", dtype=str) for n in names}
    rejects = pd.read_csv(folder / "out" / "rejects.csv", dtype=str) if summary["rejects"] else None
    meta_rejects = 0 if rejects is None else int((rejects["source"] == "metadata").sum())
    assert sum(len(f) for f in frames.values()) + meta_rejects == len(rows)
    label_rejects = 0 if rejects is None else int((rejects["source"] == "labels").sum())
    assert len(set().union(*(set(f["report_id"]) for f in frames.values()))) + label_rejects == n_reports
    seen: dict[str, str] = {}
    for name, frame in frames.items():
        for patient in set(frame["patient_id"]):
            assert seen.setdefault(patient, name) == name
    assert {n: len(f) for n, f in frames.items()} == {n: summary["splits"][n]["images"] for n in names}
