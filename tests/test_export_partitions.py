"""``export`` on disk partitions: tiny partitions give the same files; temporary files go away."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import reportlab_nlp.export.chunks as chunks
import reportlab_nlp.export.scan as scan
from reportlab_nlp.cli import app
from reportlab_nlp.errors import ExportError
from reportlab_nlp.export import ExportOptions, plan_export, write_export
from reportlab_nlp.export.spill import hash_bits
from reportlab_nlp.schema import load_taxonomy

LABELS = list(load_taxonomy("chexpert").label_names)


@pytest.fixture()
def archive(tmp_path):
    """60 reports of 20 patients (1-3 images each) and every kind of reject."""
    rng = np.random.default_rng(7)
    cells = np.array(["", "1.0", "0.0", "-1.0"])[rng.choice(4, (60, len(LABELS)), p=[0.6, 0.15, 0.2, 0.05])]
    ids = [f"r{i}" for i in range(60)]
    frame = pd.DataFrame(cells, columns=LABELS)
    frame.insert(0, "report_id", ids)
    extra = pd.DataFrame(
        [
            ["r5", *[""] * len(LABELS)],  # r5 twice: both copies rejected (RL716), its images RL710
            ["", *[""] * len(LABELS)],  # empty id (RL712)
            ["r70", *(["2"] + [""] * (len(LABELS) - 1))],  # bad cell (RL718)
            ["r71", *(["1.0"] + [""] * (len(LABELS) - 1))],  # no image (RL711)
        ],
        columns=["report_id", *LABELS],
    )
    pd.concat([frame, extra], ignore_index=True).to_csv(tmp_path / "labels.csv", index=False)
    views = ["PA", "AP", "lateral", "LL"]
    lines = ["report_id,patient_id,path,view,sex,age,study_date"]
    k = 0
    for i in range(60):
        for v in range(1 + i % 3):
            lines.append(f"r{i},p{i % 20},img/{k}.jpg,{views[(i + v) % 4]},{'MF'[i % 2]},{30 + i},2020010{v}")
            k += 1
    lines += [
        "r1,p1,img/0.jpg,PA,M,50,20200101",  # image id of line 2 again (both RL713)
        "r2,p2,img/x1.jpg,SIDEWAYS,F,50,20200101",  # RL714
        "r3,p3,img/x2.jpg,PA,F,250,20200101",  # RL715
        "r3,p3,img/x3.jpg,PA,Q,50,20200101",  # RL717
        ",p3,img/x4.jpg,PA,F,50,20200101",  # RL712
        "r99,p9,img/x5.jpg,PA,F,50,20200101",  # RL710
        "r4,p77,img/x6.jpg,PA,F,50,20200101",  # r4's images now name two patients (RL719)
    ]
    (tmp_path / "meta.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "labels.csv", tmp_path / "meta.csv"


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of an export (symlinks as their targets), export.json included."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = os.readlink(path).encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


@pytest.mark.parametrize("fmt", ["chexpert", "mimic", "csv"])
def test_tiny_partitions_give_byte_identical_files(archive, tmp_path, monkeypatch, fmt):
    labels, meta = archive
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 512)  # several chunks, crossing the decision files
    assert hash_bits(scan.rows_upper(meta, 7), 3) >= 5  # 32+ partitions at a budget of 3 records
    got = {}
    for budget in (3, ExportOptions().partition_rows):
        opts = ExportOptions(
            format=fmt, split="0.6,0.2,0.2", seed=5, relayout=True, image_root=tmp_path, partition_rows=budget
        )
        with plan_export(labels, meta, opts) as plan:
            write_export(plan, labels, meta, tmp_path / f"{fmt}{budget}")
        got[budget] = _files(tmp_path / f"{fmt}{budget}")
    assert got[3] == got[ExportOptions().partition_rows]
    files = got[3]
    summary = pd.read_json(tmp_path / f"{fmt}3" / "export.json", typ="series")
    assert summary["rejects_by_code"] == {
        "RL710": 4,  # r99's image and r5's three images (r5's label rows are duplicates)
        "RL711": 3,  # r71; r4 and r0, whose images are all rejected
        "RL712": 2,
        "RL713": 2,
        "RL714": 1,
        "RL715": 1,
        "RL716": 2,
        "RL717": 1,
        "RL718": 1,
        "RL719": 3,  # r4 had two images of p4 and gets one of p77
    }
    assert summary["images"] == 120 - 3 - 2 - 1  # 120 images; r5's, r4's and the duplicate's gone
    assert summary["patients"] == 20
    rejects = pd.read_csv(tmp_path / f"{fmt}3" / "rejects.csv", dtype=str)
    assert rejects[["line", "code"]].values.tolist()[:7] == [  # label rows first, in file order
        ["2", "RL711"],
        ["6", "RL711"],
        ["7", "RL716"],
        ["62", "RL716"],
        ["63", "RL712"],
        ["64", "RL718"],
        ["65", "RL711"],
    ]
    # then the metadata's: img/0.jpg (line 2), r4's (9, 10), r5's (11-13), the seven extra rows
    assert rejects["line"].astype(int).tolist()[7:] == [2, 9, 10, 11, 12, 13, *range(122, 129)]
    if fmt == "chexpert":
        train = pd.read_csv(tmp_path / f"{fmt}3" / "train.csv")
        first = pd.read_csv(tmp_path / f"{fmt}3" / "path_map.csv")
        assert (
            train["Path"].str.fullmatch(r"train/patient000\d\d/study\d/view\d_(frontal|lateral)\.jpg").all()
        )
        assert sorted(first["Path"].str.extract(r"patient(\d+)", expand=False).astype(int).unique()) == list(
            range(1, 21)
        )
    links = sum(1 for name in files if name.endswith(".jpg"))
    assert links == (0 if fmt == "csv" else summary["images"])  # csv has no relayout folders


def test_tiny_partitions_keep_patients_in_one_split_and_fractions_exact(tmp_path):
    labels = pd.DataFrame({"report_id": [f"r{i}" for i in range(40)], **dict.fromkeys(LABELS, "")})
    labels.to_csv(tmp_path / "labels.csv", index=False)
    rows = "".join(f"r{i},p{i % 10},img/{i}.jpg,PA,F,40\n" for i in range(40))
    (tmp_path / "meta.csv").write_text("report_id,patient_id,path,view,sex,age\n" + rows)
    opts = ExportOptions(format="csv", split="0.8,0.1,0.1", partition_rows=3)
    with plan_export(tmp_path / "labels.csv", tmp_path / "meta.csv", opts) as plan:
        summary = write_export(plan, tmp_path / "labels.csv", tmp_path / "meta.csv", tmp_path / "out")
    assert {s: v["patients"] for s, v in summary["splits"].items()} == {"train": 8, "valid": 1, "test": 1}
    assert {s: v["images"] for s, v in summary["splits"].items()} == {"train": 32, "valid": 4, "test": 4}
    seen: dict[str, str] = {}
    for name in ("train", "valid", "test"):
        frame = pd.read_csv(tmp_path / "out" / f"{name}.csv", dtype=str)
        for patient in frame["patient_id"]:
            assert seen.setdefault(patient, name) == name
        assert frame["image_id"].str.extract(r"(\d+)", expand=False).astype(int).is_monotonic_increasing


@pytest.fixture()
def temp_root(tmp_path, monkeypatch):
    import tempfile

    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def test_temporary_files_are_removed_after_success(archive, tmp_path, temp_root):
    labels, meta = archive
    args = [
        "export",
        str(labels),
        "--metadata",
        str(meta),
        "-o",
        str(tmp_path / "feed"),
        "--split",
        "1",
        "-q",
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert os.listdir(temp_root) == []
    plan = plan_export(labels, meta, ExportOptions(split="1", partition_rows=3))
    assert [p.name.startswith("reportlab-export-") for p in temp_root.iterdir()] == [True]
    assert len(os.listdir(plan.workdir.path)) > 10  # the partition files
    write_export(plan, labels, meta, tmp_path / "feed2")
    plan.close()
    assert os.listdir(temp_root) == []


def test_temporary_files_are_removed_after_a_failure(archive, tmp_path, temp_root, monkeypatch):
    import reportlab_nlp.export.csvio as csvio

    labels, meta = archive
    with pytest.raises(ExportError, match=r"\[RL708\]"):  # pass 1 fails: nothing joined
        plan_export(labels, meta, ExportOptions(split="1", columns={"report_id": "path"}))
    assert os.listdir(temp_root) == []

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:  # Ctrl-C in the middle of pass 1
        m.setattr(scan._Scanner, "reports", interrupted)
        with pytest.raises(KeyboardInterrupt):
            plan_export(labels, meta, ExportOptions(split="1", partition_rows=3))
    assert os.listdir(temp_root) == []
    plan = plan_export(labels, meta, ExportOptions(split="1", partition_rows=3))
    monkeypatch.setattr(csvio, "append_csv", interrupted)  # Ctrl-C in pass 2
    with pytest.raises(KeyboardInterrupt):
        write_export(plan, labels, meta, tmp_path / "feed")
    assert os.listdir(temp_root) == []
    assert os.listdir(tmp_path / "feed") == []


def test_tiny_partitions_still_stratify_a_rare_label_into_every_split(tmp_path):
    rows = {f"r{i}": ("1.0" if i in (4, 17, 25) else "") for i in range(30)}
    labels = pd.DataFrame({"report_id": list(rows), **dict.fromkeys(LABELS, "")})
    labels["Fracture"] = list(rows.values())
    labels.to_csv(tmp_path / "labels.csv", index=False)
    meta = "".join(f"r{i},p{i},img/{i}.jpg,PA,F,40\n" for i in range(30))
    (tmp_path / "meta.csv").write_text("report_id,patient_id,path,view,sex,age\n" + meta)
    for seed in (0, 1, 2):
        opts = ExportOptions(format="csv", split="0.8,0.1,0.1", seed=seed, partition_rows=3)
        out = tmp_path / f"out{seed}"
        with plan_export(tmp_path / "labels.csv", tmp_path / "meta.csv", opts) as plan:
            summary = write_export(plan, tmp_path / "labels.csv", tmp_path / "meta.csv", out)
        assert {s: v["patients"] for s, v in summary["splits"].items()} == {
            "train": 24,
            "valid": 3,
            "test": 3,
        }
        for name in ("train", "valid", "test"):
            frame = pd.read_csv(out / f"{name}.csv")
            assert int((frame["Fracture"] == 1.0).sum()) == 1


def test_csv_blocks_never_split_a_quoted_cell(tmp_path, monkeypatch):
    from reportlab_nlp.export.chunks import iter_frames

    monkeypatch.setattr(chunks, "CHUNK_BYTES", 7)  # blocks shorter than one row
    path = tmp_path / "t.csv"
    path.write_bytes('\ufeffa,"b\nc"\n1,"x\ny,z"\n2,"say ""hi""\n"\n\n3,plain\n4,last'.encode())
    frames = list(iter_frames(path, "table"))
    assert [len(f) for f in frames] == [1, 1, 1, 1]
    assert pd.concat(frames).values.tolist() == [
        ["1", "x\ny,z"],
        ["2", 'say "hi"\n'],
        ["3", "plain"],
        ["4", "last"],
    ]
    assert list(frames[0].columns) == ["a", "b\nc"]


def test_a_killed_exports_temporary_folder_is_removed_by_the_next_export(archive, temp_root):
    import subprocess
    import sys

    labels, meta = archive
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = temp_root / f"reportlab-export-{int(dead.stdout)}-abc"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "decisions.0.bin").write_bytes(b"x")
    alive = temp_root / f"reportlab-export-{os.getppid()}-abc"  # a running process's: kept
    alive.mkdir()
    with plan_export(labels, meta, ExportOptions(split="1")) as plan:
        assert sorted(os.listdir(temp_root)) == sorted([alive.name, plan.workdir.path.name])
    assert os.listdir(temp_root) == [alive.name]
