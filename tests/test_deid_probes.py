"""Issue 11 probe styles: each masked, checked on sentences written for these tests.

The sentences are new (not from any corpus); tests/data/deid_probes.tsv holds more of them
in the inline ``{CATEGORY:value}`` format that ``benchmarks/eval_deid_dev.py`` also reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.deid_spans import found

from reportlab_nlp.deid import Detector
from reportlab_nlp.deid.evaluate import parse_marked, read_marked_file

PROBES = Path(__file__).parent / "data" / "deid_probes.tsv"


STYLES = {
    "lower-case surname after a title": [
        ("care plan reviewed by dr. okonkwo this morning.", [("okonkwo", "NAME")]),
        ("seen by Dr. lindqvist, no changes.", [("lindqvist", "NAME")]),
    ],
    "lower-case names and first names without a title": [
        ("marisol in to visit, brought clothes.", [("marisol", "NAME")]),
        ("family called, spoke to Teresa at length.", [("Teresa", "NAME")]),
    ],
    "a name after a role word": [
        ("husband, ignatius, at bedside overnight.", [("ignatius", "NAME")]),
        ("rn brigid to recheck lytes at noon.", [("brigid", "NAME")]),
        ("pt gustavo alvarez alert and oriented.", [("gustavo alvarez", "NAME")]),
    ],
    "lower-case facility and facility abbreviations": [
        ("came from st. anne's hospital by ambulance.", [("st. anne's hospital", "FACILITY")]),
        ("transferred from MWH for cath.", [("MWH", "FACILITY")]),
        ("was at the BMC for two days.", [("BMC", "FACILITY")]),  # "OSH" (outside hospital): no PHI
    ],
    "pager and account numbers": [
        ("pls page 21874 with any changes.", [("21874", "PHONE")]),
        ("pager #4-1187", [("4-1187", "PHONE")]),
        ("acct 40719 on file", [("40719", "ID")]),
    ],
    "ages over 89 in words": [
        ("eighty-nine year old man, not ninety-four year old.", [("ninety-four", "AGE")]),
        ("a ninety-four year old woman with copd.", [("ninety-four", "AGE")]),
    ],
    "terse lower-case style": [
        ("pt irritable overnight, dtr yolanda aware, vss.", [("yolanda", "NAME")]),
    ],
    "a surname alone": [
        ("Okonkwo to follow up on cultures.", [("Okonkwo", "NAME")]),
    ],
    "m/d without a year": [
        ("foley dc'd 8/19, voided since.", [("8/19", "DATE")]),
    ],
    "two-digit years": [
        ("appendectomy in '81 and ccy in 04.", [("'81", "DATE"), ("04", "DATE")]),
    ],
    "towns": [
        ("moved up from Plymouth last year.", [("Plymouth", "CITY")]),
        ("back from visiting family in lowell.", [("lowell", "CITY")]),
    ],
    "days of the week": [
        ("repeat labs wednesday, call if k < 3.5.", [("wednesday", "DATE")]),
        ("Seen Tuesday in clinic.", [("Tuesday", "DATE")]),
    ],
    "countries in running text": [
        ("lived in Honduras until 2015.", [("Honduras", "COUNTRY"), ("2015", "DATE")]),
        ("family flying in from Norway tonight.", [("Norway", "COUNTRY")]),
    ],
    "hospitals of the CMS list in any case": [
        (
            "transferred from hackensack university medical center.",
            [("hackensack university medical center", "FACILITY")],
        ),
        ("old ct at Stamford Hospital.", [("Stamford Hospital", "FACILITY")]),
        ("sent from lankenau for cath.", [("lankenau", "FACILITY")]),
    ],
    "account numbers of letters and digits": [
        ("refund to FR7630006000011234567890189 pending.", [("FR7630006000011234567890189", "ID")]),
    ],
    "seasons and holidays with a year": [
        ("first seizure in the spring of 2012.", [("spring of 2012", "DATE")]),
        ("admitted over thanksgiving '17.", [("thanksgiving '17", "DATE")]),
    ],
    "initials": [
        ("d/w B. Achterberg in id.", [("B. Achterberg", "NAME")]),
        ("Dictated by: W.K. Osei", [("W.K. Osei", "NAME")]),
    ],
    "first names after called": [
        ("called Henrietta, will come in tomorrow.", [("Henrietta", "NAME")]),
        ("paged Bartholomew about the drain.", [("Bartholomew", "NAME")]),
    ],
    "a surname found once is masked wherever it recurs": [
        (
            "Family meeting with Mr. Abernathy-Pruitt. abernathy-pruitt agrees; Ngozi Adeyemi-Okafor aware.",
            [("Abernathy-Pruitt", "NAME"), ("abernathy-pruitt", "NAME"), ("Ngozi Adeyemi-Okafor", "NAME")],
        ),
        ("d/w dr. Szczepanski re: drain. Szczepanski to see pt in am.", [("Szczepanski", "NAME")] * 2),
    ],
    "one capitalised word before General after a transfer cue": [
        ("transferred from Mass General for ecmo.", [("Mass General", "FACILITY")]),
        ("General appearance: NAD. Mass in the RUL.", []),
    ],
    "a month named alone after a cue": [
        ("last colonoscopy in october, normal.", [("october", "DATE")]),
        ("Symptoms since last August.", [("August", "DATE")]),
        ("we may march the pt to the chair in may.", []),
    ],
    "a small town with a hospital (CMS list) after a place cue": [
        ("lives in kotzebue with her son.", [("kotzebue", "CITY")]),
        ("Moved from Stilwell last spring.", [("Stilwell", "CITY")]),
    ],
    "a city that is also a frequent word, capitalised after a place cue": [
        ("flew in from Phoenix overnight.", [("Phoenix", "CITY")]),
        ("rising from a phoenix-like slump", []),
    ],
    "an id of letters and digits after its label": [
        ("member ID: QXT8812 on file.", [("QXT8812", "ID")]),
        ("CT chest, serial 204 image 31.", []),
    ],
    "no PHI: scores, fractions and vital signs": [
        ("bp 130/80, strength 5/5, pain 3/10, murmur 2/6.", []),
        ("lungs coarse, sats 94% on 4l nc, hr in 90s.", []),
        ("Heart size normal. Lungs are clear. No pneumothorax.", []),
        ("turkey sandwich at lunch, sat 97% on ra, fall risk.", []),
    ],
}


@pytest.mark.parametrize("text,expected", [c for cases in STYLES.values() for c in cases])
def test_probe_style(det, text, expected):
    assert found(det, text) == expected


def test_date_forms(det):
    assert found(det, "echo 12 Feb 2021, f/u March 3rd and Jan. 7.") == [
        ("12 Feb 2021", "DATE"),
        ("March 3rd", "DATE"),
        ("Jan. 7", "DATE"),
    ]
    assert found(det, "fell in the winter of 2017; home for easter '19.") == [
        ("winter of 2017", "DATE"),
        ("easter '19", "DATE"),
    ]
    assert found(det, "mri 2020-11-05 and ct 5/6/20.") == [("2020-11-05", "DATE"), ("5/6/20", "DATE")]


def test_times_are_off_by_default_and_on_when_asked(det):
    text = "k repleted at 14:15, recheck at 2200 hrs."
    assert found(det, text) == []
    assert found(Detector(times=True), text) == [("14:15", "TIME"), ("2200 hrs", "TIME")]


def test_strict_ages_flag_every_age(det):
    text = "A 47-year-old woman; husband is seventy-two years old."
    assert found(det, text) == []
    assert found(Detector(strict_ages=True), text) == [("47", "AGE"), ("seventy-two", "AGE")]


def test_everyday_words_that_are_also_names_need_context(det):
    # "white", "young", "hope" are census surnames/first names and ordinary English
    assert found(det, "white count stable, young man, hope to extubate.") == []
    assert found(det, "d/w dr. white, ok to extubate.") == [("white", "NAME")]


def test_eponyms_are_no_names(det):
    assert found(det, "Hampton hump absent, no Kerley B lines, Foley catheter in place.") == []


def test_names_joined_by_and(det):
    assert found(det, "family mtg w/ marguerite and Tom.") == [("marguerite", "NAME"), ("Tom", "NAME")]


def test_first_name_with_a_bare_initial(det):
    assert found(det, "Question from Karen L about her mother's imaging.") == [("Karen L", "NAME")]


def test_probe_file_parses_and_only_known_leak_remains(det):
    rows = read_marked_file(PROBES)
    assert (len(rows), sum(len(g) for _, _, g in rows)) == (65, 66)
    leaked = []
    flagged_clean = []
    for style, text, gold in rows:
        spans = det.detect(text)
        if style == "none":
            flagged_clean += [text[s.start : s.end] for s in spans]
        for b, e, _ in gold:
            if not any(s.start < e and b < s.end for s in spans):
                leaked.append(text[b:e])
    # "bob" is an everyday word ("to bob") that is only a name by context this rule set lacks
    assert leaked == ["bob"]
    # "Grace" starts a sentence and is a first name: the one false positive of the probe file
    assert flagged_clean == ["Grace"]


def test_parse_marked():
    assert parse_marked("called {NAME:linda} on {DATE:7/22}.") == (
        "called linda on 7/22.",
        [(7, 12, "NAME"), (16, 20, "DATE")],
    )


def test_held_out_probe_file_measured_once_at_the_end(det):
    # written before the rules and kept unseen until the final measurement; its last leak, a state
    # abbreviation with no comma, is found since the nursing round 3 (a state code after a town:
    # nursing_rules; "husband frank" since issue 11's third round: note_rules)
    rows = read_marked_file(PROBES.with_name("deid_probes_holdout.tsv"))
    leaked = [
        text[b:e]
        for _, text, gold in rows
        for b, e, _ in gold
        if not any(s.start < e and b < s.end for s in det.detect(text))
    ]
    assert leaked == []
    assert [text for style, text, _ in rows if style == "none" and det.detect(text)] == []


def test_second_probe_file_is_masked_and_its_clean_lines_stay_clean(det):
    # tests/data/deid_probes_b.tsv: weekdays, countries, the CMS hospital list, account numbers,
    # seasons and holidays, initials, "called" first names, a postcode before its town
    rows = read_marked_file(PROBES.with_name("deid_probes_b.tsv"))
    assert (len(rows), sum(len(g) for _, _, g in rows)) == (20, 16)
    leaked = [
        text[b:e]
        for _, text, gold in rows
        for b, e, _ in gold
        if not any(s.start < e and b < s.end for s in det.detect(text))
    ]
    assert leaked == []
    assert [text for style, text, _ in rows if style == "none" and det.detect(text)] == []
