"""The detector's word lists (rules/deid/detector_words.yml), the CMS hospital list and the
prebuilt lexicon cache."""

from __future__ import annotations

import copy
import json
import re

import pytest

from reportlab_nlp.deid import lexicon_cache
from reportlab_nlp.deid.hospital_list import HospitalRules, norm_token
from reportlab_nlp.deid.lexicon import Lexicon, load_lexicon
from reportlab_nlp.deid.word_lists import load_detector_words, parse_detector_words
from reportlab_nlp.errors import RulesError
from reportlab_nlp.resources import data_path, load_yaml


@pytest.fixture(scope="module")
def shipped():
    return load_yaml(data_path("rules", "deid", "detector_words.yml"))


def test_shipped_lists_load_with_their_types():
    w = load_detector_words()
    assert w.weekdays == ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    assert "MD" in w.ambiguous_state_abbreviations  # kept in upper case
    assert "pager" in w.phone_cue_words
    assert "on" in w.facility_generic_words  # quoted in the file: YAML would read a bare on as true


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d.pop("weekdays"), "key 'weekdays' is missing"),
        (lambda d: d.update(weekday=["monday"]), "unknown key(s) weekday"),
        (lambda d: d.update(zip_words=[]), "key 'zip_words' must be a non-empty list of words"),
        (lambda d: d.update(url_words="http"), "key 'url_words' must be a non-empty list of words"),
        (lambda d: d["age_words"].append(True), "age_words[5] must be a non-empty string"),
        (lambda d: d.update(version=2), "unsupported version 2 (expected 1)"),
    ],
)
def test_malformed_lists_are_a_coded_error_naming_the_key(shipped, change, message):
    doc = copy.deepcopy(shipped)
    change(doc)
    with pytest.raises(RulesError) as err:
        parse_detector_words(doc, "words.yml")
    assert err.value.code == "RL202"
    assert err.value.message == f"words.yml: {message}"


def test_a_document_that_is_no_mapping_is_refused():
    with pytest.raises(RulesError, match=re.escape("[RL202] x.yml: must be a mapping of word lists")):
        parse_detector_words(["monday"], "x.yml")


# ----------------------------------------------------------------------------- hospital list
@pytest.fixture(scope="module")
def hospitals():
    return HospitalRules(load_lexicon(), load_detector_words())


def spans(rules, text):
    low = text.lower()
    return [(low[b:e], rule) for b, e, rule in rules.spans(low, frozenset(re.findall("[a-z]+", low)))]


def test_norm_token_folds_saint_mount_and_apostrophes():
    assert [norm_token(t) for t in ("saint", "mount", "luke's", "ctr", "crestwood")] == [
        "st",
        "mt",
        "lukes",
        "center",
        "crestwood",
    ]


def test_whole_list_names_in_any_case(hospitals):
    assert spans(hospitals, "Admitted to DEKALB REGIONAL MEDICAL CENTER overnight.") == [
        ("dekalb regional medical center", "hospital_list_name")
    ]
    assert spans(hospitals, "seen at saint luke's nampa medical center") == [
        ("saint luke's nampa medical center", "hospital_list_name")
    ]


def test_head_words_next_to_facility_words_or_after_a_cue(hospitals):
    assert spans(hospitals, "films from crestwood hosp") == [("crestwood hosp", "hospital_list_head")]
    assert spans(hospitals, "films from crestwood med ctr") == [("crestwood med ctr", "hospital_list_name")]
    assert spans(hospitals, "transferred from punxsutawney yesterday") == [
        ("punxsutawney", "hospital_list_cued")
    ]


def test_generic_names_and_plain_clinical_text_are_no_match(hospitals):
    assert spans(hospitals, "admitted to memorial hospital for a general medical work-up") == []
    assert spans(hospitals, "Heart size is normal at baseline. No focal consolidation.") == []


# ----------------------------------------------------------------------------- lexicon cache
def test_lexicon_round_trips_through_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTLAB_NLP_CACHE", str(tmp_path))
    lex = load_lexicon()
    path = lexicon_cache.write_cached("k1", lexicon_cache.to_fields(lex))
    assert path == tmp_path / "deid" / "lexicon-k1.json"
    back = lexicon_cache.from_fields(Lexicon, lexicon_cache.read_cached("k1"), lex.patterns)
    assert back == lex


def test_a_missing_or_damaged_cache_file_reads_as_none(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTLAB_NLP_CACHE", str(tmp_path))
    assert lexicon_cache.read_cached("absent") is None
    (tmp_path / "deid").mkdir()
    (tmp_path / "deid" / "lexicon-bad.json").write_text("{not json", encoding="utf-8")
    assert lexicon_cache.read_cached("bad") is None
    (tmp_path / "deid" / "lexicon-old.json").write_text(json.dumps({"format": 0, "fields": {}}))
    assert lexicon_cache.read_cached("old") is None


def test_the_cache_key_follows_the_build_settings():
    a = lexicon_cache.lexicon_key({"ordinary_zipf": 3.0})
    assert a == lexicon_cache.lexicon_key({"ordinary_zipf": 3.0})
    assert a != lexicon_cache.lexicon_key({"ordinary_zipf": 3.5})
    assert re.fullmatch(r"[0-9a-f]{32}", a)
