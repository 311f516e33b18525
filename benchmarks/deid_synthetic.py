"""Write the synthetic radiology de-identification benchmark (fixed seed) to a folder.

    python benchmarks/deid_synthetic.py OUT_DIR [--n 1200] [--seed 13]

Writes OUT_DIR/reports.csv (report_id, patient_id, report) and OUT_DIR/gold_spans.csv
(report_id, start, end, category). Do not commit the generated files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reportlab_nlp.deid.synthetic import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    reports, spans = generate(args.n, args.seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    reports.to_csv(args.out_dir / "reports.csv", index=False)
    spans.to_csv(args.out_dir / "gold_spans.csv", index=False)
    print(f"wrote {len(reports)} reports and {len(spans)} gold spans to {args.out_dir}")


if __name__ == "__main__":
    main()
