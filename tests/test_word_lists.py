"""Word lists as data (``rules/linking/words.yml``, ``rules/english/inflection.yml``), checked against
``rules/word_lists.schema.json`` at load, and the package's one English inflector."""

from __future__ import annotations

import pytest

from reportlab_nlp.errors import RulesError
from reportlab_nlp.inflection import Inflector, english
from reportlab_nlp.resources import check_word_lists, load_word_lists


def test_linking_word_lists_load_from_rules():
    from reportlab_nlp.linking import linker, normalize

    words = load_word_lists("linking/words.yml", ("stopwords", "modifiers", "generic_heads"))
    assert normalize.STOPWORDS == frozenset(words["stopwords"])
    assert {"the", "of", "on", "with"} <= normalize.STOPWORDS  # "on" stays a word, not YAML's true
    assert linker._BASE_MODIFIERS == frozenset(words["modifiers"])
    assert {"small", "left", "bilateral", "chronic", "unchanged"} <= linker._BASE_MODIFIERS
    assert linker._GENERIC_HEADS == frozenset(
        "abnormality abnormalities disease diseases change changes process processes lesion lesions".split()
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"stopwords": ["a"]}, "top level: required check failed"),
        ({"version": 2, "stopwords": ["a"]}, "version: const check failed"),
        ({"version": 1, "stopwords": ["a", "a"]}, "stopwords: oneOf check failed"),
        ({"version": 1, "stopwords": ["A"]}, "stopwords: oneOf check failed"),
        ({"version": 1, "stopwords": [True]}, "stopwords: oneOf check failed"),
        ({"version": 1, "irregular_plurals": {"apices": 3}}, "irregular_plurals: oneOf check failed"),
        ([], "top level: type check failed"),
    ],
)
def test_a_bad_word_list_file_is_rl202_naming_the_file_and_entry(doc, message):
    with pytest.raises(RulesError) as err:
        check_word_lists(doc, "rules/x.yml")
    assert err.value.code == "RL202"
    assert err.value.message == f"rules/x.yml: {message}"


def test_a_missing_required_list_is_rl202():
    with pytest.raises(RulesError) as err:
        check_word_lists({"version": 1, "stopwords": ["a"]}, "rules/x.yml", ("stopwords", "modifiers"))
    assert (err.value.code, err.value.message) == ("RL202", "rules/x.yml: missing modifiers")


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("effusion", ["effusion", "effusions"]),
        ("Opacity", ["opacity", "opacities"]),
        ("day", ["day", "days"]),
        ("mass", ["mass", "masses"]),
        ("apex", ["apex", "apexes", "apices"]),
        ("hilum", ["hilum", "hilums", "hila"]),
        ("pneumothorax", ["pneumothorax", "pneumothoraxes", "pneumothoraces"]),
        ("lung", ["lung", "lungs"]),  # the irregular table's regular entry adds nothing twice
        ("ct", ["ct"]),
        ("l1", ["l1"]),
    ],
)
def test_plural_forms(word, forms):
    assert english().plural_forms(word) == forms


@pytest.mark.parametrize(
    ("token", "singular"),
    [
        ("opacities", "opacity"),
        ("masses", "mass"),
        ("boxes", "box"),
        ("effusions", "effusion"),
        ("apices", "apex"),
        ("hila", "hilum"),
        ("atelectasis", "atelectasis"),
        ("glass", "glass"),
        ("sinus", "sinus"),
        ("ribs", "rib"),
        ("tubes", "tube"),
        ("has", "has"),
        ("2010s", "2010"),  # suffix rules only: harmless where both sides go through them
    ],
)
def test_singular(token, singular):
    assert english().singular(token) == singular


def test_each_irregular_plural_round_trips():
    inf = english()
    for plural, singular in inf.irregular.items():
        assert inf.singular(plural) == singular
        assert plural in inf.plural_forms(singular)


def test_an_inflector_from_other_data():
    inf = Inflector({"data": "datum"}, ("ss",))
    assert inf.plural_forms("datum") == ["datum", "datums", "data"]
    assert (inf.singular("data"), inf.singular("glass"), inf.singular("sinus")) == ("datum", "glass", "sinu")


def test_mention_patterns_match_irregular_plurals(rule_nlp):
    doc = rule_nlp("FINDINGS: Small bilateral pneumothoraces.")
    assert [(e.text, e._.observation) for e in doc.ents] == [("pneumothoraces", "pneumothorax")]
