"""Benchmark the rule labeler: reports/s and peak memory (RSS), 1 and N workers.

    python benchmarks/bench_label.py [--reports PATH] [--n 3000] [--workers 1 2] [--evidence]

Uses ../shared/data/openi_dev/reports.csv when present (repeated to --n reports), otherwise
synthetic reports built from sentence templates. Pipeline build time is reported separately
and not counted in throughput.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data" / "openi_dev" / "reports.csv"

SENTENCES = [
    "The heart size is normal.",
    "Mild cardiomegaly.",
    "No pleural effusion or pneumothorax.",
    "Small left pleural effusion.",
    "There is a 2.5 cm nodule in the right upper lobe.",
    "Bibasilar atelectasis.",
    "Possible right lower lobe pneumonia.",
    "Calcified granuloma.",
    "Endotracheal tube terminates 4 cm above the carina.",
    "Lungs are clear.",
    "Degenerative changes of the thoracic spine.",
    "No focal consolidation.",
]


def synthetic(n: int) -> pd.DataFrame:
    rnd = random.Random(7)
    rows = []
    for i in range(n):
        f = " ".join(rnd.sample(SENTENCES, 5))
        imp = " ".join(rnd.sample(SENTENCES, 2))
        rows.append({"report_id": f"S{i}", "report": f"INDICATION: cough\nFINDINGS: {f}\nIMPRESSION: {imp}"})
    return pd.DataFrame(rows)


def peak_rss_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=Path, default=SHARED)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--evidence", action="store_true", help="also write mention evidence (and link CUIs)")
    ap.add_argument("--taxonomy", default="chexpert")
    args = ap.parse_args()

    from reportlab_nlp.labeler import PipelineSpec, get_pipeline, label_archive

    if args.reports.exists():
        base = pd.read_csv(args.reports, dtype=str)
        source = f"{args.reports.name} ({len(base)} reports, repeated)"
    else:
        print(f"note: {args.reports} not found; using synthetic reports")
        base = synthetic(1000)
        source = "synthetic"
    reps = -(-args.n // len(base))
    df = pd.concat(
        [base.assign(report_id=base.report_id + f"_{k}") for k in range(reps)], ignore_index=True
    ).iloc[: args.n]
    tmp = Path(tempfile.mkdtemp())
    inp = tmp / "in.csv"
    df.to_csv(inp, index=False)
    t0 = time.perf_counter()
    get_pipeline(PipelineSpec(args.taxonomy, link=args.evidence))
    print(f"pipeline build: {time.perf_counter() - t0:.1f} s")
    print(f"input: {source}; {len(df)} reports; cores: {os.cpu_count()}; evidence+linking: {args.evidence}")
    for w in args.workers:
        out = tmp / f"out_{w}.csv"
        s = label_archive(
            inp,
            out,
            taxonomy=args.taxonomy,
            workers=w,
            evidence_path=(tmp / f"ev_{w}.jsonl") if args.evidence else None,
        )
        print(
            f"workers={w}: {s.rows_out} reports in {s.seconds:.2f} s = {s.reports_per_second:.1f} "
            f"reports/s; peak RSS {peak_rss_mb():.0f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
