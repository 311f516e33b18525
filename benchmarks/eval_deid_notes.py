"""De-identification on the project's invented nursing-note and phenomenon probe sets.

    python benchmarks/eval_deid_notes.py [--data benchmarks/data/deid_notes] [--show-leaks]

For every set listed in ``sets.csv`` (see that folder's README): notes, gold PHI, instance recall and
token precision (times excluded, the detector's defaults), and pooled rows for the halves never opened as
development data ("unseen"), for those of them in the sparse style, and for all the sparse sets.
``--show-leaks`` prints the missed values of the development halves only; the unseen halves print totals,
never their items.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from reportlab_nlp.deid import Detector, evaluate_spans
from reportlab_nlp.deid.evaluate import format_leaks, leaks

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "benchmarks" / "data" / "deid_notes"


def score(det: Detector, texts: dict[str, str], gold: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    rows = [(rid, s.start, s.end, s.category) for rid, t in texts.items() for s in det.detect(t)]
    pred = pd.DataFrame(rows, columns=["id", "start", "end", "category"])
    return evaluate_spans(pred, gold, texts), pred


def line(name: str, m: dict, note: str = "") -> str:
    return (
        f"{name:<22} {m['records']:>5} {m['gold_spans']:>5} {m['instance_recall']:>9.3f} "
        f"{m['token_precision']:>9.3f}  {note}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--show-leaks", action="store_true")
    args = ap.parse_args()
    sets = pd.read_csv(args.data / "sets.csv", dtype=str)
    det = Detector()
    pooled: dict[str, tuple[dict[str, str], list[pd.DataFrame]]] = {
        "unseen": ({}, []),
        "unseen sparse": ({}, []),
        "sparse": ({}, []),
    }
    print(f"{'set':<22} {'notes':>5} {'PHI':>5} {'inst.rec':>9} {'tok.prec':>9}  opened as dev")
    for r in sets.itertuples(index=False):
        t = pd.read_csv(args.data / f"{r.set}_texts.csv", dtype=str, keep_default_na=False)
        texts = dict(zip(t["id"], t["text"]))
        gold = pd.read_csv(args.data / f"{r.set}_spans.csv", dtype={"id": str})
        m, pred = score(det, texts, gold)
        print(line(f"{r.set} ({r.style})", m, r.opened_as_dev))
        unseen = r.opened_as_dev == "never"
        for key, wanted in (
            ("unseen", unseen),
            ("unseen sparse", unseen and r.style == "sparse"),
            ("sparse", r.style == "sparse"),
        ):
            if wanted:
                assert not set(texts) & set(pooled[key][0]), f"{r.set}: note ids repeat another set's"
                pooled[key][0].update(texts)
                pooled[key][1].append(gold)
        if args.show_leaks and r.opened_as_dev != "never":
            print(format_leaks(leaks(pred, gold, texts)))
    for key, (texts, golds) in pooled.items():
        m, _ = score(det, texts, pd.concat(golds, ignore_index=True))
        print(line(f"pooled: {key}", m))
        if key == "unseen":
            cats = ", ".join(f"{c} {v['instance_recall']:.3f}" for c, v in m["per_category"].items())
            print(f"  unseen recall by category: {cats}")


if __name__ == "__main__":
    main()
