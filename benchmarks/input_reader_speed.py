"""Rows per second of ``ReportSource`` on a generated 100k-row CSV (no shared data needed).

python benchmarks/input_reader_speed.py [--rows 100000] [--chunk 1000]
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

from reportlab_nlp.inputs import ReportSource

PHRASES = [
    "FINDINGS: The heart size is normal.",
    "No pleural effusion or pneumothorax.",
    "IMPRESSION: No acute cardiopulmonary process.",
    "Small left basilar atelectasis, unchanged.",
    "Degenerative changes of the thoracic spine.",
    "The lungs are clear, without focal consolidation.",
    'Stable 5 mm nodule, "likely granuloma".',
]


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["report_id", "report", "site"])
        for i in range(rows):
            text = ("\n" if rng.random() < 0.3 else " ").join(rng.sample(PHRASES, rng.randint(2, 6)))
            w.writerow([f"r{i}", text, rng.choice(["a", "b"])])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reports.csv"
        write_csv(path, args.rows)
        best = best_cpu = 0.0
        for _ in range(3):
            t, c = time.perf_counter(), time.process_time()
            n = sum(ch.n_in for ch in ReportSource(path).chunks(args.chunk))
            best = max(best, n / (time.perf_counter() - t))
            best_cpu = max(best_cpu, n / (time.process_time() - c))
        size = path.stat().st_size / 1e6
        print(
            f"{n} rows, {size:.1f} MB: {best:,.0f} rows/s wall, {best_cpu:,.0f} rows/s of CPU time (best of "
            "3)"
        )


if __name__ == "__main__":
    main()
