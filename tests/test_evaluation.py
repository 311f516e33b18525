"""``reportlab_nlp.evaluation`` on tiny tables whose metrics were computed by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reportlab_nlp.errors import GoldTableError
from reportlab_nlp.evaluation import evaluate_files, evaluate_frames, format_report

N = float("nan")
LABELS = ["Cardiomegaly", "Edema", "Fracture"]


def table(ids: list[str], **cols: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame(cols, index=pd.Index(ids, name="report_id"))
    return frame.astype("float64")


# ids r1..r4 shared, r5 only predicted, r6 only in gold
PRED_POS = table(
    ["r1", "r2", "r3", "r4", "r5"],
    Cardiomegaly=[1, 1, 0, N, 1],
    Edema=[-1, N, 1, N, 1],
    Fracture=[1, N, N, N, N],
)
GOLD_POS = table(
    ["r1", "r2", "r3", "r4", "r6"],
    Cardiomegaly=[1, 0, 1, N, 1],
    Edema=[1, N, N, 0, 1],
    Fracture=[0, N, N, N, N],
)


def test_positive_only() -> None:
    res = evaluate_frames(PRED_POS, GOLD_POS, LABELS, positive_only=True)
    assert res["mode"] == "positive_only"
    assert res["uncertain_positive"] is False
    assert (res["reports"], res["missing_in_predictions"], res["missing_in_gold"]) == (4, 1, 1)
    # Cardiomegaly: pred+ {r1,r2}, gold+ {r1,r3}: tp 1, fp 1, fn 1
    assert res["labels"]["Cardiomegaly"] == {
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "support": 2,
        "predicted": 2,
        "tp": 1,
        "fp": 1,
        "fn": 1,
    }
    # Edema: pred+ {r3} (-1 at r1 is not positive), gold+ {r1}
    assert res["labels"]["Edema"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
        "predicted": 1,
        "tp": 0,
        "fp": 1,
        "fn": 1,
    }
    # Fracture: no gold positive (gold 0 is not coded) -> left out of the macro average
    assert res["labels"]["Fracture"]["support"] == 0
    assert res["labels"]["Fracture"]["fp"] == 1
    assert res["macro_over"] == ["Cardiomegaly", "Edema"]
    assert res["macro"] == {"precision": 0.25, "recall": 0.25, "f1": 0.25}


def test_positive_only_uncertain_positive() -> None:
    res = evaluate_frames(PRED_POS, GOLD_POS, LABELS, positive_only=True, uncertain_positive=True)
    assert res["uncertain_positive"] is True
    # Edema: pred+ {r1, r3}, gold+ {r1}: tp 1, fp 1, fn 0 -> p 1/2, r 1, f 2/3
    edema = res["labels"]["Edema"]
    assert (edema["tp"], edema["fp"], edema["fn"], edema["predicted"]) == (1, 1, 0, 2)
    assert edema["precision"] == 0.5
    assert edema["recall"] == 1.0
    assert edema["f1"] == pytest.approx(2 / 3)
    assert res["labels"]["Cardiomegaly"]["f1"] == 0.5
    assert res["macro"]["precision"] == pytest.approx(0.5)
    assert res["macro"]["recall"] == pytest.approx(0.75)
    assert res["macro"]["f1"] == pytest.approx(7 / 12)


PRED_FULL = table(
    ["r1", "r2", "r3", "r4"],
    Cardiomegaly=[1, 1, 0, N],
    Edema=[-1, 0, 1, 0],
    Fracture=[1, N, N, N],
)
GOLD_FULL = table(
    ["r1", "r2", "r3", "r4"],
    Cardiomegaly=[1, 0, 1, N],
    Edema=[-1, 0, N, 1],
    Fracture=[0, N, N, N],
)


def test_full_mode_per_class() -> None:
    res = evaluate_frames(PRED_FULL, GOLD_FULL, LABELS)
    assert res["mode"] == "full"
    assert (res["reports"], res["missing_in_predictions"], res["missing_in_gold"]) == (4, 0, 0)
    card = res["labels"]["Cardiomegaly"]
    assert card["positive"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert card["negative"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert card["uncertain"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert card["weighted_f1"] == pytest.approx(1 / 3)  # (0.5*2 + 0*1) / 3
    assert card["support"] == 3
    edema = res["labels"]["Edema"]
    # positive: fp r3 (gold blank), fn r4 -> 0; negative: tp r2, fp r4 -> p 1/2 r 1 f 2/3;
    # uncertain: tp r1 -> 1
    assert edema["positive"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert edema["negative"]["precision"] == 0.5
    assert edema["negative"]["recall"] == 1.0
    assert edema["negative"]["f1"] == pytest.approx(2 / 3)
    assert edema["uncertain"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert edema["weighted_f1"] == pytest.approx(5 / 9)
    assert edema["support"] == 3
    frac = res["labels"]["Fracture"]
    assert frac["negative"]["support"] == 1
    assert frac["weighted_f1"] == 0.0
    assert frac["support"] == 1


def test_full_mode_macro() -> None:
    res = evaluate_frames(PRED_FULL, GOLD_FULL, LABELS)
    assert res["macro_over"] == ["Cardiomegaly", "Edema", "Fracture"]
    mac = res["macro"]
    assert mac["positive_f1"] == pytest.approx(0.25)  # Cardiomegaly 0.5, Edema 0
    assert mac["negative_f1"] == pytest.approx(2 / 9)  # 0, 2/3, 0
    assert mac["uncertain_f1"] == pytest.approx(1.0)  # Edema only
    assert mac["weighted_f1"] == pytest.approx(8 / 27)  # (1/3 + 5/9 + 0) / 3
    assert mac["support_weighted_f1"] == pytest.approx(8 / 21)  # (1/3*3 + 5/9*3 + 0*1) / 7


def test_full_mode_uncertain_positive() -> None:
    res = evaluate_frames(PRED_FULL, GOLD_FULL, LABELS, uncertain_positive=True)
    edema = res["labels"]["Edema"]
    # -1 -> 1 in both tables: pred [1,0,1,0], gold [1,0,-,1]
    assert edema["positive"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert edema["negative"]["f1"] == pytest.approx(2 / 3)
    assert edema["uncertain"]["support"] == 0
    assert edema["weighted_f1"] == pytest.approx(5 / 9)
    assert res["macro"]["positive_f1"] == pytest.approx(0.5)
    assert res["macro"]["uncertain_f1"] == 0.0


def test_perfect_predictions() -> None:
    res = evaluate_frames(GOLD_FULL, GOLD_FULL, LABELS)
    assert res["macro"]["weighted_f1"] == 1.0
    assert res["macro"]["positive_f1"] == 1.0


def test_label_subset_and_missing_columns() -> None:
    res = evaluate_frames(PRED_FULL[["Cardiomegaly"]], GOLD_FULL, LABELS, positive_only=True)
    assert list(res["labels"]) == ["Cardiomegaly"]
    assert res["macro"]["f1"] == 0.5


def test_no_shared_ids_or_labels_is_an_error() -> None:
    other = PRED_FULL.copy()
    other.index = ["x1", "x2", "x3", "x4"]
    with pytest.raises(GoldTableError, match="share no report ids"):
        evaluate_frames(other, GOLD_FULL, LABELS)
    with pytest.raises(GoldTableError, match="share no label columns"):
        evaluate_frames(PRED_FULL[["Edema"]], GOLD_FULL[["Cardiomegaly"]], LABELS)


def test_evaluate_files_with_alias_and_format(tmp_path: Path) -> None:
    (tmp_path / "pred.csv").write_text(
        "report_id,No Finding,Cardiomegaly,Edema\nr1,,1.0,-1.0\nr2,1.0,0.0,\nr3,,0.0,1.0\n", encoding="utf-8"
    )
    (tmp_path / "gold.csv").write_text(
        "study,normal,Cardiomegaly,Edema\nr1,,1,1\nr2,1,,\nr3,,1,\n", encoding="utf-8"
    )
    res = evaluate_files(tmp_path / "pred.csv", tmp_path / "gold.csv", positive_only=True)
    assert list(res["labels"]) == ["No Finding", "Cardiomegaly", "Edema"]
    assert res["labels"]["No Finding"]["f1"] == 1.0  # "normal" read as No Finding
    assert res["labels"]["Cardiomegaly"]["f1"] == pytest.approx(2 / 3)  # tp r1, fn r3
    assert res["labels"]["Edema"]["f1"] == 0.0  # fp r3, fn r1
    assert res["macro"]["f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    text = format_report(res)
    lines = text.splitlines()
    assert lines[0].split() == ["label", "prec", "rec", "f1", "support", "pred"]
    assert lines[2].split() == ["Cardiomegaly", "1.000", "0.500", "0.667", "2", "1"]
    assert lines[4].split() == ["macro", "(3", "labels)", "0.667", "0.500", "0.556"]
    assert lines[5] == "reports scored: 3 (missing in predictions: 0, not in gold: 0)"
    with pytest.raises(GoldTableError, match="labels not in taxonomy chexpert: Mass"):
        evaluate_files(tmp_path / "pred.csv", tmp_path / "gold.csv", labels=["Mass"])
