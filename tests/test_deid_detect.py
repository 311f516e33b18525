"""Detection: every category in at least three formats, allow-list, pre-redacted tokens, years."""

from __future__ import annotations

import itertools

import pytest
from support.deid_spans import found

from reportlab_nlp.deid import CATEGORIES, Detector


@pytest.fixture(scope="module")
def det_times():
    return Detector(times=True)


# (text, expected (substring, category)) -- at least three formats per category
CASES = {
    "NAME": [
        ("Findings discussed with Dr. Jane Doe at the bedside.", ("Jane Doe", "NAME")),
        ("Electronically signed by J. Smith, MD", ("J. Smith", "NAME")),
        ("Patient: SMITH, JOHN", ("SMITH, JOHN", "NAME")),
        ("History from the patient's wife Maria.", ("Maria", "NAME")),
        ("Transcribed: JS/kl", ("JS/kl", "NAME")),
    ],
    "DATE": [
        ("Comparison: 01/02/2019.", ("01/02/2019", "DATE")),
        ("Comparison: 1/2/19.", ("1/2/19", "DATE")),
        ("Study of 2019-01-02 reviewed.", ("2019-01-02", "DATE")),
        ("Prior from Jan 2, 2019.", ("Jan 2, 2019", "DATE")),
        ("Seen January 2nd for follow-up.", ("January 2nd", "DATE")),
        ("Compared with the study on 3/4.", ("3/4", "DATE")),
        ("Last seen 12/2019 in clinic.", ("12/2019", "DATE")),
        ("Obtained 02-JAN-2019.", ("02-JAN-2019", "DATE")),
    ],
    "TIME": [
        ("Called at 14:32 today.", ("14:32", "TIME")),
        ("Called at 2:30 PM today.", ("2:30 PM", "TIME")),
        ("Called at 0830 hours today.", ("0830 hours", "TIME")),
        ("Called at 3 p.m. today.", ("3 p.m.", "TIME")),
    ],
    "AGE": [
        ("A 92-year-old man with cough.", ("92", "AGE")),
        ("Age: 97", ("97", "AGE")),
        ("Female, 95 y/o, dyspnea.", ("95", "AGE")),
    ],
    "ID": [
        ("MRN: 12345678", ("12345678", "ID")),
        ("Accession #: A1234567", ("A1234567", "ID")),
        ("Account No. 123-456-789", ("123-456-789", "ID")),
        ("Serial Number: PJN123456", ("PJN123456", "ID")),
        ("Insurance ID: XYZ987654321", ("XYZ987654321", "ID")),
    ],
    "SSN": [
        ("SSN: 123-45-6789", ("123-45-6789", "SSN")),
        ("SSN 123 45 6789", ("123 45 6789", "SSN")),
        ("Social Security Number: 123456789", ("123456789", "SSN")),
    ],
    "PHONE": [
        ("Call (555) 123-4567 with questions.", ("(555) 123-4567", "PHONE")),
        ("Call 555-123-4567 with questions.", ("555-123-4567", "PHONE")),
        ("Fax: 555.123.4567", ("555.123.4567", "PHONE")),
        ("Call +1 555 123 4567 now.", ("+1 555 123 4567", "PHONE")),
        ("Please page Dr. Lee (pager 4567).", ("4567", "PHONE")),
    ],
    "EMAIL": [
        ("Contact jane.doe@example.org today.", ("jane.doe@example.org", "EMAIL")),
        ("Contact jdoe@hospital.com.", ("jdoe@hospital.com", "EMAIL")),
        ("Contact radiology01@mercy.edu or us.", ("radiology01@mercy.edu", "EMAIL")),
    ],
    "URL": [
        (
            "See https://pacs.mercyhealth.org/viewer for images.",
            ("https://pacs.mercyhealth.org/viewer", "URL"),
        ),
        ("See www.mercyradiology.com.", ("www.mercyradiology.com", "URL")),
        ("See portal.mercy.org/results for images.", ("portal.mercy.org/results", "URL")),
    ],
    "IP": [
        ("Workstation 10.12.3.4 sent it.", ("10.12.3.4", "IP")),
        ("Workstation 192.168.1.20:8080 sent it.", ("192.168.1.20:8080", "IP")),
        ("Workstation fe80::1ff:fe23:4567 sent it.", ("fe80::1ff:fe23:4567", "IP")),
    ],
    "ADDRESS": [
        ("Lives at 123 Main Street.", ("123 Main Street", "ADDRESS")),
        ("Address: 4567 N Oak Ave, Apt 5, Springfield", ("4567 N Oak Ave, Apt 5", "ADDRESS")),
        ("Mail to P.O. Box 1234 please.", ("P.O. Box 1234", "ADDRESS")),
    ],
    "CITY": [
        ("Moved from Springfield, IL 62704 last year.", ("Springfield", "CITY")),
        ("Recently traveled from Boston, Massachusetts.", ("Boston", "CITY")),
        ("City: Denver", ("Denver", "CITY")),
        ("Patient lives in Sacramento with her son.", ("Sacramento", "CITY")),
    ],
    "STATE": [
        ("Moved from Springfield, IL 62704.", ("IL", "STATE")),
        ("Recently traveled from Boston, Massachusetts.", ("Massachusetts", "STATE")),
        ("Born in Oregon.", ("Oregon", "STATE")),
    ],
    "ZIP": [
        ("Springfield, IL 62704.", ("62704", "ZIP")),
        ("Springfield, Illinois 62704-1234.", ("62704-1234", "ZIP")),
        ("Zip: 02115", ("02115", "ZIP")),
    ],
    "FACILITY": [
        ("Transferred from Mercy General Hospital today.", ("Mercy General Hospital", "FACILITY")),
        ("Seen at St. Mary's Medical Center.", ("St. Mary's Medical Center", "FACILITY")),
        ("Outside films from Lakeside Imaging Center.", ("Lakeside Imaging Center", "FACILITY")),
    ],
    "COUNTRY": [
        ("Born in Portugal, moved here as a child.", ("Portugal", "COUNTRY")),
        ("Recent travel to the United Kingdom.", ("United Kingdom", "COUNTRY")),
        ("NATIONALITY: NEW ZEALAND", ("NEW ZEALAND", "COUNTRY")),
    ],
}


def test_every_category_has_three_formats():
    assert set(CASES) == set(CATEGORIES)
    assert all(len(v) >= 3 for v in CASES.values())


@pytest.mark.parametrize("text,expected", [c for v in CASES.values() for c in v])
def test_detects(det, det_times, text, expected):
    assert expected in found(det_times if expected[1] == "TIME" else det, text)


def test_times_are_off_by_default(det, det_times):
    text = "Called at 14:32 today."
    assert found(det, text) == []
    assert found(det_times, text) == [("14:32", "TIME")]


def test_clinical_vocabulary_is_not_flagged(det):
    text = (
        "PA and lateral views. Kerley B lines. Swan-Ganz catheter in the right PA. "
        "Port-A-Cath tip in the SVC. "
        "Foley catheter. CT chest recommended. Hampton hump absent. Findings, PA and AP. No Westermark sign. "
        "Compression deformity of T11 unchanged. 7 mm nodule. Heart size is normal."
    )
    assert det.detect(text) == []


def test_pre_redacted_tokens_are_left_alone(det):
    text = "COMPARISON: XXXX, XXXX. Discussed with Dr. XXXX on XXXX. Patient: ___ [**Name**] seen."
    assert det.detect(text) == []


def test_bare_year_only_in_strict_mode(det):
    text = "The 2014 radiograph is unchanged."
    assert det.detect(text) == []
    strict = Detector(strict_years=True)
    assert found(strict, text) == [("2014", "DATE")]


def test_year_after_a_date_cue_is_a_date(det):
    assert found(det, "Prior chest radiograph from 2014.") == [("2014", "DATE")]
    assert found(det, "Hip replaced in 1998, knee since 2003.") == [("1998", "DATE"), ("2003", "DATE")]


def test_ages_under_90_are_not_phi(det):
    assert det.detect("A 45-year-old man. Age: 89.") == []


def test_spans_do_not_overlap_and_are_sorted(det):
    text = (
        "Dr. Jane Doe, MD called 555-123-4567 on 01/02/2019 at 14:32 "
        "from Mercy General Hospital, Boston, MA 02115."
    )
    spans = det.detect(text)
    assert [s.as_tuple() for s in spans] == sorted(s.as_tuple() for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert ("MA", "STATE") in found(det, text) and ("02115", "ZIP") in found(det, text)
