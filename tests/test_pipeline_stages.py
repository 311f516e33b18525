"""The rule pipeline stage by stage: sections, sentences, mentions, aggregation, taxonomies,
serialisation. Small synthetic reports written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

import reportlab_nlp
from reportlab_nlp.aggregation import aggregate_mentions
from reportlab_nlp.labeler import label_texts
from reportlab_nlp.schema import load_taxonomy

CHEXPERT = load_taxonomy("chexpert").label_names


def labels_of(text: str, **kw) -> dict:
    """Non-blank cells of the report's CheXpert row."""
    (res,) = label_texts([text], **kw)
    return {k: v for k, v in res.labels.items() if v is not None}


def mentions_of(text: str, **kw) -> list[tuple[str, str, str, str]]:
    (res,) = label_texts([text], **kw)
    return [(m["observation"], m["text"], m["assertion"], m["section"]) for m in res.mentions]


def sentences(nlp, text: str) -> list[str]:
    return [s.text.strip() for s in nlp(text).sents if s.text.strip()]


def section_titles(nlp, text: str) -> list[tuple[str | None, str]]:
    doc = nlp(text)
    return [(s.category, doc[s.title_span[0] : s.title_span[1]].text.strip()) for s in doc._.sections]


# ------------------------------------------------------------------ sections
@pytest.mark.parametrize(
    "text",
    [
        "FINDINGS: Small left pleural effusion.",  # capitals with colon
        "FINDINGS Small left pleural effusion.",  # capitals, no colon
        "findings: small left pleural effusion.",  # lower case with colon
        "Findings\nSmall left pleural effusion.",  # header alone on its line
    ],
)
def test_findings_header_forms(rule_nlp, text: str) -> None:
    assert section_titles(rule_nlp, text)[0][0] == "findings"
    assert [(o, a, s) for o, _, a, s in mentions_of(text)] == [("pleural_effusion", "present", "findings")]
    assert labels_of(text) == {"Pleural Effusion": 1.0}


def test_mixed_case_word_without_colon_is_not_a_header(rule_nlp) -> None:
    text = "Impression small left effusion."
    assert section_titles(rule_nlp, text) == [(None, "")]
    assert mentions_of(text) == [("pleural_effusion", "effusion", "present", "unknown")]


def test_sections_of_a_structured_report(rule_nlp) -> None:
    text = (
        "INDICATION: Cough, evaluate for pneumonia.\n"
        "COMPARISON: None.\n"
        "FINDINGS: Heart size is normal. No pleural effusion.\n"
        "IMPRESSION: No acute cardiopulmonary process."
    )
    assert section_titles(rule_nlp, text) == [
        ("indication", "INDICATION:"),
        ("comparison", "COMPARISON:"),
        ("findings", "FINDINGS:"),
        ("impression", "IMPRESSION:"),
    ]
    assert labels_of(text) == {"No Finding": 1.0, "Cardiomegaly": 0.0, "Pleural Effusion": 0.0}


def test_mimic_style_report(rule_nlp) -> None:
    text = (
        "                                 FINAL REPORT\n"
        " EXAMINATION:  CHEST (PA AND LAT)\n"
        "\n"
        " INDICATION:  ___ with cough and fever, history of cardiomegaly\n"
        "\n"
        " FINDINGS: \n"
        "\n"
        " Heart size is normal.  No pleural effusion or pneumothorax.\n"
        "\n"
        " IMPRESSION: \n"
        "\n"
        " No acute cardiopulmonary process."
    )
    cats = [c for c, _ in section_titles(rule_nlp, text)]
    assert cats[-4:] == ["technique", "indication", "findings", "impression"]
    assert mentions_of(text) == [
        ("cardiomegaly", "Heart size is normal", "absent", "findings"),
        ("pleural_effusion", "pleural effusion", "absent", "findings"),
        ("pneumothorax", "pneumothorax", "absent", "findings"),
    ]
    assert labels_of(text) == {
        "No Finding": 1.0,
        "Cardiomegaly": 0.0,
        "Pleural Effusion": 0.0,
        "Pneumothorax": 0.0,
    }


def test_final_report_title_does_not_hide_the_report_body() -> None:
    # "FINAL REPORT" is a title; the text under it is the report. It must be labeled, and a
    # report with an effusion must never come out as "No Finding".
    text = "FINAL REPORT\nSmall left pleural effusion."
    assert labels_of(text) == {"Pleural Effusion": 1.0}


def test_header_after_leading_whitespace_on_the_first_line() -> None:
    # MIMIC-CXR lines are indented with a space; the first header of the text must still be a header,
    # so HISTORY here is not labeled (as it is when the line is not indented).
    assert labels_of("HISTORY: Cardiomegaly.\n FINDINGS: No pneumothorax.") == {
        "No Finding": 1.0,
        "Pneumothorax": 0.0,
    }
    assert labels_of(" HISTORY: Cardiomegaly.\n FINDINGS: No pneumothorax.") == {
        "No Finding": 1.0,
        "Pneumothorax": 0.0,
    }


def test_indication_is_ignored_by_default_but_labeled_with_all_sections() -> None:
    text = "INDICATION: Cardiomegaly.\nFINDINGS: No pleural effusion."
    assert labels_of(text) == {"No Finding": 1.0, "Pleural Effusion": 0.0}
    assert labels_of(text, all_sections=True) == {"Cardiomegaly": 1.0, "Pleural Effusion": 0.0}
    assert mentions_of(text, all_sections=True) == [
        ("cardiomegaly", "Cardiomegaly", "present", "indication"),
        ("pleural_effusion", "pleural effusion", "absent", "findings"),
    ]


def test_load_with_explicit_sections() -> None:
    nlp = reportlab_nlp.load(sections=["indication"])
    doc = nlp("INDICATION: Cardiomegaly.\nFINDINGS: Small left pleural effusion.")
    assert [(e._.observation, e[0]._.section_category) for e in doc.ents] == [("cardiomegaly", "indication")]
    assert {k: v for k, v in doc._.report_labels.items() if v is not None} == {"Cardiomegaly": 1.0}


# ------------------------------------------------------------------ sentences
def test_numbered_list_on_one_line(rule_nlp) -> None:
    text = "IMPRESSION: 1. Small left pleural effusion. 2. No pneumothorax. 3. Stable cardiomegaly."
    assert sentences(rule_nlp, text) == [
        "IMPRESSION:",
        "1. Small left pleural effusion.",
        "2. No pneumothorax.",
        "3. Stable cardiomegaly.",
    ]
    assert labels_of(text) == {"Pleural Effusion": 1.0, "Pneumothorax": 0.0, "Cardiomegaly": 1.0}


def test_numbered_list_on_separate_lines(rule_nlp) -> None:
    text = "IMPRESSION:\n1. No pneumothorax\n2. Small left pleural effusion"
    assert sentences(rule_nlp, text) == [
        "IMPRESSION:",
        "1. No pneumothorax",
        "2. Small left pleural effusion",
    ]
    # the negation of item 1 does not reach item 2
    assert labels_of(text) == {"Pneumothorax": 0.0, "Pleural Effusion": 1.0}


def test_decimal_is_not_a_boundary(rule_nlp) -> None:
    text = "FINDINGS: There is a 2.5 cm nodule in the right upper lobe. No effusion."
    assert sentences(rule_nlp, text) == [
        "FINDINGS:",
        "There is a 2.5 cm nodule in the right upper lobe.",
        "No effusion.",
    ]


def test_abbreviation_is_not_a_boundary(rule_nlp) -> None:
    text = "FINDINGS: Nodule measuring approx. 2 cm in the right lung. No pneumothorax."
    assert sentences(rule_nlp, text) == [
        "FINDINGS:",
        "Nodule measuring approx. 2 cm in the right lung.",
        "No pneumothorax.",
    ]


def test_redaction_token_is_not_a_boundary(rule_nlp) -> None:
    text = "FINDINGS: No focal consolidation with\nXXXX sternotomy wires. Small effusion."
    assert sentences(rule_nlp, text) == [
        "FINDINGS:",
        "No focal consolidation with\nXXXX sternotomy wires.",
        "Small effusion.",
    ]


def test_missing_space_after_period(rule_nlp) -> None:
    text = "FINDINGS: No pleural effusion.The heart is enlarged."
    assert sentences(rule_nlp, text) == ["FINDINGS:", "No pleural effusion.", "The heart is enlarged."]
    # the negation stays in its sentence
    assert labels_of(text) == {"Pleural Effusion": 0.0, "Cardiomegaly": 1.0}


def test_hard_wrapped_line_is_one_sentence(rule_nlp) -> None:
    text = "FINDINGS: There is a small left\npleural effusion. No pneumothorax."
    assert sentences(rule_nlp, text) == [
        "FINDINGS:",
        "There is a small left\npleural effusion.",
        "No pneumothorax.",
    ]


# ------------------------------------------------------------------ mentions
@pytest.mark.parametrize(
    "text, observation, label",
    [
        ("FINDINGS: Bilateral pleural effusions.", "pleural_effusion", "Pleural Effusion"),
        ("FINDINGS: Small bilateral effusions.", "pleural_effusion", "Pleural Effusion"),
        ("FINDINGS: Multiple pulmonary nodules.", "lung_nodule", "Lung Lesion"),
        ("FINDINGS: Bibasilar opacities.", "lung_opacity", "Lung Opacity"),
        ("FINDINGS: Heart size is enlarged.", "cardiomegaly", "Cardiomegaly"),
        ("FINDINGS: Enlarged cardiac silhouette.", "cardiomegaly", "Cardiomegaly"),
        ("FINDINGS: The heart is mildly enlarged.", "cardiomegaly", "Cardiomegaly"),
        ("FINDINGS: Right basilar air-space disease.", "lung_opacity", "Lung Opacity"),
        ("FINDINGS: Right basilar air space disease.", "lung_opacity", "Lung Opacity"),
    ],
)
def test_plurals_hyphens_and_word_order(text: str, observation: str, label: str) -> None:
    found = mentions_of(text)
    assert [(o, a) for o, _, a, _ in found] == [(observation, "present")]
    assert labels_of(text) == {label: 1.0}


@pytest.mark.parametrize(
    "text",
    [
        "FINDINGS: Pleural-based opacity in the right lower lobe.",
        "FINDINGS: Pleural based opacity in the right lower lobe.",
    ],
)
def test_pleural_based_opacity_is_pleural_other(text: str) -> None:
    # rules/observations.yml: pleural_thickening "pleural-based|pleural based opacity|..."
    # (the longest match wins)
    assert [o for o, *_ in mentions_of(text)] == ["pleural_thickening"]
    assert labels_of(text) == {"Pleural Other": 1.0}


def test_calcified_granuloma_is_not_lung_lesion() -> None:
    text = "FINDINGS: Calcified granuloma in the right upper lobe."
    assert [(o, t) for o, t, *_ in mentions_of(text)] == [("calcified_granuloma", "Calcified granuloma")]
    # a finding outside the taxonomy: no label, and No Finding stays blank
    assert labels_of(text) == {}
    assert labels_of("FINDINGS: Calcified nodule in the left lung.") == {}


def test_pericardial_effusion_is_not_pleural_effusion() -> None:
    text = "FINDINGS: Small pericardial effusion."
    assert [(o, t) for o, t, *_ in mentions_of(text)] == [("pericardial_effusion", "pericardial effusion")]
    assert labels_of(text) == {}


def test_normality_statement_is_an_absent_mention() -> None:
    assert mentions_of("FINDINGS: The cardiac silhouette is within normal limits.") == [
        ("cardiomegaly", "cardiac silhouette is within normal limits", "absent", "findings")
    ]


# ------------------------------------------------------------------ aggregation
@pytest.mark.parametrize(
    "text, value",
    [
        ("FINDINGS: No pleural effusion on the left. Small right pleural effusion.", 1.0),
        ("FINDINGS: Possible small right pleural effusion. Small left pleural effusion.", 1.0),
        ("FINDINGS: No pleural effusion on the left. Possible small right pleural effusion.", -1.0),
        ("FINDINGS: Possible small right pleural effusion. No pleural effusion on the left.", -1.0),
        ("FINDINGS: No pleural effusion on the left. No pleural effusion on the right.", 0.0),
    ],
)
def test_precedence_positive_over_uncertain_over_negative(text: str, value: float) -> None:
    assert labels_of(text)["Pleural Effusion"] == value


def test_support_devices_alone_keep_no_finding() -> None:
    text = "FINDINGS: Endotracheal tube in good position. The lungs are clear."
    assert labels_of(text) == {"No Finding": 1.0, "Support Devices": 1.0, "Lung Opacity": 0.0}


def test_finding_outside_taxonomy_blanks_no_finding() -> None:
    assert labels_of("FINDINGS: Mild scoliosis.") == {}
    assert labels_of("FINDINGS: Mild scoliosis. No pneumothorax.") == {"Pneumothorax": 0.0}


def test_uncertain_finding_blanks_no_finding_and_negatives_keep_it() -> None:
    assert labels_of("FINDINGS: Possible pneumonia.") == {"Pneumonia": -1.0}
    assert labels_of("FINDINGS: No pneumonia.") == {"No Finding": 1.0, "Pneumonia": 0.0}
    assert labels_of("FINDINGS: Evaluate for pneumonia.") == {"No Finding": 1.0}  # hypothetical: blank


def test_report_without_mentions_is_no_finding_only() -> None:
    (res,) = label_texts(["FINDINGS: Unremarkable study."])
    assert list(res.labels) == CHEXPERT
    assert res.labels == {**dict.fromkeys(CHEXPERT), "No Finding": 1.0}
    assert res.mentions == []


def test_aggregate_mentions_directly(rule_nlp) -> None:
    tax = load_taxonomy("chexpert")
    doc = rule_nlp("FINDINGS: Possible pneumonia. Small left pleural effusion. No pneumothorax.")
    row = aggregate_mentions(doc.ents, tax)
    assert row == {
        **dict.fromkeys(CHEXPERT),
        "Pneumonia": -1.0,
        "Pleural Effusion": 1.0,
        "Pneumothorax": 0.0,
    }
    assert row == doc._.report_labels
    assert doc._.taxonomy == "chexpert"


# ------------------------------------------------------------------ taxonomies
def test_nih14_column_order_and_labels() -> None:
    (res,) = label_texts(
        ["FINDINGS: Small left pleural effusion. Hiatal hernia. Emphysema. No pneumothorax."],
        taxonomy="nih14",
    )
    assert list(res.labels) == [
        "Atelectasis",
        "Cardiomegaly",
        "Effusion",
        "Infiltration",
        "Mass",
        "Nodule",
        "Pneumonia",
        "Pneumothorax",
        "Consolidation",
        "Edema",
        "Emphysema",
        "Fibrosis",
        "Pleural_Thickening",
        "Hernia",
        "No Finding",
    ]
    assert {k: v for k, v in res.labels.items() if v is not None} == {
        "Effusion": 1.0,
        "Hernia": 1.0,
        "Emphysema": 1.0,
        "Pneumothorax": 0.0,
    }


def test_user_taxonomy_file(tmp_path: Path) -> None:
    path = tmp_path / "mini.yml"
    path.write_text(
        "name: mini\n"
        "no_finding: Normal\n"
        "labels:\n"
        "  - name: Fluid\n"
        "    observations: [pleural_effusion, pericardial_effusion]\n"
        "  - name: Heart\n"
        "    observations: [cardiomegaly]\n"
        "  - name: Normal\n",
        encoding="utf-8",
    )
    nlp = reportlab_nlp.load(taxonomy=path)
    doc = nlp("FINDINGS: Small pericardial effusion. Heart size is normal.")
    assert list(doc._.report_labels) == ["Fluid", "Heart", "Normal"]
    assert doc._.report_labels == {"Fluid": 1.0, "Heart": 0.0, "Normal": None}
    assert doc._.taxonomy == "mini"
    doc = nlp("FINDINGS: No effusion. Heart size is normal.")
    assert doc._.report_labels == {"Fluid": 0.0, "Heart": 0.0, "Normal": 1.0}
    # pneumothorax is a finding outside this taxonomy: it still blanks Normal
    doc = nlp("FINDINGS: Small pneumothorax.")
    assert doc._.report_labels == {"Fluid": None, "Heart": None, "Normal": None}
    (res,) = label_texts(["FINDINGS: Bilateral effusions."], taxonomy=str(path))
    assert res.labels == {"Fluid": 1.0, "Heart": None, "Normal": None}


# ------------------------------------------------------------------ serialisation
ROUND_TRIP_TEXTS = [
    "INDICATION: Cardiomegaly.\nFINDINGS: Small left pleural effusion. No pneumothorax.",
    "IMPRESSION: 1. Possible right lower lobe pneumonia. 2. Endotracheal tube in place.",
    "Findings\nThe heart is mildly enlarged.\nImpression\nNo acute process.",
    "FINDINGS: Mild scoliosis.",
]


def test_to_disk_and_spacy_load_give_identical_labels(rule_nlp, tmp_path: Path) -> None:
    rule_nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe")
    assert loaded.pipe_names == rule_nlp.pipe_names
    for text in ROUND_TRIP_TEXTS:
        a, b = rule_nlp(text), loaded(text)
        assert b._.report_labels == a._.report_labels
        assert [(e.start_char, e.end_char, e._.observation, e._.assertion) for e in b.ents] == [
            (e.start_char, e.end_char, e._.observation, e._.assertion) for e in a.ents
        ]
