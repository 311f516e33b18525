"""Report-level cases per error class of issue 12 (``tests/data/label_phenomena.yml``).

CT and translated wording, postposed negation, advisories, interpretive hedges, header colons,
organ sub-headers and device fractures: each case names the labels it checks, exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CASES_PATH = Path(__file__).parent / "data" / "label_phenomena.yml"
CASES = yaml.safe_load(CASES_PATH.read_text(encoding="utf-8"))["cases"]


def test_case_file_is_well_formed() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for c in CASES:
        assert set(c) <= {"id", "text", "expected", "blank"}, c["id"]
        assert c.get("expected") or c.get("blank"), c["id"]
        assert all(v in (1, 0, -1) for v in (c.get("expected") or {}).values()), c["id"]


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    from reportlab_nlp.labeler import label_texts

    results = label_texts([c["text"] for c in CASES], evidence=False)
    return {c["id"]: r.labels for c, r in zip(CASES, results)}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_label_phenomenon(case: dict, rows: dict[str, dict]) -> None:
    got = rows[case["id"]]
    for label, value in (case.get("expected") or {}).items():
        assert got[label] == float(value), f"{label}: expected {value}, got {got[label]}"
    for label in case.get("blank") or ():
        assert got[label] is None, f"{label}: expected blank, got {got[label]}"
