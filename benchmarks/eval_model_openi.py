"""Acceptance experiment for the transformer labeler on openi_dev (weak supervision).

1. Rule-label every report of ``<data>/reports.csv`` (``reportlab_nlp.labeler.label_dataframe``).
2. Split the reports (seeded) into two thirds for training and one third for testing.
3. Train the labeler on the *rule labels* of the training two thirds (default MiniLM encoder).
4. Label the test third with ``engine="model"`` (and ``"hybrid"``).
5. Against the human labels (``labels_chexpert14.csv``, uncertain counted positive) report per-label
   precision / recall / F1 of the model, the hybrid and the rules on the same third, the macro F1
   over the nine acceptance labels, and the model's 4-way agreement with the rule labels per label.

Everything is written under ``--workdir`` (default: a folder in /tmp), never into the repository.
Skips cleanly (message, exit 0) when the data folder is absent.

    python benchmarks/eval_model_openi.py [--data ../shared/data/openi_dev] [--epochs 5] [--device auto]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ACCEPTANCE_LABELS = [
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
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "openi_dev"


def _binary_prf(pred, gold):
    """Precision / recall / F1 of 'positive' (1 or -1, uncertain counted positive) per label."""
    import numpy as np

    p = np.isin(pred, (1.0, -1.0))
    g = np.isin(gold, (1.0, -1.0))
    tp = int((p & g).sum())
    fp = int((p & ~g).sum())
    fn = int((~p & g).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": prec, "recall": rec, "f1": f1, "support": int(g.sum())}


def evaluate(pred_df, gold_df, labels):
    """Per-label scores with uncertain counted positive; uses reportlab_nlp.evaluation when present."""
    try:
        from reportlab_nlp.evaluation import evaluate_frames
    except ImportError:
        evaluate_frames = None
    if evaluate_frames is not None:
        # full mode with uncertain -> positive in both tables; the "positive" class is what we score
        res = evaluate_frames(pred_df, gold_df, labels, positive_only=False, uncertain_positive=True)
        return {
            l: {k: float(res["labels"][l]["positive"][k]) for k in ("precision", "recall", "f1", "support")}
            for l in labels
        }, "reportlab_nlp.evaluation.evaluate_frames (uncertain_positive)"
    ids = gold_df.index.intersection(pred_df.index)
    out = {}
    for l in labels:
        out[l] = _binary_prf(
            pred_df.loc[ids, l].fillna(0.5).to_numpy(float), gold_df.loc[ids, l].fillna(0.5).to_numpy(float)
        )
    return out, "local scorer"


def agreement(a_df, b_df, labels):
    import numpy as np

    ids = a_df.index.intersection(b_df.index)
    res = {}
    for l in labels:
        a = a_df.loc[ids, l].to_numpy(float)
        b = b_df.loc[ids, l].to_numpy(float)
        same = (np.isnan(a) & np.isnan(b)) | (a == b)
        res[l] = float(same.mean())
    return res


def _train(args, wd, train_model):
    return train_model(
        wd / "train_reports.csv",
        wd / "train_rule_labels.csv",
        wd / "model",
        encoder=args.encoder,
        taxonomy="chexpert",
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        head_lr=args.head_lr,
        max_length=args.max_length,
        seed=args.seed,
        pooling=args.pooling,
        device=args.device,
        threads=args.threads,
        resume=args.resume,
        show_progress=False,
        val_fraction=0.1,
        patience=args.patience,
        augment_sentences=args.augment_sentences,
        oversample_rare=args.oversample_rare,
        augment_swaps=args.augment_swaps,
        input_scope=args.input_scope,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/reportlab_eval_model_openi"))
    ap.add_argument("--encoder", type=Path, default=None)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument(
        "--augment-sentences",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also train on the rule-labeled sentences of the training reports",
    )
    ap.add_argument(
        "--augment-swaps",
        type=int,
        default=150,
        help="mention swaps until each (label, value) has this many sentence examples (0 = off)",
    )
    ap.add_argument("--input-scope", default="labeled_sections", choices=["labeled_sections", "all"])
    ap.add_argument(
        "--oversample-rare",
        type=int,
        default=0,
        help="repeat rare-class sentences up to this count (0 = off)",
    )
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--head-lr", type=float, default=3e-3)
    ap.add_argument("--patience", type=int, default=3)
    ap.add_argument("--pooling", default="attention")
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--resume", action="store_true", help="resume training from the workdir checkpoint")
    ap.add_argument(
        "--score-only",
        action="store_true",
        help="re-score the predictions already in --workdir (no training)",
    )
    args = ap.parse_args()

    reports_csv = args.data / "reports.csv"
    gold_csv = args.data / "labels_chexpert14.csv"
    if not reports_csv.exists() or not gold_csv.exists():
        print(f"skipped: {args.data} (reports.csv + labels_chexpert14.csv) is not available")
        return 0

    import numpy as np
    import pandas as pd

    from reportlab_nlp.labeler import label_dataframe
    from reportlab_nlp.model.labeling import label_archive_with_model
    from reportlab_nlp.model.training import train_model
    from reportlab_nlp.outputs import read_label_table
    from reportlab_nlp.schema import load_taxonomy

    wd = args.workdir
    wd.mkdir(parents=True, exist_ok=True)
    tax = load_taxonomy("chexpert")
    names = tax.label_names
    df = pd.read_csv(reports_csv, dtype=str, keep_default_na=False)
    print(f"{len(df)} reports in {reports_csv}")

    rules_csv = wd / "rules_all.csv"
    if not args.score_only or not rules_csv.exists():  # the rules may have changed: relabel (about 15 s)
        t = time.perf_counter()
        run = label_dataframe(df, "report_id", "report", "chexpert", workers=1, evidence=False)
        run.labels.to_csv(rules_csv, index=False)
        print(
            f"rule labels: {len(run.labels)} reports in {time.perf_counter() - t:.1f}s ({len(run.rejects)} "
            "rejected)"
        )
    rules, _ = read_label_table(rules_csv, names)
    gold, _ = read_label_table(gold_csv, names, aliases=tax.column_aliases())

    rng = np.random.default_rng(args.seed)
    perm = rng.permutation(len(df))
    n_test = len(df) // 3
    test_df = df.iloc[np.sort(perm[:n_test])]
    train_df = df.iloc[np.sort(perm[n_test:])]
    train_df.to_csv(wd / "train_reports.csv", index=False)
    test_df.to_csv(wd / "test_reports.csv", index=False)
    rules.loc[train_df["report_id"]].reset_index().to_csv(wd / "train_rule_labels.csv", index=False)
    print(f"split: {len(train_df)} train (rule labels), {len(test_df)} test")

    if args.score_only:
        rep = json.loads((wd / "model" / "training_report.json").read_text())
        prev = json.loads((wd / "results.json").read_text()) if (wd / "results.json").exists() else {}
        train_s = prev.get("train_seconds", rep.get("seconds", 0.0))
    else:
        t = time.perf_counter()
        rep = _train(args, wd, train_model)
        train_s = time.perf_counter() - t
    print(f"training: {train_s:.0f}s; validation macro F1 (vs rule labels) {rep['validation_macro_f1']:.4f}")
    for h in rep["history"]:
        print(
            f"  epoch {h['epoch']}: loss {h['train_loss']:.4f} val macro F1 {h.get('val_macro_f1')}  "
            f"({h['seconds']}s)"
        )

    summaries = {}
    for engine in ("model", "hybrid"):
        if args.score_only:
            summaries = (
                json.loads((wd / "results.json").read_text()).get("label_summaries", {})
                if (wd / "results.json").exists()
                else {}
            )
            break
        s = label_archive_with_model(
            wd / "test_reports.csv",
            wd / f"pred_{engine}.csv",
            model_dir=wd / "model",
            engine=engine,
            review_path=wd / "review.csv" if engine == "hybrid" else None,
            device=args.device,
            show_progress=False,
        )
        summaries[engine] = s
        print(
            f"label --engine {engine}: {s['rows_out']} reports in {s['seconds']}s ({s['reports_per_s']} "
            f"reports/s, {s['precision']})"
        )
    model_pred, _ = read_label_table(wd / "pred_model.csv", names)
    hybrid_pred, _ = read_label_table(wd / "pred_hybrid.csv", names)
    test_ids = pd.Index(test_df["report_id"].astype(str))
    test_rules = rules.loc[rules.index.intersection(test_ids)]
    test_gold = gold.loc[gold.index.intersection(test_ids)]
    print(f"test reports with human labels: {len(test_gold)}")

    scores = {}
    for name, frame in (("rules", test_rules), ("model", model_pred), ("hybrid", hybrid_pred)):
        scores[name], scorer = evaluate(frame, test_gold, ACCEPTANCE_LABELS)
    agree = agreement(model_pred, test_rules, ACCEPTANCE_LABELS)
    agree_all = agreement(model_pred, test_rules, names)

    print(f"\nTable 1. Test third vs human labels (uncertain = positive; {scorer}): precision / recall / F1")
    print("| label | rules P | rules R | rules F1 | model P | model R | model F1 | hybrid F1 |")
    print("|---|---|---|---|---|---|---|---|")
    macro = {k: float(np.mean([scores[k][l]["f1"] for l in ACCEPTANCE_LABELS])) for k in scores}
    for l in ACCEPTANCE_LABELS:
        r, m, h = scores["rules"][l], scores["model"][l], scores["hybrid"][l]
        print(
            f"| {l} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {m['precision']:.3f} | "
            f"{m['recall']:.3f} | {m['f1']:.3f} | {h['f1']:.3f} |"
        )
    print(
        f"| **macro F1** | | | **{macro['rules']:.3f}** | | | **{macro['model']:.3f}** | "
        f"**{macro['hybrid']:.3f}** |"
    )
    print(
        f"\nmodel - rules macro F1: {macro['model'] - macro['rules']:+.3f} (acceptance: >= -0.05) -> "
        f"{'PASS' if macro['model'] >= macro['rules'] - 0.05 else 'FAIL'}"
    )

    print("\nTable 2. Model vs rule labels on the test third: 4-way agreement (blank/1/0/-1) per label")
    print("| label | agreement |")
    print("|---|---|")
    for l in names:
        mark = " (acceptance label)" if l in ACCEPTANCE_LABELS else ""
        print(f"| {l}{mark} | {agree_all[l]:.3f} |")
    worst = min(agree.values())
    print(
        f"\nminimum agreement over the acceptance labels: {worst:.3f} (acceptance: >= 0.90) -> "
        f"{'PASS' if worst >= 0.90 else 'FAIL'}"
    )
    print(f"minimum agreement over all {len(names)} labels: {min(agree_all.values()):.3f}")

    (wd / "results.json").write_text(
        json.dumps(
            {
                "scores": scores,
                "macro_f1": macro,
                "agreement": agree_all,
                "train_seconds": train_s,
                "training_report": {
                    k: rep[k]
                    for k in ("train_reports", "validation_reports", "validation_macro_f1", "history")
                },
                "label_summaries": {
                    k: {
                        kk: v.get(kk)
                        for kk in ("rows_out", "seconds", "reports_per_s", "precision", "windowed_reports")
                    }
                    for k, v in summaries.items()
                },
            },
            indent=2,
            default=float,
        )
    )
    print(f"\nresults written to {wd / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
