"""The input reader on every dev corpus: rows kept, rejects by code, control characters,
records that ``strip_markup="auto"`` would change, and agreement with pandas' reader.

    python benchmarks/input_reader_dev.py [--data ../shared/data]

Skips cleanly when the shared data folder is absent. Prints counts only, never report text.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from reportlab_nlp.inputs import ReportSource

CORPORA = (
    ("openi_dev/reports.csv", "report_id", "report"),
    ("ctrate_dev/reports.csv", "report_id", "report"),
    ("deid_dev/asq_phi_texts.csv", "id", "text"),
    ("deid_dev/presidio_synth_texts.csv", "id", "text"),
)


def check(path: Path, id_col: str, text_col: str) -> None:
    plain = ReportSource(path, id_col, text_col)
    auto = ReportSource(path, id_col, text_col, strip_markup="auto")
    kept, codes, controls = {}, Counter(), 0
    for ch in plain.chunks(500):
        kept.update(zip(ch.frame[id_col], ch.frame[text_col]))
        codes.update(r.code for r in ch.rejects)
        controls += ch.control_chars
    changed = sum(m is not None for ch in auto.chunks(500) for m in ch.offset_maps)
    old = pd.read_csv(path, dtype=str, keep_default_na=False)
    same = sum(kept.get(i) == t for i, t in zip(old[id_col], old[text_col]))
    print(
        f"{path.parent.name}/{path.name}: pandas rows {len(old)}; kept {len(kept)}, identical text {same}; "
        f"rejects {dict(codes) or 0}; control chars {controls}; markup stripped by auto {changed}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipped: {args.data} is absent")
        sys.exit(0)
    for rel, id_col, text_col in CORPORA:
        if (args.data / rel).exists():
            check(args.data / rel, id_col, text_col)


if __name__ == "__main__":
    main()
