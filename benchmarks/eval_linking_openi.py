"""Linking coverage on OpenI: share of mentions that carry a CUI, and the most frequent unlinked forms.

    python benchmarks/eval_linking_openi.py [--kb KB_DIR] [--top 25]

Development only: reads ../shared/data/openi_dev/reports.csv (skips cleanly when absent) and
prints aggregate counts plus the most frequent unlinked mention surface forms (short finding
phrases, e.g. to grow the concept table); nothing is written to disk.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _openi import OPENI_REPORTS as DATA
from _openi import read_report_texts


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kb", default=None)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    texts = read_report_texts(args.data, None)
    if texts is None:
        return 0
    from reportlab_nlp import pipeline

    nlp = pipeline.load(taxonomy="chexpert", link=True, kb=args.kb)
    total = linked = 0
    unlinked: Counter = Counter()
    by_obs: Counter = Counter()
    for doc in nlp.pipe(texts):
        for ent in doc.ents:
            total += 1
            if ent._.cui:
                linked += 1
            else:
                unlinked[ent.text.lower()] += 1
                by_obs[ent._.observation] += 1
    print(f"{len(texts)} reports  {total} mentions  {linked} with a CUI ({linked / max(total, 1):.2%})")
    print("most frequent unlinked surface forms:")
    for form, n in unlinked.most_common(args.top):
        print(f"  {n:5d}  {form}")
    print("unlinked by observation:", dict(by_obs.most_common(10)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
