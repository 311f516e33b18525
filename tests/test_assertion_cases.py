"""Hand-written assertion evaluation set (``tests/data/assertion_cases.tsv``).

Each line holds one synthetic sentence with exactly one ``[bracketed]`` target phrase and the
assertion status a radiologist would give that phrase. The brackets are removed and the
character offsets of the target in the cleaned sentence are passed to
:func:`reportlab_nlp.assertion.assert_target`. The sentences were written for this project,
independently of the rule files, so printing them in failure messages is fine.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

CASES_PATH = Path(__file__).parent / "data" / "assertion_cases.tsv"
STATUSES = ("present", "absent", "possible", "historical", "hypothetical", "other")
MIN_CASES = 220
MIN_PER_STATUS = 20
MIN_OVERALL_ACCURACY = 0.95
MIN_STATUS_ACCURACY = 0.85


@dataclass(frozen=True)
class Case:
    line: int  # 1-based line number in the TSV (header is line 1)
    expected: str
    text: str
    start: int
    end: int
    note: str

    @property
    def target(self) -> str:
        return self.text[self.start : self.end]


def load_cases(path: Path = CASES_PATH) -> list[Case]:
    cases: list[Case] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        assert header == ["expected", "sentence", "note"], f"bad header {header}"
        for lineno, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            assert len(row) == 3, f"line {lineno}: expected 3 tab-separated columns, got {len(row)}"
            expected, marked, note = row
            assert expected in STATUSES, f"line {lineno}: unknown status {expected!r}"
            assert marked.count("[") == 1 and marked.count("]") == 1, (
                f"line {lineno}: need exactly one [target]"
            )
            start = marked.index("[")
            end = marked.index("]") - 1
            assert end > start, f"line {lineno}: empty target"
            text = marked.replace("[", "", 1).replace("]", "", 1)
            cases.append(Case(lineno, expected, text, start, end, note))
    return cases


CASES = load_cases()


def test_case_file_is_well_formed() -> None:
    assert len(CASES) >= MIN_CASES, f"only {len(CASES)} cases"
    counts = Counter(c.expected for c in CASES)
    for status in STATUSES:
        assert counts[status] >= MIN_PER_STATUS, f"{status}: only {counts[status]} cases"
    keys = [(c.text, c.start, c.end) for c in CASES]
    assert len(set(keys)) == len(keys), "duplicate sentence/target pairs in the case file"
    for c in CASES:
        assert c.target == c.target.strip() and c.target, f"line {c.line}: target has stray spaces"


@pytest.fixture(scope="module")
def predictions() -> dict[int, str]:
    from reportlab_nlp.assertion import assert_target

    got: dict[int, str] = {}
    for c in CASES:
        got[c.line] = assert_target(c.text, c.start, c.end)
    return got


def _failures(cases: list[Case], got: dict[int, str]) -> list[str]:
    return [
        f"line {c.line}: expected {c.expected}, got {got[c.line]} | target {c.target!r} | {c.text} ({c.note})"
        for c in cases
        if got[c.line] != c.expected
    ]


def test_returns_known_statuses(predictions: dict[int, str]) -> None:
    bad = {line: v for line, v in predictions.items() if v not in STATUSES}
    assert not bad, f"assert_target returned values outside {STATUSES}: {bad}"


def test_overall_accuracy(predictions: dict[int, str]) -> None:
    failures = _failures(CASES, predictions)
    accuracy = 1 - len(failures) / len(CASES)
    print(f"assertion accuracy {accuracy:.3f} ({len(CASES) - len(failures)}/{len(CASES)})")
    assert accuracy >= MIN_OVERALL_ACCURACY, (
        f"accuracy {accuracy:.3f} < {MIN_OVERALL_ACCURACY} ({len(failures)} failures):\n"
        + "\n".join(failures)
    )


@pytest.mark.parametrize("status", STATUSES)
def test_accuracy_per_status(predictions: dict[int, str], status: str) -> None:
    subset = [c for c in CASES if c.expected == status]
    failures = _failures(subset, predictions)
    accuracy = 1 - len(failures) / len(subset)
    assert accuracy >= MIN_STATUS_ACCURACY, (
        f"{status}: accuracy {accuracy:.3f} < {MIN_STATUS_ACCURACY} ({len(failures)}/{len(subset)} wrong):\n"
        + "\n".join(failures)
    )
