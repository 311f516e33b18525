"""Report-level CheXpert label cases (``tests/data/label_cases.yml``).

Synthetic reports written for this project, each with the full CheXpert row a CheXpert
annotator would give it: ``expected`` lists the non-blank labels, every other label must be
blank. Runs the rule labeler through the Python API and through the ``label`` CLI command.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

CASES_PATH = Path(__file__).parent / "data" / "label_cases.yml"
LABELS = (
    "No Finding",
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Lesion",
    "Lung Opacity",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
)
MIN_CASES = 45
MIN_REPORT_EXACT = 0.90
MIN_CELL_ACCURACY = 0.97
CELL_TEXT = {1.0: "1.0", 0.0: "0.0", -1.0: "-1.0", None: ""}


def load_cases(path: Path = CASES_PATH) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = data["cases"]
    for case in cases:
        assert set(case) == {"id", "text", "expected"}, (
            f"case {case.get('id')}: unexpected keys {sorted(case)}"
        )
        unknown = set(case["expected"]) - set(LABELS)
        assert not unknown, f"case {case['id']}: unknown labels {sorted(unknown)}"
        bad = {k: v for k, v in case["expected"].items() if v not in (1, 0, -1)}
        assert not bad, f"case {case['id']}: values must be 1, 0 or -1: {bad}"
    return cases


CASES = load_cases()


def expected_row(case: dict) -> dict[str, float | None]:
    return {name: (float(case["expected"][name]) if name in case["expected"] else None) for name in LABELS}


def test_case_file_is_well_formed() -> None:
    assert len(CASES) >= MIN_CASES, f"only {len(CASES)} cases"
    ids = [c["id"] for c in CASES]
    assert len(set(ids)) == len(ids), "duplicate case ids"
    for case in CASES:
        row = expected_row(case)
        assert case["text"].strip(), f"case {case['id']}: empty text"
        # No Finding is 1 or blank, never 0 or -1.
        assert row["No Finding"] in (1.0, None), f"case {case['id']}: No Finding must be 1 or blank"
        # No Finding = 1 is incompatible with any positive/uncertain finding label.
        if row["No Finding"] == 1.0:
            clash = [n for n in LABELS[1:-1] if row[n] in (1.0, -1.0)]
            assert not clash, f"case {case['id']}: No Finding 1 with positive/uncertain {clash}"


@pytest.fixture(scope="module")
def predicted() -> dict[str, dict[str, float | None]]:
    from reportlab_nlp.labeler import label_texts

    results = label_texts([c["text"] for c in CASES], taxonomy="chexpert")
    assert len(results) == len(CASES)
    out: dict[str, dict[str, float | None]] = {}
    for case, result in zip(CASES, results):
        labels = dict(result.labels)
        assert set(labels) == set(LABELS), f"case {case['id']}: label keys {sorted(labels)}"
        out[case["id"]] = {name: (None if labels[name] is None else float(labels[name])) for name in LABELS}
    return out


def _mismatches(
    predicted: dict[str, dict[str, float | None]],
) -> list[tuple[str, str, float | None, float | None]]:
    rows = []
    for case in CASES:
        exp = expected_row(case)
        got = predicted[case["id"]]
        for name in LABELS:
            if exp[name] != got[name]:
                rows.append((case["id"], name, exp[name], got[name]))
    return rows


def _describe(mismatches: list[tuple[str, str, float | None, float | None]]) -> str:
    return "\n".join(f"{cid}: {label}: expected {exp}, got {got}" for cid, label, exp, got in mismatches)


def test_values_are_in_encoding(predicted: dict[str, dict[str, float | None]]) -> None:
    bad = [
        (cid, n, v)
        for cid, row in predicted.items()
        for n, v in row.items()
        if v not in (1.0, 0.0, -1.0, None)
    ]
    assert not bad, f"values outside 1.0/0.0/-1.0/None: {bad}"


def test_report_and_cell_accuracy(predicted: dict[str, dict[str, float | None]]) -> None:
    mismatches = _mismatches(predicted)
    wrong_reports = {cid for cid, *_ in mismatches}
    report_exact = 1 - len(wrong_reports) / len(CASES)
    n_cells = len(CASES) * len(LABELS)
    cell_accuracy = 1 - len(mismatches) / n_cells
    print(
        f"label cases: reports exact {report_exact:.3f} ({len(CASES) - len(wrong_reports)}/{len(CASES)}), "
        f"cells {cell_accuracy:.4f} ({n_cells - len(mismatches)}/{n_cells})"
    )
    assert report_exact >= MIN_REPORT_EXACT and cell_accuracy >= MIN_CELL_ACCURACY, (
        f"reports exact {report_exact:.3f} (need {MIN_REPORT_EXACT}), cells {cell_accuracy:.4f} "
        f"(need {MIN_CELL_ACCURACY}); mismatches:\n{_describe(mismatches)}"
    )


def test_single_report_calls_match_batch(predicted: dict[str, dict[str, float | None]]) -> None:
    """Labelling one report on its own gives the same row as labelling it inside a batch."""
    from reportlab_nlp.labeler import label_texts

    for case in CASES[:6]:
        single = label_texts([case["text"]], taxonomy="chexpert")[0].labels
        assert {n: single[n] for n in LABELS} == predicted[case["id"]], f"case {case['id']}"


def test_cli_label_matches_python(tmp_path: Path, predicted: dict[str, dict[str, float | None]]) -> None:
    from typer.testing import CliRunner

    from reportlab_nlp.cli import app

    src = tmp_path / "reports.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["report_id", "report"])
        for case in CASES:
            w.writerow([case["id"], case["text"]])
    out = tmp_path / "labels.csv"

    result = CliRunner().invoke(app, ["label", str(src), "-o", str(out)])
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}"
    assert out.exists()

    with out.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    assert header == ["report_id", *LABELS]
    assert [r[0] for r in rows] == [c["id"] for c in CASES]
    for r in rows:
        assert len(r) == 1 + len(LABELS), f"row {r[0]}: {len(r)} cells"
        expected_cells = [CELL_TEXT[predicted[r[0]][n]] for n in LABELS]
        assert r[1:] == expected_cells, f"row {r[0]}: CLI {r[1:]} != Python {expected_cells}"
    # All records were valid: no rejects file is written.
    assert not (tmp_path / "labels.rejects.csv").exists()
