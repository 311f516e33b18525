"""Benchmark ``export``: wall time and peak memory (RSS) for large synthetic label tables.

    python benchmarks/bench_export.py [--rows 1000000] [--images-per-report 1.3] [--format chexpert]

Writes a synthetic label table (``--rows`` reports, CheXpert cells 1/0/-1/blank at realistic
rates) and image metadata (about ``--images-per-report`` images per report, ~3 reports per
patient) to a temporary folder, then runs ``reportlab-nlp export`` in a fresh process pinned to
one CPU core (``taskset -c 0`` where available) and reports its wall time, peak RSS and the 1-min
load average before it. The export's temporary partition files go to ``TMPDIR`` (about 80 bytes
per image at their peak), the inputs to a temporary folder: check ``df -h /tmp`` before 3,000,000 rows.
Several ``--rows`` values show how memory grows with the input. Synthetic data only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from reportlab_nlp.schema import load_taxonomy  # noqa: E402

LABELS = list(load_taxonomy("chexpert").label_names)
VIEWS = np.array(["PA", "AP", "LATERAL", "LL"])


def make_inputs(folder: Path, rows: int, per_report: float, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    ids = np.char.add("r", np.arange(rows).astype(str))
    cells = np.array(["", "1.0", "0.0", "-1.0"])
    rates = rng.uniform(0.005, 0.25, len(LABELS))
    data = {"report_id": ids}
    for lab, rate in zip(LABELS, rates):
        u = rng.random(rows)
        code = np.where(u < rate, 1, np.where(u < rate * 1.3, 3, np.where(u < rate * 2.5, 2, 0)))
        data[lab] = cells[code]
    labels = folder / "labels.csv"
    pd.DataFrame(data).to_csv(labels, index=False)
    n_img = int(rows * per_report)
    rep = np.sort(rng.integers(0, rows, n_img))
    rep[:rows] = np.arange(rows)  # every report has at least one image
    rep.sort()
    patient = rep // 3
    meta = pd.DataFrame(
        {
            "report_id": ids[rep],
            "patient_id": np.char.add("p", patient.astype(str)),
            "path": np.char.add(np.char.add("images/", np.arange(n_img).astype(str)), ".jpg"),
            "view": VIEWS[rng.integers(0, 4, n_img)],
            "sex": np.where(rng.random(n_img) < 0.5, "M", "F"),
            "age": rng.integers(18, 95, n_img).astype(str),
        }
    )
    path = folder / "meta.csv"
    meta.to_csv(path, index=False)
    return labels, path


CHILD = """
import sys
from reportlab_nlp.cli import main

hwm_file, sys.argv = sys.argv[1], ["reportlab-nlp", "export", *sys.argv[2:]]
try:
    main()
finally:  # the peak RSS of this process image only (VmHWM); see run_once
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    open(hwm_file, "w").write(status["VmHWM"].split()[0])
"""


def run_once(labels: Path, meta: Path, out: Path, fmt: str) -> tuple[float, float]:
    """Wall time and peak RSS (MiB) of one ``export`` in a fresh process on one core.

    The peak is the child's own VmHWM: ``ru_maxrss`` of a child would include the parent's pages
    at fork time (Linux keeps the pre-exec high-water mark), i.e. the generated input frames.
    """
    hwm = out.parent / "hwm.txt"
    cmd = [sys.executable, "-c", CHILD, str(hwm), str(labels), "--metadata", str(meta), "-o", str(out)]
    cmd += ["--format", fmt, "--uncertain", "libauc", "--split", "0.8,0.1,0.1", "-q"]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "ARROW_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    wall = time.perf_counter() - t0
    return wall, int(hwm.read_text()) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--images-per-report", type=float, default=1.3)
    ap.add_argument("--format", default="chexpert", choices=["chexpert", "mimic", "csv"])
    args = ap.parse_args()
    print(f"{'label rows':>12} {'images':>10} {'wall s':>8} {'peak RSS MiB':>13} {'load':>6}")
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            labels, meta = make_inputs(Path(tmp), rows, args.images_per_report)
            load = os.getloadavg()[0]  # 1-min load average before the run (other jobs slow it)
            wall, peak = run_once(labels, meta, Path(tmp) / "feed", args.format)
            n_img = sum(1 for _ in open(meta)) - 1
            print(f"{rows:>12,} {n_img:>10,} {wall:>8.1f} {peak:>13.0f} {load:>6.1f}", flush=True)


if __name__ == "__main__":
    main()
