"""The README's Quick start (and its Python snippet) do what the README says.

The Quick start labels the bundled ``examples/reports.csv``; here the outputs go to ``tmp_path``
instead of ``examples/out`` so the checkout is left untouched.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from reportlab_nlp.cli import app
from reportlab_nlp.schema import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "reports.csv"
EVIDENCE_KEYS = {
    "report_id",
    "label",
    "labels",
    "observation",
    "assertion",
    "value",
    "section",
    "sentence",
    "sentence_start",
    "start",
    "end",
    "text",
    "trigger",
    "trigger_start",
    "trigger_end",
    "cui",
    "preferred_name",
    "score",
    "cui_status",
}


def test_readme_has_the_quick_start_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Quick start" in readme
    assert (
        "reportlab-nlp label examples/reports.csv -o examples/out/labels.csv --evidence "
        "examples/out/mentions.jsonl" in readme
    )


def test_quick_start_labels_the_bundled_reports(tmp_path: Path, rule_nlp) -> None:
    with open(EXAMPLES, newline="", encoding="utf-8") as fh:
        source = {r["report_id"]: r["report"] for r in csv.DictReader(fh)}
    assert len(source) == 30  # "the 30 bundled synthetic reports"
    out, ev = tmp_path / "out" / "labels.csv", tmp_path / "out" / "mentions.jsonl"
    res = CliRunner().invoke(
        app, ["label", str(EXAMPLES), "-o", str(out), "--evidence", str(ev), "-q"], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    with open(out, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == ["report_id", *load_taxonomy("chexpert").label_names]
    with open(tmp_path / "out" / "labels.rejects.csv", newline="", encoding="utf-8") as fh:
        rejects = list(csv.DictReader(fh))
    assert len(rejects) == 2  # "the two deliberately broken records, with the reason"
    assert all(r["code"].startswith("RL") and r["reason"] for r in rejects)
    assert len(rows) + len(rejects) == len(source)
    assert {r["report_id"] for r in rows} | {r["report_id"] for r in rejects} == set(source)
    records = [json.loads(line) for line in ev.read_text(encoding="utf-8").splitlines()]
    assert records
    for rec in records:
        assert set(rec) == EVIDENCE_KEYS
        assert source[rec["report_id"]][rec["start"] : rec["end"]] == rec["text"]


def test_readme_python_snippet(rule_nlp) -> None:
    # rule_nlp is reportlab_nlp.load(taxonomy="chexpert"), built once for the session
    doc = rule_nlp("FINDINGS: Small left pleural effusion. No pneumothorax.")
    assert (doc._.report_labels["Pleural Effusion"], doc._.report_labels["Pneumothorax"]) == (1.0, 0.0)
    assert [(m.text, m._.assertion, None if m._.trigger is None else m._.trigger.text) for m in doc.ents] == [
        ("pleural effusion", "present", None),
        ("pneumothorax", "absent", "No"),
    ]

    from reportlab_nlp import assert_target, label_dataframe

    assert assert_target("Pneumothorax cannot be excluded.", 0, 12) == "possible"
    df = pd.DataFrame(
        {"report_id": ["a", "b", "c"], "report": ["FINDINGS: No effusion.", "", "IMPRESSION: Cardiomegaly."]}
    )
    run = label_dataframe(df, id_column="report_id", text_column="report", workers=2)
    assert run.labels["report_id"].tolist() == ["a", "c"]
    assert run.labels.loc[0, "Pleural Effusion"] == 0.0
    assert run.labels.loc[1, "Cardiomegaly"] == 1.0
    assert [(m["report_id"], m["observation"]) for m in run.evidence] == [
        ("a", "pleural_effusion"),
        ("c", "cardiomegaly"),
    ]
    assert [(r.record_id, r.code) for r in run.rejects] == [("b", "RL107")]
