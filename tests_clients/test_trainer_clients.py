"""Real-client tests: exports of ``reportlab-nlp export`` loaded by torchxrayvision and LibAUC.

Runs inside ``.venv-clients`` (scripts/build_client_venv.sh), never in the main suite: the
exports are made by the main ``.venv``'s ``reportlab-nlp`` (``MAIN_PYTHON``), the datasets are
loaded by the real libraries, and every label tensor is compared image by image with what the
uncertainty policy says. Tiny generated images live in pytest's tmp folders.

    bash scripts/run_client_tests.sh
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
MAIN_PYTHON = os.environ.get("MAIN_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
LABELS = [
    "No Finding",
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Lesion",
    "Lung Opacity",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
]
NAN = float("nan")
# report -> raw label cells (blank when absent); patient; views of its images
REPORTS = {
    "s50000001": (
        {"Cardiomegaly": 1, "Edema": -1, "Atelectasis": -1, "Pneumonia": -1},
        "10000001",
        ["PA", "LATERAL"],
    ),
    "s50000002": ({"Pleural Effusion": 1, "Pneumothorax": 0, "Consolidation": -1}, "10000002", ["PA"]),
    "s50000003": ({"No Finding": 1, "Support Devices": 1}, "10000003", ["AP"]),
    "s50000004": ({"Lung Opacity": 1, "Fracture": -1, "Pleural Effusion": 0}, "10000004", ["PA", "LL"]),
    "s50000005": ({"Edema": 1, "Cardiomegaly": -1}, "10000002", ["AP"]),
}


def policy_value(label: str, raw: float, policy: str, blank_as: str) -> float:
    """What docs/export.md says a cell becomes, written out independently of the exporter."""
    if np.isnan(raw):
        return 0.0 if blank_as == "zero" else NAN
    if raw != -1:
        return raw
    return {
        "keep": -1.0,
        "ignore": NAN,
        "zeros": 0.0,
        "ones": 1.0,
        "libauc": 1.0 if label in ("Atelectasis", "Edema") else 0.0,
    }[policy]


def _export(tmp: Path, fmt: str, policy: str, blank_as: str, relayout: bool) -> Path:
    images = tmp / "images"
    rows = []
    for rid, (_cells, patient, views) in REPORTS.items():
        for k, view in enumerate(views):
            dicom = f"{rid}-{k}"
            path = images / f"{dicom}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray((np.arange(64 * 64).reshape(64, 64) % 251).astype(np.uint8)).save(path)
            rows.append(
                {
                    "report_id": rid,
                    "dicom_id": dicom,
                    "subject_id": patient,
                    "study_id": rid[1:],
                    "ViewPosition": view,
                    "StudyDate": "21800101",
                    "path": f"images/{dicom}.jpg",
                    "sex": "F",
                    "age": "60",
                }
            )
    pd.DataFrame(rows).to_csv(tmp / "meta.csv", index=False)
    pd.DataFrame(
        [
            {
                "report_id": rid,
                **{lab: ("" if lab not in cells else f"{float(cells[lab]):.1f}") for lab in LABELS},
            }
            for rid, (cells, _, _) in REPORTS.items()
        ]
    ).to_csv(tmp / "labels.csv", index=False)
    out = tmp / "feed"
    cmd = [
        MAIN_PYTHON,
        "-m",
        "reportlab_nlp.cli",
        "export",
        str(tmp / "labels.csv"),
        "--metadata",
        str(tmp / "meta.csv"),
        "-o",
        str(out),
        "--format",
        fmt,
        "--uncertain",
        policy,
        "--blank-as",
        blank_as,
        "--split",
        "1",
        "--image-root",
        str(tmp),
        "-q",
    ]
    if fmt == "mimic":
        cmd += ["--preset", "mimic", "--columns", "path=path"]
    else:
        cmd += ["--columns", "patient_id=subject_id,image_id=dicom_id,view=ViewPosition"]
    if relayout:
        cmd.append("--relayout")
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return out


def expected_rows(policy: str, blank_as: str) -> dict[str, dict[str, float]]:
    out = {}
    for rid, (cells, _, views) in REPORTS.items():
        for k, _ in enumerate(views):
            out[f"{rid}-{k}"] = {
                lab: policy_value(lab, float(cells.get(lab, NAN)), policy, blank_as) for lab in LABELS
            }
    return out


def _same(a, b) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


@pytest.mark.parametrize(
    "policy,blank_as",
    [("keep", "blank"), ("zeros", "blank"), ("ones", "zero"), ("libauc", "zero"), ("ignore", "blank")],
)
def test_torchxrayvision_chex_dataset(tmp_path, policy, blank_as):
    import torchxrayvision as xrv

    out = _export(tmp_path, "chexpert", policy, blank_as, relayout=True)
    ds = xrv.datasets.CheX_Dataset(
        imgpath=str(out), csvpath=str(out / "train.csv"), views=["*"], unique_patients=False
    )
    pm = pd.read_csv(out / "path_map.csv")
    dicom_of = {p: Path(s).stem for p, s in zip(pm["Path"], pm["source"])}
    want = expected_rows(policy, blank_as)
    assert len(ds) == len(want)
    for i in range(len(ds)):
        sample = ds[i]
        assert sample["img"].shape == (1, 64, 64)
        row = want[dicom_of[ds.csv["Path"].iloc[i]]]
        healthy = row["No Finding"] == 1
        for j, name in enumerate(ds.pathologies):
            label = "Pleural Effusion" if name == "Effusion" else name
            value = row[label]
            if healthy and label != "Support Devices":  # CheX_Dataset zeroes findings of "No Finding" rows
                value = 0.0
            value = NAN if value == -1 else value  # and turns -1 into NaN
            assert _same(float(sample["lab"][j]), value), (i, name)
    assert set(ds.csv["patientid"]) == {f"{n:05d}" for n in range(1, 5)}


def test_torchxrayvision_mimic_dataset(tmp_path):
    import torchxrayvision as xrv

    out = _export(tmp_path, "mimic", "libauc", "blank", relayout=True)
    ds = xrv.datasets.MIMIC_Dataset(
        imgpath=str(out / "files"),
        csvpath=str(out / "mimic-cxr-2.0.0-chexpert.csv"),
        metacsvpath=str(out / "mimic-cxr-2.0.0-metadata.csv"),
        views=["*"],
        unique_patients=False,
    )
    want = expected_rows("libauc", "blank")
    assert len(ds) == len(want)
    for i in range(len(ds)):
        sample = ds[i]
        assert sample["img"].shape == (1, 64, 64)
        row = want[str(ds.csv["dicom_id"].iloc[i])]
        for j, name in enumerate(ds.pathologies):
            label = "Pleural Effusion" if name == "Effusion" else name
            value = 0.0 if row["No Finding"] == 1 else row[label]  # MIMIC_Dataset zeroes "No Finding" rows
            assert _same(float(sample["lab"][j]), value), (i, name)


def test_libauc_chexpert(tmp_path):
    from libauc.datasets import CheXpert

    out = _export(tmp_path, "chexpert", "libauc", "zero", relayout=True)
    cols = ["Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion"]
    ds = CheXpert(
        csv_path=str(out / "train.csv"),
        image_root_path=str(out) + "/",
        image_size=32,
        class_index=-1,
        use_frontal=True,
        use_upsampling=False,
        shuffle=False,
        verbose=False,
        mode="valid",
        train_cols=cols,
    )
    pm = pd.read_csv(out / "path_map.csv")
    dicom_of = {p: Path(s).stem for p, s in zip(pm["Path"], pm["source"])}
    want = expected_rows("libauc", "zero")
    frontal = list(pd.read_csv(out / "train.csv").query("`Frontal/Lateral` == 'Frontal'")["Path"])
    assert len(ds) == len(frontal) == 5
    for i in range(len(ds)):
        image, label = ds[i]
        assert image.shape == (3, 32, 32)
        row = want[dicom_of[frontal[i]]]
        assert np.asarray(label, dtype=np.float32).tolist() == [row[c] for c in cols]


def test_readme_loading_code_runs(tmp_path):
    """The README's "Loading the export" block, run as written on a fresh export."""
    out = _export(tmp_path, "chexpert", "libauc", "zero", relayout=True)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- client-loading -->\s*```python\n(.*?)```", readme, re.S).group(1)
    scope: dict = {}
    cwd = os.getcwd()
    os.chdir(out.parent)  # the block reads feed/train.csv, as in the README's export command
    try:
        exec(compile(block, "README.md", "exec"), scope)
    finally:
        os.chdir(cwd)
    assert len(scope["chex"]) == 7 and len(scope["auc"]) == 5
