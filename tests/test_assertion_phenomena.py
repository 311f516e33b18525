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
