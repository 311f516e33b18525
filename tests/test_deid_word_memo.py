"""lexicon.WordMemo (the word caches of the de-id rules) and a detector that still pickles with them."""

from __future__ import annotations

import pickle

from reportlab_nlp.deid.detect import Detector
from reportlab_nlp.deid.lexicon import WordMemo


def test_word_memo_computes_a_miss_once_and_keeps_it_under_its_limit() -> None:
    calls: list[str] = []

    def upper(w: str) -> str:
        calls.append(w)
        return w.upper()

    memo = WordMemo(upper, limit=2)
    assert [memo["ab"], memo["ab"], memo["cd"], memo["ef"], memo["ef"]] == ["AB", "AB", "CD", "EF", "EF"]
    assert calls == ["ab", "cd", "ef", "ef"]  # "ef" came after the limit: computed again, not kept
    assert dict(memo) == {"ab": "AB", "cd": "CD"}


def test_detector_with_filled_word_caches_pickles_and_finds_the_same_spans() -> None:
    text = "Seen by Dr. Okonkwo at Mercy General on 01/02/2019 in Chicago."
    det = Detector()
    before = [s.as_tuple() for s in det.detect(text)]
    assert len(det.name_rules._strong_memo) > 0
    copy = pickle.loads(pickle.dumps(det))
    assert [s.as_tuple() for s in copy.detect(text)] == before
    assert before == [
        (12, 19, "NAME"),
        (23, 36, "FACILITY"),
        (40, 50, "DATE"),
        (54, 61, "CITY"),
    ]


def test_no_report_text_or_word_offsets_outlive_detect() -> None:
    det = Detector()
    det.detect("Wife Philippa Oduya called from Worcester.")
    assert det._low == ""
    assert dict(det._words.pos) == {}
    assert b"worcester" not in pickle.dumps(det._words) and b"philippa oduya" not in pickle.dumps(det._low)
