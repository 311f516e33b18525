"""Surrogates: consistency within a group and across runs, interval-keeping date shift with format kept."""

from __future__ import annotations

import calendar
import datetime as dt
import re

import pytest

from reportlab_nlp.deid import Deidentifier, Detector, Surrogator, mask_text

SECRET = b"test-secret-0123456789"


@pytest.fixture(scope="module")
def det():
    return Detector(times=True)


def test_mask_mode(det):
    d = Deidentifier("mask", detector=det)
    assert (
        d.deidentify("Seen by Dr. Smith on 01/02/2019 at 14:32.") == "Seen by Dr. [NAME] on [DATE] at [TIME]."
    )


def test_same_original_same_surrogate_within_group_and_across_runs(det):
    a = Deidentifier("surrogate", secret=SECRET, detector=det)
    b = Deidentifier("surrogate", secret=SECRET, detector=det)  # a second "run"
    t1 = "Discussed with Dr. Smith. MRN: 12345678."
    t2 = "Dictated by Dr. Smith. Acc: 12345678."
    out1, out2, out3 = a.deidentify(t1, "p1"), a.deidentify(t2, "p1"), b.deidentify(t1, "p1")
    name1 = re.search(r"Dr\. (\w+)", out1).group(1)
    name2 = re.search(r"Dr\. (\w+)", out2).group(1)
    assert name1 == name2 != "Smith"
    assert re.search(r"\d{8}", out1).group() == re.search(r"\d{8}", out2).group() != "12345678"
    assert out3 == out1


def test_other_group_or_secret_gives_other_surrogates(det):
    a = Deidentifier("surrogate", secret=SECRET, detector=det)
    c = Deidentifier("surrogate", secret=b"another-secret-xyz", detector=det)
    text = "MRN: 12345678. SSN: 123-45-6789. Called (555) 123-4567."
    assert a.deidentify(text, "p1") != a.deidentify(text, "p2")
    assert a.deidentify(text, "p1") != c.deidentify(text, "p1")


def test_shape_of_identifiers_is_kept(det):
    a = Deidentifier("surrogate", secret=SECRET, detector=det)
    out = a.deidentify("SSN: 123-45-6789. Called (555) 123-4567. Accession #: A1234567.", "p1")
    assert re.fullmatch(
        r"SSN: \d{3}-\d{2}-\d{4}\. Called \(\d{3}\) \d{3}-\d{4}\. Accession #: [A-Z]\d{7}\.", out
    )


FORMATS = [
    ("01/02/2019", "%m/%d/%Y"),
    ("2019-01-02", "%Y-%m-%d"),
    ("Jan 02, 2019", "%b %d, %Y"),
    ("January 02, 2019", "%B %d, %Y"),
    ("02-JAN-2019", "%d-%b-%Y"),
]


@pytest.mark.parametrize("a,fmt", FORMATS)
def test_date_shift_keeps_intervals_and_format(a, fmt):
    s = Surrogator(SECRET)
    d1 = dt.datetime.strptime(a, fmt).date()
    d2 = d1 + dt.timedelta(days=45)
    b = d2.strftime(fmt).upper() if a.isupper() or "-JAN-" in a else d2.strftime(fmt)
    n1 = s.surrogate(a, "DATE", "patient-7")
    n2 = s.surrogate(b, "DATE", "patient-7")
    p1 = dt.datetime.strptime(n1.title() if "-" in a and a[3:6].isupper() else n1, fmt).date()
    p2 = dt.datetime.strptime(n2.title() if "-" in a and a[3:6].isupper() else n2, fmt).date()
    assert (p2 - p1).days == 45
    assert (p1 - d1).days == s.date_shift("patient-7") != 0
    assert len(n1) == len(a) or fmt.startswith("%B")
    if a.isupper() or a[3:6].isupper():
        assert n1 == n1.upper()


def test_unpadded_and_month_name_styles():
    s = Surrogator(SECRET)
    shift = dt.timedelta(days=s.date_shift("g"))
    new = dt.date(2019, 1, 2) + shift
    assert s.surrogate("1/2/19", "DATE", "g") == f"{new.month}/{new.day}/{new.year % 100:02d}"
    suf = "th" if 10 <= new.day <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(new.day % 10, "th")
    nd = dt.date(2001, 1, 2) + shift
    suf2 = "th" if 10 <= nd.day <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(nd.day % 10, "th")
    assert s.surrogate("January 2nd", "DATE", "g") == f"{nd:%B} {nd.day}{suf2}"
    assert s.surrogate("Jan 2, 2019", "DATE", "g") == f"{new:%b} {new.day}, {new.year}"
    assert suf in ("st", "nd", "rd", "th")


def test_age_over_89_becomes_90_plus(det):
    d = Deidentifier("surrogate", secret=SECRET, detector=det)
    assert d.deidentify("A 97-year-old woman.", "g") == "A 90+-year-old woman."


def test_mask_text_helper(det):
    text = "Call 555-123-4567."
    assert mask_text(text, det.detect(text)) == "Call [PHONE]."


def test_year_forms_shift_with_the_group_offset_and_keep_their_form(det):
    d = Deidentifier("surrogate", secret=SECRET, detector=det)
    shift = dt.timedelta(days=d.surrogator.date_shift("p1"))
    y92 = (dt.date(1992, 7, 1) + shift).year
    mid = dt.date(2015, 7, 15) + shift  # a season moves by its middle day
    season = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring"}.get(
        mid.month, "summer" if mid.month in (6, 7, 8) else "fall"
    )
    out = d.deidentify("mvr in '92; fell in summer of 2015.", "p1")
    assert out == f"mvr in '{str(y92)[-2:]}; fell in {season} of {mid.year}."
    new = dt.date(2018, 3, 26) + shift
    assert d.deidentify("ct dated 26.03.2018.", "p1") == f"ct dated {new.day:02d}.{new.month:02d}.{new.year}."


@pytest.mark.parametrize(
    ("written", "day", "form"),
    [
        ("Thanksgiving 2019", dt.date(2019, 11, 28), "{mon} {d}, {y}"),
        ("xmas '18", dt.date(2018, 12, 25), "{mon} {d} '{yy}"),
        ("Easter 2022", dt.date(2022, 4, 17), "{mon} {d}, {y}"),
        ("memorial day 2020", dt.date(2020, 5, 25), "{mon} {d}, {y}"),
        ("Labor Day 2017", dt.date(2017, 9, 4), "{mon} {d}, {y}"),
        ("new year's eve 2016", dt.date(2016, 12, 31), "{mon} {d}, {y}"),
    ],
)
def test_a_holiday_with_a_year_becomes_its_shifted_day(det, written, day, form):
    """ "Thanksgiving 2019" names one day: the surrogate must not keep it (only its year moved)."""
    d = Deidentifier("surrogate", secret=SECRET, detector=det)
    new = day + dt.timedelta(days=d.surrogator.date_shift("p1"))
    want = form.format(mon=calendar.month_abbr[new.month], d=new.day, y=new.year, yy=str(new.year)[-2:])
    assert d.deidentify(f"home over {written}, no events.", "p1") == f"home over {want}, no events."


def test_a_lunar_holiday_becomes_a_shifted_month(det):
    d = Deidentifier("surrogate", secret=SECRET, detector=det)
    new = dt.date(2021, 7, 1) + dt.timedelta(days=d.surrogator.date_shift("p2"))
    out = d.deidentify("fasting for Ramadan 2021 per family.", "p2")
    assert out == f"fasting for {calendar.month_abbr[new.month]} {new.year} per family."
