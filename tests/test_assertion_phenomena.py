"""Assertion cases per phenomenon of issue 12, written before the dev errors were read.

``tests/data/assertion_phenomena.tsv`` (same format as ``assertion_cases.tsv``; the ``note``
column starts with the phenomenon): general clinical negation ("denies any fever"), postposed
negation after hyphenated compounds and long or coordinated subjects, advisories, suggestive
wording, historical and experiencer statements, and controls that must stay present. Every case
must come out exactly as written.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from test_assertion_cases import load_cases

CASES = load_cases(Path(__file__).parent / "data" / "assertion_phenomena.tsv")
PHENOMENA = ("negation", "postposed", "advisory", "suggestive", "historical", "experiencer", "control")


def test_every_phenomenon_has_cases() -> None:
    counts = Counter(c.note.split(":")[0] for c in CASES)
    assert set(counts) == set(PHENOMENA)
    assert all(n >= 6 for n in counts.values()), counts


@pytest.mark.parametrize("case", CASES, ids=[f"line{c.line}" for c in CASES])
def test_phenomenon_case(case) -> None:
    from reportlab_nlp.assertion import assert_target

    assert assert_target(case.text, case.start, case.end) == case.expected, f"{case.text} [{case.target}]"


# The second half, written at the same time but kept out of sight until the rules were done
# (measured then: 46/48 = 0.958; before issue 12: 32/48 = 0.667; medspaCy default ConText alone:
# 26/48). It stays a held-out check: an accuracy floor, not a list to tune against case by case.
UNSEEN = load_cases(Path(__file__).parent / "data" / "assertion_phenomena_unseen.tsv")
MIN_UNSEEN_ACCURACY = 0.95


def test_unseen_half_accuracy() -> None:
    from reportlab_nlp.assertion import assert_target

    assert {c.note.split(":")[0] for c in UNSEEN} == set(PHENOMENA)
    wrong = [
        f"{c.text} [{c.target}]: expected {c.expected}"
        for c in UNSEEN
        if assert_target(c.text, c.start, c.end) != c.expected
    ]
    accuracy = 1 - len(wrong) / len(UNSEEN)
    assert accuracy >= MIN_UNSEEN_ACCURACY, f"{accuracy:.3f}:\n" + "\n".join(wrong)
