"""The per-text word index (reportlab_nlp.deid.word_index): cue patterns tried at word starts only."""

from __future__ import annotations

import pickle
import re

from reportlab_nlp.deid.word_index import WordIndex, cue_matches, cue_starts, lead_firsts


def test_word_index_holds_each_word_and_its_starts():
    w = WordIndex("wife anna, son-in-law: d/w wife")
    assert sorted(w) == ["anna", "d", "in", "law", "son", "w", "wife"]
    assert w.pos == {"wife": [0, 27], "anna": [5], "son": [11], "in": [15], "law": [18], "d": [23], "w": [25]}


def test_word_index_pickles_with_its_offsets():
    w = pickle.loads(pickle.dumps(WordIndex("to the ward to")))
    assert type(w) is WordIndex
    assert w.pos == {"to": [0, 12], "the": [3], "ward": [7]}


def test_lead_firsts_needs_every_cue_to_open_with_a_letter():
    assert lead_firsts(["Spoke with", "d/w", "pt."]) == frozenset({"spoke", "d", "pt"})
    assert lead_firsts(["wife", "#"]) is None


def test_cue_starts_are_the_whole_words_only():
    low = "person son sons son"
    assert cue_starts(low, WordIndex(low), frozenset({"son", "per"})) == [7, 16]
    assert cue_starts(low, frozenset({"son"}), frozenset({"son"})) == [7, 16]  # no index: found here
    assert cue_starts(low, WordIndex(low), frozenset({"wife"})) == []


def test_cue_matches_are_those_of_a_whole_text_scan():
    rx = re.compile(r"(?<![\w/])(?:spoke with|wife|son)(?![\w/])[ \t]*(?P<v>[a-z]+)")
    low = "wife anna spoke with wife bo; son/ x son tom, person son"
    at = lead_firsts(["spoke with", "wife", "son"])
    found = [(m.start(), m.group("v")) for m in cue_matches(rx, low, WordIndex(low), at)]
    assert found == [(0, "anna"), (10, "wife"), (37, "tom")]
    assert found == [(m.start(), m.group("v")) for m in rx.finditer(low)]
    assert [m.start() for m in cue_matches(rx, low, WordIndex(low), None)] == [0, 10, 37]


def test_hospital_list_looks_further_only_where_a_distinctive_word_can_stand(det):
    rules = det.hospital_rules
    assert "view-ucla" in rules.names.heads  # a distinctive word whose parts are everyday words

    def possible(low: str) -> bool:
        return rules._head_possible(low, WordIndex(low))

    assert possible("transferred from view-ucla medical center") is True
    assert possible("lateral view of the chest") is False  # "view" alone: no listed word
    assert possible("lateral view of the chest, pt's films") is True  # an apostrophe: looked at
    assert rules._keys >= {"view"}  # (the older pre-check alone would look at that text)
    assert list(rules.spans("lateral view of the chest", WordIndex("lateral view of the chest"))) == []


def test_cue_matches_on_the_text_take_their_starts_from_its_lower_case_words():
    rx = re.compile(r"\b(?:New York|Texas|TEXAS)\b(?![\w-])")
    text = "From New York to TEXAS, texas, Newark, new York-ish"
    low = text.lower()
    at = lead_firsts(["New York", "Texas"])
    found = [m.span() for m in cue_matches(rx, low, WordIndex(low), at, text)]
    assert found == [(5, 13), (17, 22)]
    assert found == [m.span() for m in rx.finditer(text)]
