"""Markup stripped by ``label``/``deid --strip-markup``: offsets still point into the text given."""

from __future__ import annotations

import json

import pandas as pd

from reportlab_nlp.deid.pipeline import deidentify_archive
from reportlab_nlp.labeler import label_archive

HTML = "<p>FINDINGS: Small left <b>pleural&nbsp;effusion</b>.<br/>No pneumothorax.</p>"
RTF = r"{\rtf1\ansi FINDINGS: Small left pleural effusion.\par No pneumothorax.}"


def _archive(path, texts):
    pd.DataFrame({"report_id": [f"r{i}" for i in range(len(texts))], "report": texts}).to_csv(
        path, index=False
    )
    return path


def test_label_evidence_offsets_index_the_html_given(tmp_path):
    src = _archive(tmp_path / "in.csv", [HTML, RTF])
    out = tmp_path / "labels.csv"
    summary = label_archive(src, out, evidence_path=tmp_path / "ev.jsonl", strip_markup="auto", link=False)
    labels = pd.read_csv(out, dtype={"report_id": str}).set_index("report_id")
    assert labels.loc["r0", "Pleural Effusion"] == 1.0 and labels.loc["r0", "Pneumothorax"] == 0.0
    assert labels.loc["r1", "Pleural Effusion"] == 1.0 and labels.loc["r1", "Pneumothorax"] == 0.0
    ev = [json.loads(line) for line in (tmp_path / "ev.jsonl").read_text().splitlines()]
    html = {r["label"]: r for r in ev if r["report_id"] == "r0"}
    eff = html["Pleural Effusion"]
    assert (eff["offsets"], HTML[eff["start"] : eff["end"]]) == ("source", "pleural&nbsp;effusion")
    ptx = html["Pneumothorax"]
    assert (
        HTML[ptx["start"] : ptx["end"]] == "pneumothorax"
        and HTML[ptx["trigger_start"] : ptx["trigger_end"]] == "No"
    )
    assert {r["offsets"] for r in ev if r["report_id"] == "r1"} == {"stripped"}
    assert any("markup stripped from 2 report(s)" in n for n in summary.notes)


def test_deid_spans_index_the_html_given(tmp_path):
    text = "<div>Seen by <i>Dr. Smith</i> on 01/02/2019.</div>"
    src = _archive(tmp_path / "in.csv", [text])
    deidentify_archive(src, tmp_path / "spans.csv", mode="tag", strip_markup="html")
    spans = pd.read_csv(tmp_path / "spans.csv")
    assert sorted(text[s:e] for s, e in zip(spans.start, spans.end)) == ["01/02/2019", "Smith"]
