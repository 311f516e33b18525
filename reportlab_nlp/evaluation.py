"""Evaluating a label table against a gold table.

Two modes:

* **positive-only** gold (``positive_only=True``): gold 1 = coded present, anything else = not
  coded (blank is *not* negative). Per label: precision, recall and F1 of the positive class.
  ``uncertain_positive=True`` counts -1 predictions as positive.
* **full** gold (1 / 0 / -1 / blank): per label, F1 of the positive, negative and uncertain
  classes (one class against the rest, blank included) and their support-weighted average, as
  CheXbert reports them. ``uncertain_positive=True`` maps -1 to 1 in both tables first.

Macro averages are unweighted means over labels that have at least one gold positive (positive
only) or at least one gold non-blank cell (full). Only ids present in both tables are scored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from .errors import GoldTableError
from .schema import LABEL_SCHEMA


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _codes(series: pd.Series, uncertain_positive: bool) -> list[float | None]:
    out = []
    for v in series.tolist():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        else:
            v = float(v)
            out.append(LABEL_SCHEMA.POSITIVE if (uncertain_positive and v == LABEL_SCHEMA.UNCERTAIN) else v)
    return out


def evaluate_frames(
    pred: pd.DataFrame,
    gold: pd.DataFrame,
    label_names: Sequence[str],
    *,
    positive_only: bool = False,
    uncertain_positive: bool = False,
) -> dict:
    """Score ``pred`` against ``gold`` (both indexed by report id, label columns as floats / NaN)."""
    common = pred.index.intersection(gold.index)
    if len(common) == 0:
        raise GoldTableError("the prediction and gold tables share no report ids")
    labels = [l for l in label_names if l in pred.columns and l in gold.columns]
    if not labels:
        raise GoldTableError("the prediction and gold tables share no label columns")
    P, G = pred.loc[common], gold.loc[common]
    per_label: dict[str, dict] = {}
    pos = LABEL_SCHEMA.POSITIVE
    for label in labels:
        pc = _codes(P[label], uncertain_positive)
        gc = _codes(G[label], uncertain_positive if not positive_only else False)
        if positive_only:
            pp = [v == pos for v in pc]
            gp = [v == pos for v in gc]
            tp = sum(a and b for a, b in zip(pp, gp))
            fp = sum(a and not b for a, b in zip(pp, gp))
            fn = sum(b and not a for a, b in zip(pp, gp))
            p, r, f = _prf(tp, fp, fn)
            per_label[label] = {
                "precision": p,
                "recall": r,
                "f1": f,
                "support": sum(gp),
                "predicted": sum(pp),
                "tp": tp,
                "fp": fp,
                "fn": fn,
            }
        else:
            row: dict = {}
            weighted, total = 0.0, 0
            for name, value in (
                ("positive", pos),
                ("negative", LABEL_SCHEMA.NEGATIVE),
                ("uncertain", LABEL_SCHEMA.UNCERTAIN),
            ):
                tp = sum(a == value and b == value for a, b in zip(pc, gc))
                fp = sum(a == value and b != value for a, b in zip(pc, gc))
                fn = sum(b == value and a != value for a, b in zip(pc, gc))
                p, r, f = _prf(tp, fp, fn)
                support = tp + fn
                row[name] = {"precision": p, "recall": r, "f1": f, "support": support}
                weighted += f * support
                total += support
            row["weighted_f1"] = weighted / total if total else 0.0
            row["support"] = total
            per_label[label] = row
    if positive_only:
        scored = [l for l in labels if per_label[l]["support"] > 0]
        macro = {
            k: (sum(per_label[l][k] for l in scored) / len(scored) if scored else 0.0)
            for k in ("precision", "recall", "f1")
        }
    else:
        scored = [l for l in labels if per_label[l]["support"] > 0]
        macro = {}
        for cls in ("positive", "negative", "uncertain"):
            have = [l for l in scored if per_label[l][cls]["support"] > 0]
            macro[f"{cls}_f1"] = sum(per_label[l][cls]["f1"] for l in have) / len(have) if have else 0.0
        macro["weighted_f1"] = (
            sum(per_label[l]["weighted_f1"] for l in scored) / len(scored) if scored else 0.0
        )
        tot = sum(per_label[l]["support"] for l in scored)
        macro["support_weighted_f1"] = (
            sum(per_label[l]["weighted_f1"] * per_label[l]["support"] for l in scored) / tot if tot else 0.0
        )
    return {
        "mode": "positive_only" if positive_only else "full",
        "uncertain_positive": uncertain_positive,
        "reports": int(len(common)),
        "missing_in_predictions": int(len(gold.index.difference(pred.index))),
        "missing_in_gold": int(len(pred.index.difference(gold.index))),
        "labels": per_label,
        "macro": macro,
        "macro_over": scored,
    }


def evaluate_files(
    pred_path,
    gold_path,
    taxonomy: str = "chexpert",
    *,
    positive_only: bool = False,
    uncertain_positive: bool = False,
    labels: Sequence[str] | None = None,
) -> dict:
    """Read two label tables (the taxonomy's labels, gold column aliases allowed) and score them."""
    from .outputs import read_label_table
    from .schema import load_taxonomy

    tax = load_taxonomy(str(taxonomy))
    names = list(labels) if labels else tax.label_names
    unknown = [l for l in names if l not in tax.label_names]
    if unknown:
        raise GoldTableError(f"labels not in taxonomy {tax.name}: {', '.join(unknown)}")
    pred, _ = read_label_table(pred_path, names)
    gold, _ = read_label_table(gold_path, names, aliases=tax.column_aliases())
    return evaluate_frames(
        pred, gold, names, positive_only=positive_only, uncertain_positive=uncertain_positive
    )


def format_report(result: dict) -> str:
    """Plain-text table of an evaluation result."""
    lines = []
    if result["mode"] == "positive_only":
        lines.append(f"{'label':<28}{'prec':>7}{'rec':>7}{'f1':>7}{'support':>9}{'pred':>7}")
        for label, m in result["labels"].items():
            lines.append(
                f"{label:<28}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}{m['support']:>9d}{m['predicted']:>7d}"
            )
        mac = result["macro"]
        lines.append(
            f"{'macro (' + str(len(result['macro_over'])) + ' labels)':<28}"
            f"{mac['precision']:>7.3f}{mac['recall']:>7.3f}{mac['f1']:>7.3f}"
        )
    else:
        lines.append(f"{'label':<28}{'pos F1':>8}{'neg F1':>8}{'unc F1':>8}{'wF1':>8}{'support':>9}")
        for label, m in result["labels"].items():
            lines.append(
                f"{label:<28}{m['positive']['f1']:>8.3f}{m['negative']['f1']:>8.3f}{m['uncertain']['f1']:>8.3f}{m['weighted_f1']:>8.3f}{m['support']:>9d}"
            )
        mac = result["macro"]
        lines.append(
            f"{'macro':<28}{mac['positive_f1']:>8.3f}{mac['negative_f1']:>8.3f}{mac['uncertain_f1']:>8.3f}{mac['weighted_f1']:>8.3f}"
        )
    lines.append(
        f"reports scored: {result['reports']} (missing in predictions: {result['missing_in_predictions']}, "
        f"not in gold: {result['missing_in_gold']})"
    )
    return "\n".join(lines)
