"""Capitalised unknown words in name positions, and foreign postcodes in address lines (issue 11).

Every sentence here is new, written for these tests; the made-up names are in no word list.
"""

from __future__ import annotations

import pytest
from support.deid_spans import found

POSITIONS = [
    ("subject before a verb", "Zorbaliq is a careful driver.", [("Zorbaliq", "NAME")]),
    ("subject, then a question", "Quennthird, can you resend the form?", [("Quennthird", "NAME")]),
    ("after 'by'", "The form was signed by Tavrenko yesterday.", [("Tavrenko", "NAME")]),
    ("after 'says'", "My neighbour says Oblumova took the keys.", [("Oblumova", "NAME")]),
    ("after 'call me'", "Everyone calls me Dravinel at work.", [("Dravinel", "NAME")]),
    ("after 'my name is'", "Hello, my name is Kestraval.", [("Kestraval", "NAME")]),
    ("after 'last name?'", "What is your last name? Pelluzzaro.", [("Pelluzzaro", "NAME")]),
    ("possessive", "Vrendaski's dog barked all night.", [("Vrendaski's", "NAME")]),
    (
        "known first name then an unknown surname",
        "Invite Margaret Ulvokinsa to the meeting.",
        [("Margaret Ulvokinsa", "NAME")],
    ),
    (
        "two unknown capitalised words",
        "Please thank Tibrazh Olmuvek for the flowers.",
        [("Tibrazh Olmuvek", "NAME")],
    ),
    (
        "a list of surnames",
        "The partners: Grelvanov, Morrison and Hughes.",
        [("Grelvanov", "NAME"), ("Morrison", "NAME")],
    ),
]


@pytest.mark.parametrize("style, text, expected", POSITIONS, ids=[p[0] for p in POSITIONS])
def test_capitalised_unknown_word_in_name_position(det, style, text, expected):
    got = found(det, text)
    for value in expected:
        assert value in got, (style, got)


@pytest.mark.parametrize(
    "text",
    [
        "Zenker's diverticulum is not seen.",  # eponym with its head word: in the clinical vocabulary
        "NG tube tip in the stomach. ETT is 4 cm above the carina.",  # ALL-CAPS tokens never count
        "The lungs are clear. Heart size is normal.",  # vocabulary words at sentence start
        "I'm sure the results were sent.",  # contractions are no names
    ],
)
def test_no_name_outside_name_positions(det, text):
    assert [c for _, c in found(det, text) if c == "NAME"] == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Skovbakken 14, 4021 Vordingsted", ("4021", "ZIP")),
        ("ul. Lipowa 3, 62-310 Brzeszyno", ("62-310", "ZIP")),
        ("Her zip code is 8741.", ("8741", "ZIP")),
        ("Postcode: 3312", ("3312", "ZIP")),
    ],
)
def test_foreign_postcode_in_an_address(det, text, expected):
    assert expected in found(det, text)


def test_year_after_comma_is_no_postcode(det):
    assert ("2009", "ZIP") not in found(det, "Compared with the study of March, 2009 Findings unchanged.")


def test_country_counts_only_inside_an_address_block(det):
    block = "Aurelio Vantaggi\n\n17 Calle Moravia\nTRELLEBORGA\nSpain"
    got = found(det, block)
    assert ("Spain", "ADDRESS") in got
    assert ("TRELLEBORGA", "ADDRESS") in got
    assert [c for _, c in found(det, "Norway has a long coastline.") if c == "ADDRESS"] == []


def test_phone_in_space_separated_groups_of_eight_digits(det):
    assert ("5183 2290", "PHONE") in found(det, "Ring the front desk on 5183 2290 after six.")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Deliver to Brønnsvej 27 before noon.", "Brønnsvej 27"),
        ("Her flat is at Lindenstrasse 112.", "Lindenstrasse 112"),
        ("Post it to ul. Sosnowa 8, please.", "ul. Sosnowa 8"),
        ("They moved to 41 rue du Moulin last spring.", "41 rue du Moulin"),
    ],
)
def test_street_lines_outside_the_us(det, text, expected):
    assert (expected, "ADDRESS") in found(det, text)


@pytest.mark.parametrize(
    "text",
    [
        "A nodule measuring 4 mm in the right upper lobe.",
        "Catheter placed via right IJ approach.",
    ],
)
def test_no_foreign_street_in_radiology_text(det, text):
    assert [c for _, c in found(det, text) if c == "ADDRESS"] == []
