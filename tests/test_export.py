"""``export``: formats, policies, rejects, folder refusal and atomic files (fixtures written here)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from reportlab_nlp.cli import app
from reportlab_nlp.errors import ExportError
from reportlab_nlp.export import ExportOptions, apply_policy, load_policy, plan_export, write_export
from reportlab_nlp.schema import load_taxonomy

LABELS = list(load_taxonomy("chexpert").label_names)
HEADER = (
    "Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Opacity,"
    "Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,"
    "Fracture,Support Devices"
)


def write_labels(path: Path, rows: dict[str, dict[str, str]]) -> Path:
    frame = pd.DataFrame(
        [{"report_id": rid, **{lab: cells.get(lab, "") for lab in LABELS}} for rid, cells in rows.items()]
    )
    frame.to_csv(path, index=False)
    return path


def write_meta(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture()
def small(tmp_path):
    labels = write_labels(
        tmp_path / "labels.csv",
        {
            "r1": {"No Finding": "1.0", "Pleural Effusion": "0.0"},
            "r2": {"Cardiomegaly": "1.0", "Edema": "-1.0", "Atelectasis": "-1.0", "Pneumonia": "-1.0"},
            "r3": {"Lung Opacity": "1", "Support Devices": "1"},
        },
    )
    meta = write_meta(
        tmp_path / "meta.csv",
        "report_id,patient_id,path,view,sex,age\n"
        "r1,p1,img/a.jpg,PA,M,60\nr1,p1,img/b.jpg,lateral,M,60\n"
        "r2,p2,img/c.jpg,AP,F,71\nr3,p3,img/d.png,pa,,\n",
    )
    return labels, meta


def test_chexpert_train_csv_is_exactly_as_chexpert_ships_it(small, tmp_path):
    labels, meta = small
    plan = plan_export(labels, meta, ExportOptions(split="1"))
    write_export(plan, labels, meta, tmp_path / "feed")
    assert (tmp_path / "feed" / "train.csv").read_text() == "\n".join(
        [
            HEADER,
            "train/img/a.jpg,Male,60,Frontal,PA,1.0,,,,,,,,,,0.0,,,",
            "train/img/b.jpg,Male,60,Lateral,,1.0,,,,,,,,,,0.0,,,",
            "train/img/c.jpg,Female,71,Frontal,AP,,,1.0,,,-1.0,,-1.0,-1.0,,,,,",
            "train/img/d.png,Unknown,,Frontal,PA,,,,1.0,,,,,,,,,,1.0",
        ]
    ) + "\n"
    assert sorted(os.listdir(tmp_path / "feed")) == ["export.json", "prevalence.csv", "train.csv"]


@pytest.mark.parametrize(
    "policy,blank_as,expected",
    [
        ("keep", "blank", [-1.0, -1.0, -1.0, np.nan, 1.0]),
        ("ignore", "blank", [np.nan, np.nan, np.nan, np.nan, 1.0]),
        ("zeros", "blank", [0.0, 0.0, 0.0, np.nan, 1.0]),
        ("ones", "blank", [1.0, 1.0, 1.0, np.nan, 1.0]),
        ("libauc", "blank", [1.0, 1.0, 0.0, np.nan, 1.0]),
        ("libauc", "zero", [1.0, 1.0, 0.0, 0.0, 1.0]),
        ("keep", "zero", [-1.0, -1.0, -1.0, 0.0, 1.0]),
    ],
)
def test_uncertainty_policies(policy, blank_as, expected):
    names = ["Edema", "Atelectasis", "Cardiomegaly", "Pneumonia", "Fracture"]
    matrix = np.array([[-1.0, -1.0, -1.0, np.nan, 1.0]], dtype=np.float32)
    out = apply_policy(matrix, names, load_policy(policy, names), blank_as)
    np.testing.assert_array_equal(out[0], np.array(expected, dtype=np.float32))
    assert matrix[0, 0] == -1.0  # the input matrix is not modified


def test_policy_mapping_file(tmp_path):
    f = tmp_path / "policy.yml"
    f.write_text("default: blank\nlabels:\n  Edema: one\n  Cardiomegaly: zero\n")
    names = ["Edema", "Cardiomegaly", "Pneumonia"]
    out = apply_policy(np.array([[-1, -1, -1]], dtype=np.float32), names, load_policy(str(f), names))
    np.testing.assert_array_equal(out[0], np.array([1.0, 0.0, np.nan], dtype=np.float32))
    f.write_text("default: blank\nlabels:\n  Edemaa: one\n")
    with pytest.raises(ExportError, match=r"\[RL704\].*Edemaa"):
        load_policy(str(f), names)
    f.write_text("default: maybe\n")
    with pytest.raises(ExportError, match=r"\[RL704\].*unknown action"):
        load_policy(str(f), names)


def test_chexpert_export_with_libauc_policy(small, tmp_path):
    labels, meta = small
    plan = plan_export(labels, meta, ExportOptions(split="1", uncertain="libauc", blank_as="zero"))
    write_export(plan, labels, meta, tmp_path / "feed")
    frame = pd.read_csv(tmp_path / "feed" / "train.csv")
    row = frame[frame.Path == "train/img/c.jpg"].iloc[0]
    assert [row["Edema"], row["Atelectasis"], row["Pneumonia"], row["Cardiomegaly"], row["Fracture"]] == [
        1.0,
        1.0,
        0.0,
        1.0,
        0.0,
    ]


def test_bad_metadata_gets_coded_rejects(tmp_path):
    labels = write_labels(
        tmp_path / "labels.csv",
        {
            "r1": {"Cardiomegaly": "1"},
            "r2": {"Edema": "1"},
            "r3": {"Edema": "2"},
            "r4": {},
            "r4 ": {},
            "r5": {"Fracture": "1"},
        },
    )
    meta = write_meta(
        tmp_path / "meta.csv",
        "report_id,patient_id,path,view,sex,age\n"
        "r1,p1,a.jpg,OBLIQUE,M,50\n"  # line 2: unknown view
        "r1,p1,b.jpg,PA,M,fifty\n"  # line 3: age not a number
        "r1,p1,c.jpg,PA,M,50\n"  # line 4: duplicate image id (with line 5)
        "r1,p1,c.jpg,PA,M,50\n"
        "r2,p2,d.jpg,PA,Q,50\n"  # line 6: unknown sex
        "r2,p2,e.jpg,PA,F,50\n"  # line 7: ok
        ",p2,f.jpg,PA,F,50\n"  # line 8: empty report id
        "r9,p9,g.jpg,PA,F,50\n"  # line 9: no report
        "r5,p5,h.jpg,PA,F,50\n"  # line 10: report r5 with two patients
        "r5,p6,i.jpg,PA,F,50\n"
        "r1,p1,j.jpg,PA,M,200\n",
    )  # line 12: age out of range
    plan = plan_export(labels, meta, ExportOptions(split="1"))
    got = plan.rejects[["source", "line", "record", "code"]].astype(str).values.tolist()
    assert got == [  # label rows first, then metadata rows, each in file order
        ["labels", "2", "r1", "RL711"],
        ["labels", "4", "r3", "RL718"],
        ["labels", "5", "r4", "RL716"],
        ["labels", "6", "r4", "RL716"],
        ["labels", "7", "r5", "RL711"],
        ["metadata", "2", "a.jpg", "RL714"],
        ["metadata", "3", "b.jpg", "RL715"],
        ["metadata", "4", "c.jpg", "RL713"],
        ["metadata", "5", "c.jpg", "RL713"],
        ["metadata", "6", "d.jpg", "RL717"],
        ["metadata", "8", "f.jpg", "RL712"],
        ["metadata", "9", "g.jpg", "RL710"],
        ["metadata", "10", "h.jpg", "RL719"],
        ["metadata", "11", "i.jpg", "RL719"],
        ["metadata", "12", "j.jpg", "RL715"],
    ]
    assert plan.images["image_id"].tolist() == ["e.jpg"]
    reasons = " ".join(plan.rejects["reason"])
    assert "column Edema holds a value that is not 1, 0, -1 or blank" in reasons
    write_export(plan, labels, meta, tmp_path / "feed")
    rej = pd.read_csv(tmp_path / "feed" / "rejects.csv", dtype=str)
    assert rej.columns.tolist() == ["source", "line", "record", "code", "reason"]
    assert rej["code"].value_counts().to_dict() == {
        "RL716": 2,
        "RL718": 1,
        "RL714": 1,
        "RL715": 2,
        "RL713": 2,
        "RL717": 1,
        "RL712": 1,
        "RL710": 1,
        "RL719": 2,
        "RL711": 2,
    }


def test_missing_metadata_column_is_a_coded_error(small, tmp_path):
    labels, _ = small
    meta = write_meta(tmp_path / "m.csv", "study,subject,file\nr1,p1,a.jpg\n")
    with pytest.raises(ExportError, match=r"\[RL701\] metadata m.csv lacks report_id \(column 'report_id'\)"):
        plan_export(labels, meta, ExportOptions(split="1"))
    plan = plan_export(
        labels,
        meta,
        ExportOptions(split="1", columns={"report_id": "study", "patient_id": "subject", "path": "file"}),
    )
    assert plan.images["path"].tolist() == ["a.jpg"]


def test_every_split_path_carries_its_split_folder(tmp_path):
    rows = {f"r{i}": ({"Cardiomegaly": "1"} if i % 2 else {"Edema": "1"}) for i in range(40)}
    labels = write_labels(tmp_path / "labels.csv", rows)
    meta = write_meta(
        tmp_path / "meta.csv",
        "report_id,patient_id,path,view,sex,age\n"
        + "".join(f"r{i},p{i // 2},imgs/{i}.jpg,PA,F,40\n" for i in range(40)),
    )
    for relayout in (False, True):
        out = tmp_path / f"feed{relayout}"
        plan = plan_export(
            labels, meta, ExportOptions(split="0.5,0.5", relayout=relayout, image_root=tmp_path)
        )
        write_export(plan, labels, meta, out)
        for split in ("train", "valid"):
            frame = pd.read_csv(out / f"{split}.csv")
            assert len(frame) == 20
            assert frame["Path"].str.startswith(f"{split}/").all()
            # torchxrayvision's CheX_Dataset: patient id = Path split on "<split>/", then on "/study"
            if relayout:
                pid = frame["Path"].str.split(f"{split}/", expand=True)[1].str.split("/study", expand=True)[0]
                assert pid.str.fullmatch(r"patient\d{5}").all()
        if relayout:
            pm = pd.read_csv(out / "path_map.csv")
            assert len(pm) == 40
            for p, src in zip(pm["Path"], pm["source"]):
                assert os.readlink(out / p) == str(tmp_path / src)


def test_relayout_numbers_patients_studies_and_views(small, tmp_path):
    labels, meta = small
    plan = plan_export(labels, meta, ExportOptions(split="1", relayout=True, image_root=tmp_path))
    write_export(plan, labels, meta, tmp_path / "feed")
    assert pd.read_csv(tmp_path / "feed" / "train.csv")["Path"].tolist() == [
        "train/patient00001/study1/view1_frontal.jpg",
        "train/patient00001/study1/view2_lateral.jpg",
        "train/patient00002/study1/view1_frontal.jpg",
        "train/patient00003/study1/view1_frontal.png",
    ]


def test_mimic_format_and_preset(tmp_path):
    labels = write_labels(
        tmp_path / "labels.csv",
        {"s50000001": {"Edema": "-1", "Cardiomegaly": "1"}, "s50000002": {"No Finding": "1"}},
    )
    meta = write_meta(
        tmp_path / "mimic-cxr-2.0.0-metadata.csv",
        "dicom_id,subject_id,study_id,ViewPosition,StudyDate\n"
        "d1,10000001,50000001,PA,21800506\nd2,10000001,50000001,LATERAL,21800506\n"
        "d3,10000002,50000002,AP,21810101\n",
    )
    plan = plan_export(
        labels, meta, ExportOptions(format="mimic", preset="mimic", split="1", uncertain="zeros")
    )
    write_export(
        plan,
        labels,
        meta,
        tmp_path / "feed",
    )
    feed = tmp_path / "feed"
    assert (feed / "mimic-cxr-2.0.0-chexpert.csv").read_text().splitlines() == [
        "subject_id,study_id,Atelectasis,Cardiomegaly,Consolidation,Edema,Enlarged Cardiomediastinum,"
        "Fracture,Lung Lesion,Lung Opacity,No Finding,Pleural Effusion,Pleural Other,Pneumonia,Pneumothorax,"
        "Support Devices",
        "10000001,50000001,,1.0,,0.0,,,,,,,,,,",
        "10000002,50000002,,,,,,,,,1.0,,,,,",
    ]
    assert (feed / "mimic-cxr-2.0.0-metadata.csv").read_text().splitlines() == [
        "dicom_id,subject_id,study_id,ViewPosition,StudyDate",
        "d1,10000001,50000001,PA,21800506",
        "d2,10000001,50000001,LATERAL,21800506",
        "d3,10000002,50000002,AP,21810101",
    ]
    assert (feed / "mimic-cxr-2.0.0-split.csv").read_text().splitlines()[1] == "d1,50000001,10000001,train"
    assert plan.images["path"].tolist()[0] == "files/p10/p10000001/s50000001/d1.jpg"


def test_prevalence_table_is_exact(small):
    labels, meta = small
    plan = plan_export(labels, meta, ExportOptions(split="1", uncertain="keep"))
    prev = plan.prevalence.set_index("label")
    assert prev.loc["Cardiomegaly", ["images", "positive", "negative", "uncertain", "blank"]].tolist() == [
        4,
        1,
        0,
        0,
        3,
    ]
    assert prev.loc["No Finding", ["positive", "positive_pct"]].tolist() == [2, 50.0]
    assert prev.loc["Edema", ["uncertain", "blank"]].tolist() == [1, 3]
    assert prev.loc["Pleural Effusion", ["negative", "blank"]].tolist() == [2, 2]


def test_cli_refuses_non_empty_folder_and_overwrites(small, tmp_path):
    labels, meta = small
    out = tmp_path / "feed"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    runner = CliRunner()
    args = ["export", str(labels), "--metadata", str(meta), "-o", str(out), "--split", "1", "-q"]
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert "[RL702]" in res.output and "Traceback" not in res.output
    assert sorted(os.listdir(out)) == ["notes.txt"]
    res = runner.invoke(app, [*args, "--overwrite"])
    assert res.exit_code == 0, res.output
    assert sorted(os.listdir(out)) == ["export.json", "notes.txt", "prevalence.csv", "train.csv"]
    res = runner.invoke(app, [*args[:-2], "0.5,0.5", "-q", "--overwrite"])
    assert res.exit_code == 0, res.output
    assert sorted(os.listdir(out)) == ["export.json", "notes.txt", "prevalence.csv", "train.csv", "valid.csv"]
    res = runner.invoke(app, [*args, "--overwrite"])  # the earlier valid.csv goes; notes.txt stays
    assert sorted(os.listdir(out)) == ["export.json", "notes.txt", "prevalence.csv", "train.csv"]


def test_cli_dry_run_writes_nothing_and_prints_summary(small, tmp_path):
    labels, meta = small
    res = CliRunner().invoke(
        app,
        [
            "export",
            str(labels),
            "--metadata",
            str(meta),
            "-o",
            str(tmp_path / "feed"),
            "--split",
            "0.5,0.5",
            "--dry-run",
        ],
    )
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "feed").exists()
    assert "export plan" in res.output and "dry run" in res.output


def test_interrupted_export_leaves_no_partial_train_csv(small, tmp_path, monkeypatch):
    import reportlab_nlp.export.csvio as csvio

    labels, meta = small
    plan = plan_export(labels, meta, ExportOptions(split="0.5,0.5"))
    real = csvio.append_csv
    calls = []

    def failing(table, fh):
        calls.append(fh.name)
        real(table, fh)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(csvio, "append_csv", failing)
    with pytest.raises(KeyboardInterrupt):
        write_export(plan, labels, meta, tmp_path / "feed")
    assert os.listdir(tmp_path / "feed") == []  # neither train.csv nor a temporary file


KILL_SCRIPT = """
import os, signal, sys
import reportlab_nlp.export.chunks as chunks
import reportlab_nlp.export.csvio as csvio
from reportlab_nlp.cli import main

chunks.CHUNK_BYTES = 256  # many chunks: the kill lands in the middle of train.csv
real, written = csvio.append_csv, []


def killed_after_three_chunks(table, fh):
    real(table, fh)
    fh.flush()
    if ".train.csv." in fh.name:
        written.append(table.num_rows)
        if len(written) == 3:
            os.kill(os.getpid(), signal.SIGKILL)


csvio.append_csv = killed_after_three_chunks
sys.argv = ["reportlab-nlp", "export", *sys.argv[1:]]
main()
"""


def test_killed_export_leaves_no_train_csv_and_the_next_run_completes(tmp_path):
    import signal
    import subprocess
    import sys

    rows = {f"r{i}": {"Cardiomegaly": "1"} if i % 3 == 0 else {"No Finding": "1"} for i in range(120)}
    labels = write_labels(tmp_path / "labels.csv", rows)
    meta = write_meta(
        tmp_path / "meta.csv",
        "report_id,patient_id,path,view,sex,age\n"
        + "".join(f"r{i},p{i // 2},img/{i}.jpg,PA,F,40\n" for i in range(120)),
    )
    out = tmp_path / "feed"
    args = [str(labels), "--metadata", str(meta), "-o", str(out), "--split", "1", "-q"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, *args], env=env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    left = sorted(os.listdir(out))
    assert "train.csv" not in left and "export.json" not in left
    assert left and all(name.startswith(".") and name.endswith(".tmp") for name in left)
    # the next export (no --overwrite needed: only a killed export's temporary files are there)
    res = CliRunner().invoke(app, ["export", *args])
    assert res.exit_code == 0, res.output
    assert sorted(os.listdir(out)) == ["export.json", "prevalence.csv", "train.csv"]
    assert len(pd.read_csv(out / "train.csv")) == 120


def test_bad_split_and_format_are_coded_errors(small):
    labels, meta = small
    for split in ("0.8,0.3", "a,b", "0,1", "0.5,0.2,0.2,0.1"):
        with pytest.raises(ExportError, match=r"\[RL703\]"):
            plan_export(labels, meta, ExportOptions(split=split))
    with pytest.raises(ExportError, match=r"\[RL700\]"):
        plan_export(labels, meta, ExportOptions(format="coco"))


def test_parquet_labels_and_tsv_metadata_give_the_same_export(small, tmp_path):
    labels, meta = small
    plan = plan_export(labels, meta, ExportOptions(split="1"))
    write_export(plan, labels, meta, tmp_path / "csv")
    pq_labels = tmp_path / "labels.parquet"
    pd.read_csv(labels, dtype=str, keep_default_na=False).to_parquet(pq_labels, index=False)
    tsv_meta = tmp_path / "meta.tsv"
    tsv_meta.write_text(meta.read_text().replace(",", "\t"))
    plan = plan_export(pq_labels, tsv_meta, ExportOptions(split="1"))
    write_export(plan, pq_labels, tsv_meta, tmp_path / "other")
    assert (tmp_path / "other" / "train.csv").read_bytes() == (tmp_path / "csv" / "train.csv").read_bytes()
    assert len((tmp_path / "csv" / "train.csv").read_text().splitlines()) == 5


def test_unreadable_metadata_is_a_coded_error(small, tmp_path):
    labels, _ = small
    meta = write_meta(tmp_path / "m.csv", "report_id,patient_id,path\nr1,p1,a.jpg,extra\n")
    with pytest.raises(ExportError, match=r"\[RL701\] metadata m.csv cannot be read"):
        plan_export(labels, meta, ExportOptions(split="1"))
