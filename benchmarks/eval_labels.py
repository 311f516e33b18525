"""Cross-corpus evaluation of the rule labeler: Open-i dev and CT-RATE dev side by side.

    python benchmarks/eval_labels.py [--data ../shared/data] [--json out.json] [--errors LABEL]

* Open-i dev (``openi_dev``): headline-9 macro F1 (Cardiomegaly, Atelectasis, Pleural Effusion,
  Edema, Pneumonia, Pneumothorax, Consolidation, Fracture, No Finding) against the NLM codes.
* CT-RATE dev (``ctrate_dev``): macro F1 over the 7 labels that map to CheXpert (Cardiomegaly,
  Pleural Effusion, Atelectasis, Consolidation, Lung Opacity, Lung Lesion <- Lung nodule,
  Support Devices <- Medical material).
* ``--nih``: Open-i dev against the ChestX-ray14 labels (NegBio's public gold), 13 labels, with
  the ``nih14`` taxonomy.
* k-fold view: every report falls in one of 5 folds by a hash of its id; rules are tuned
  looking at folds 1-4 only, and fold 5 is reported apart as the check on overfitting.

Scores are positive-class precision / recall / F1 with uncertain (-1) counted positive; gold
blank / 0 is "not coded". ``--errors LABEL`` prints the sentences behind false positives and
false negatives of one label (to the terminal only: the reports never leave ../shared).
Skips cleanly (message, exit 0) when the data folder is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data"

HEADLINE9 = [
    "Cardiomegaly",
    "Atelectasis",
    "Pleural Effusion",
    "Edema",
    "Pneumonia",
    "Pneumothorax",
    "Consolidation",
    "Fracture",
    "No Finding",
]
NIH13 = [
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Pleural_Thickening",
]
CT7 = [
    "Cardiomegaly",
    "Pleural Effusion",
    "Atelectasis",
    "Consolidation",
    "Lung Opacity",
    "Lung Lesion",
    "Support Devices",
]
N_FOLDS = 5


def fold_of(report_id: str) -> int:
    """Fold 1..5 of a report, stable across runs and machines."""
    return zlib.crc32(report_id.encode("utf-8")) % N_FOLDS + 1


def prf(pred: list[bool], gold: list[bool]) -> dict:
    tp = sum(p and g for p, g in zip(pred, gold))
    fp = sum(p and not g for p, g in zip(pred, gold))
    fn = sum(g and not p for p, g in zip(pred, gold))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "support": tp + fn, "tp": tp, "fp": fp, "fn": fn}


def score(pred, gold, labels: list[str], ids: list[str]) -> dict:
    per = {}
    for label in labels:
        pp = [pred.at[i, label] in (1.0, -1.0) for i in ids]
        gg = [gold.at[i, label] in (1.0, -1.0) for i in ids]
        per[label] = prf(pp, gg)
    scored = [v["f1"] for v in per.values() if v["support"] > 0]
    return {"labels": per, "macro_f1": sum(scored) / len(scored) if scored else 0.0, "n": len(ids)}


def load_corpus(folder: Path, gold_file: str):
    import pandas as pd

    reports = pd.read_csv(folder / "reports.csv", dtype=str, keep_default_na=False)
    gold = pd.read_csv(folder / gold_file, dtype={"report_id": str}).set_index("report_id")
    return reports, gold.astype(float)


def label(reports, taxonomy: str = "chexpert"):
    import pandas as pd

    from reportlab_nlp.labeler import label_texts

    t0 = time.perf_counter()
    results = label_texts(
        reports["report"].tolist(), taxonomy=taxonomy, ids=reports["report_id"].tolist(), evidence=True
    )
    secs = time.perf_counter() - t0
    pred = pd.DataFrame([r.labels for r in results], index=reports["report_id"].tolist())
    evidence = {rid: r.mentions for rid, r in zip(reports["report_id"], results)}
    return pred, evidence, secs


def print_errors(name: str, label_name: str, pred, gold, evidence: dict, ids: list[str]) -> None:
    print(f"\n--- {name}: errors of {label_name} (folds 1-4 only) ---")
    for rid in ids:
        if fold_of(rid) == N_FOLDS:
            continue
        p = pred.at[rid, label_name] in (1.0, -1.0)
        g = gold.at[rid, label_name] in (1.0, -1.0)
        if p == g:
            continue
        kind = "FP" if p else "FN"
        mentions = [m for m in evidence[rid] if label_name in m["labels"]]
        shown = [f"[{m['text']}:{m['assertion']}:{m['trigger']}] {m['sentence'][:160]}" for m in mentions]
        print(f"{kind} {rid}: " + (" | ".join(shown) or "(no mention)"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", type=Path, help="write the scores here")
    ap.add_argument("--errors", help="print false positives / negatives of this label (folds 1-4)")
    ap.add_argument("--corpus", choices=["openi", "ctrate", "both"], default="both")
    ap.add_argument(
        "--nih", action="store_true", help="also Open-i dev against the ChestX-ray14 (NegBio) labels"
    )
    args = ap.parse_args()

    corpora = [
        ("Open-i dev", "openi_dev", "labels_chexpert14.csv", HEADLINE9, "chexpert"),
        ("CT-RATE dev", "ctrate_dev", "labels.csv", CT7, "chexpert"),
    ]
    if args.nih:
        corpora.insert(1, ("Open-i NIH-13", "openi_dev", "labels_nih14.csv", NIH13, "nih14"))
    corpora = [c for c in corpora if args.corpus == "both" or c[1].startswith(args.corpus)]
    out: dict = {}
    for name, folder, gold_file, labels, taxonomy in corpora:
        path = args.data / folder
        if not (path / "reports.csv").is_file():
            print(f"skipped {name}: {path} not found")
            continue
        reports, gold = load_corpus(path, gold_file)
        pred, evidence, secs = label(reports, taxonomy)
        ids = [i for i in reports["report_id"] if i in gold.index]
        train = [i for i in ids if fold_of(i) != N_FOLDS]
        held = [i for i in ids if fold_of(i) == N_FOLDS]
        res = {
            "all": score(pred, gold, labels, ids),
            "folds1-4": score(pred, gold, labels, train),
            "fold5": score(pred, gold, labels, held),
            "seconds": secs,
        }
        out[name] = res
        if args.errors:
            print_errors(name, args.errors, pred, gold, evidence, ids)
    if not out:
        return 0
    names = list(out)
    print("\n" + f"{'label':<20}" + "".join(f"{n + ' P/R/F1':>30}" for n in names))
    all_labels = list(dict.fromkeys(l for n in names for l in out[n]["all"]["labels"]))
    for label_name in all_labels:
        cells = []
        for n in names:
            s = out[n]["all"]["labels"].get(label_name)
            cells.append(
                f"{s['precision']:.3f}/{s['recall']:.3f}/{s['f1']:.3f} ({s['support']:>3})" if s else "-"
            )
        print(f"{label_name:<20}" + "".join(f"{c:>30}" for c in cells))
    for view in ("all", "folds1-4", "fold5"):
        print(
            f"{'macro F1 ' + view:<20}"
            + "".join(f"{out[n][view]['macro_f1']:>24.4f} (n={out[n][view]['n']:>4})" for n in names)
        )
    print("seconds: " + ", ".join(f"{n} {out[n]['seconds']:.1f}" for n in names))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
