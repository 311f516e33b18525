"""What the model reads (its input scope) and the mention-swap augmentation.

The scope splitter is a regular expression compiled from ``rules/sections.yml``; it must cut the
same labeled sections as the spaCy section stage of the rule pipeline.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reportlab_nlp.model.scope import default_section_rules, model_inputs, scope_for

ROOT = Path(__file__).resolve().parents[1]

TRICKY = [
    # colon headers in any case, an indication that must not be read
    "INDICATION: rule out pneumonia\nFINDINGS: Small left pleural effusion.\nIMPRESSION: Effusion.",
    # header in capitals without a colon; header alone on its line; indented header
    "FINDINGS The heart is enlarged.\nImpression\nCardiomegaly.\n   History: old fracture.",
    # the longest header wins ("findings and impression" is one header, not "findings")
    "Findings and impression: No pneumothorax.\nCOMPARISON: none",
    # a header word inside a line is text, not a header; text before any header is labeled
    "Heart size is normal. The findings: stable.\nTECHNIQUE: PA and lateral\nREASON FOR EXAM: cough",
    # lowercase header without colon on a line with text is not a header
    "findings are stable\nimpression of the radiologist is pending",
    # report titles are labeled; header-only sections are empty
    "FINAL REPORT\nLungs are clear.\nIMPRESSION:\n",
    # "alone on its line" means "followed by a whitespace token": two blanks or a tab count
    "INDICATION: cough\nImpression  No acute disease.",
    "INDICATION: cough\nImpression\tNo acute disease.",
    # a hyphenated header ("chest x-ray", technique) in capitals and with a colon
    "Lungs clear.\nCHEST X-RAY\nNo effusion.",
    "Lungs clear.\nChest x-ray: two views\nNo effusion.",
    # non-breaking space before a header, CRLF line ends, a non-ASCII letter glued to a header word
    "\u00a0INDICATION: cough\nFINDINGS: No effusion.",
    "INDICATION: cough\r\nFINDINGS: Small effusion.\r\n",
    "HISTORY\u00c9 stuff\nFINDINGS: ok",
]


def test_labeled_text_keeps_findings_and_impression_only():
    scope = scope_for(default_section_rules())
    assert scope.labeled_text(TRICKY[0]) == "Small left pleural effusion.\nEffusion."
    assert scope.labeled_text(TRICKY[1]) == "The heart is enlarged.\nCardiomegaly."
    assert scope.labeled_text(TRICKY[2]) == "No pneumothorax."
    assert scope.labeled_text(TRICKY[3]) == "Heart size is normal. The findings: stable."
    assert scope.labeled_text(TRICKY[4]) == TRICKY[4]
    assert scope.labeled_text(TRICKY[5]) == "Lungs are clear."
    assert [c for c, _, _ in scope.sections(TRICKY[0])] == ["indication", "findings", "impression"]
    assert scope.labeled_text(TRICKY[6]) == scope.labeled_text(TRICKY[7]) == "No acute disease."
    assert scope.labeled_text(TRICKY[8]) == scope.labeled_text(TRICKY[9]) == "Lungs clear."
    assert (
        scope.labeled_text(TRICKY[10]) == "No effusion."
        and scope.labeled_text(TRICKY[11]) == "Small effusion."
    )
    assert scope.labeled_text(TRICKY[12]) == "HISTORY\u00c9 stuff\nok"


def test_input_scope_all_reads_the_whole_report():
    assert model_inputs(TRICKY[:2], "all", None) == TRICKY[:2]
    assert model_inputs(TRICKY[:1], "labeled_sections", None) == ["Small left pleural effusion.\nEffusion."]


def _spacy_labeled_text(nlp, text: str) -> str:
    """The labeled tokens of the rule pipeline's section stage, header titles excluded."""
    doc = nlp.make_doc(text)
    for name, proc in nlp.pipeline:
        doc = proc(doc)
        if name == "reportlab_sections":
            break
    labeled = set(nlp.get_pipe("reportlab_sections").labeled)
    titles: set[int] = set()
    for sec in doc._.sections or ():
        if sec.title_start is not None:
            titles.update(range(sec.title_start, sec.title_end))
    return " ".join(
        t.text
        for t in doc
        if (t._.section_category or "unknown") in labeled and t.i not in titles and not t.is_space
    )


def test_scope_cuts_the_same_sections_as_the_spacy_section_stage():
    from reportlab_nlp.labeler import PipelineSpec, get_pipeline

    nlp = get_pipeline(PipelineSpec("chexpert"))
    scope = scope_for(default_section_rules())
    examples = pd.read_csv(ROOT / "examples" / "reports.csv", dtype=str, keep_default_na=False)
    texts = TRICKY + examples[examples.columns[1]].tolist()
    for text in texts:
        ours = " ".join(t.text for t in nlp.make_doc(scope.labeled_text(text)) if not t.is_space)
        assert ours == _spacy_labeled_text(nlp, text), text


# -- mention swaps ---------------------------------------------------------------------------
def test_swaps_give_rare_findings_the_contexts_of_common_ones():
    from reportlab_nlp.model.augment import is_noun_phrase_mention, swap_examples

    labels = ["No Finding", "Pleural Effusion", "Pneumothorax", "Support Devices"]
    texts = [
        "Small right pleural effusion.",
        "No pleural effusion.",
        "Possible small pleural effusion.",
        "No pneumothorax.",
        "Heart size is normal.",
        "Right PICC line tip in the SVC.",
        "SMALL LEFT PLEURAL EFFUSION.",
        "Small pleural effusion and no pneumothorax.",
    ]
    ids = [f"s{i}" for i in range(len(texts))]
    x_ids, x_texts, table, made = swap_examples(ids, texts, "chexpert", labels, min_count=2, seed=0)
    # Pneumothorax had negative sentences only: the effusion's present and possible contexts are
    # borrowed (up to 2 examples per value, 1 possible source); Pleural Effusion gets none (its
    # sources are its own sentences or already name it); devices are never swapped
    # all-capitals words are replaced in capitals; a sentence that already names a pneumothorax is
    # never a source ("pneumothorax and no pneumothorax")
    assert sorted(x_texts) == [
        "Possible small pneumothorax.",
        "SMALL LEFT PNEUMOTHORAX.",
        "Small right pneumothorax.",
    ]
    assert made == {"Pneumothorax=-1": 1, "Pneumothorax=1": 2}
    rows = {x_texts[i]: table.loc[x_ids[i]].to_dict() for i in range(len(x_ids))}
    assert rows["Small right pneumothorax."]["Pneumothorax"] == 1.0
    assert rows["Possible small pneumothorax."]["Pneumothorax"] == -1.0
    assert all(x.startswith(("s0#x", "s2#x", "s6#x")) for x in x_ids)
    assert is_noun_phrase_mention("pleural effusion") and not is_noun_phrase_mention("heart size is normal")


def test_model_trained_on_labeled_sections_ignores_the_indication(tmp_path):
    torch = pytest.importorskip("torch")  # noqa: F841
    from support.tiny_models import build_tiny_encoder

    from reportlab_nlp.model.inference import Predictor
    from reportlab_nlp.model.modeling import LabelerSpec, new_labeler, read_spec, save_labeler

    corpus = ["Small left pleural effusion.", "No pneumothorax.", "rule out pneumonia", "cough"]
    enc = build_tiny_encoder(tmp_path / "enc", corpus, max_positions=64)
    spec = LabelerSpec(
        label_names=["No Finding", "Pleural Effusion"],
        no_finding="No Finding",
        finding_labels=["Pleural Effusion"],
        max_length=32,
        window_overlap=8,
        section_rules=default_section_rules(),
    )
    model, tok = new_labeler(enc, spec, seed=1)
    save_labeler(model, tok, tmp_path / "m")
    assert read_spec(tmp_path / "m").input_scope == "labeled_sections"
    pred = Predictor(tmp_path / "m", device="cpu", precision="fp32")
    with_indication, _ = pred.predict(
        ["INDICATION: rule out pneumonia, cough\nFINDINGS: Small left pleural effusion."]
    )
    findings_only, _ = pred.predict(["Small left pleural effusion."])
    assert (with_indication == findings_only).all()
    # a model saved before the scope existed reads whole reports
    import json

    schema = json.loads((tmp_path / "m" / "label_schema.json").read_text())
    del schema["input_scope"], schema["section_rules"]
    (tmp_path / "m" / "label_schema.json").write_text(json.dumps(schema))
    assert read_spec(tmp_path / "m").input_scope == "all"
