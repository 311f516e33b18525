"""CLI: exactly the commands shown in the README section."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from reportlab_nlp.cli import app

runner = CliRunner()


def make_inputs(tmp_path):
    df = pd.DataFrame(
        {
            "report_id": ["r1", "r2", "r3"],
            "patient_id": ["p1", "p1", "p2"],
            "report": [
                "Patient: John Smith\nComparison: 01/02/2019. Discussed with Dr. Jones at 14:32.",
                "Comparison: 01/12/2019. Dr. Jones reviewed. PA and lateral views, Kerley B lines.",
                "No acute cardiopulmonary process.",
            ],
        }
    )
    reports = tmp_path / "reports.csv"
    df.to_csv(reports, index=False)
    notes = tmp_path / "notes.jsonl"
    df.to_json(notes, orient="records", lines=True)
    key = tmp_path / "key.txt"
    key.write_text("a-long-random-secret-for-tests\n")
    return reports, notes, key


def test_deid_surrogate_reproducible(tmp_path):
    reports, _, key = make_inputs(tmp_path)
    args = [
        "deid",
        str(reports),
        "-o",
        str(tmp_path / "released.csv"),
        "--mode",
        "surrogate",
        "--group-column",
        "patient_id",
        "--secret-file",
        str(key),
    ]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    first = (tmp_path / "released.csv").read_text()
    r = runner.invoke(app, args)
    assert r.exit_code == 0
    assert (tmp_path / "released.csv").read_text() == first
    out = pd.read_csv(tmp_path / "released.csv", dtype=str)
    assert list(out.columns) == ["report_id", "patient_id", "report"]
    assert "Smith" not in first and "Jones" not in first and "01/02/2019" not in first
    assert "Kerley B lines" in first and "PA and lateral" in first
    assert "3 records in, 3 written, 0 rejected" in r.output


def test_deid_mask_jsonl(tmp_path):
    _, notes, _ = make_inputs(tmp_path)
    r = runner.invoke(app, ["deid", str(notes), "-o", str(tmp_path / "masked.jsonl"), "--mode", "mask"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in (tmp_path / "masked.jsonl").read_text().splitlines()]
    # times are no Safe Harbor identifier: kept unless --times is given
    assert rows[0]["report"] == "Patient: [NAME]\nComparison: [DATE]. Discussed with Dr. [NAME] at 14:32."
    assert rows[2]["report"] == "No acute cardiopulmonary process."
    r = runner.invoke(
        app, ["deid", str(notes), "-o", str(tmp_path / "masked.jsonl"), "--mode", "mask", "--times"]
    )
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in (tmp_path / "masked.jsonl").read_text().splitlines()]
    assert rows[0]["report"] == "Patient: [NAME]\nComparison: [DATE]. Discussed with Dr. [NAME] at [TIME]."


def test_deid_tag_then_evaluate(tmp_path):
    reports, _, _ = make_inputs(tmp_path)
    r = runner.invoke(
        app,
        [
            "deid",
            str(reports),
            "-o",
            "/dev/null",
            "--mode",
            "tag",
            "--spans",
            str(tmp_path / "phi.csv"),
            "--times",
        ],
    )
    assert r.exit_code == 0, r.output
    phi = pd.read_csv(tmp_path / "phi.csv")
    assert phi.values.tolist() == [
        ["r1", 9, 19, "NAME"],
        ["r1", 32, 42, "DATE"],
        ["r1", 63, 68, "NAME"],
        ["r1", 72, 77, "TIME"],
        ["r2", 12, 22, "DATE"],
        ["r2", 28, 33, "NAME"],
    ]
    gold = phi.iloc[[0, 1, 2, 3, 4]]  # gold lacks r2's name: one false positive token
    gold.to_csv(tmp_path / "gold_spans.csv", index=False)
    r = runner.invoke(
        app,
        [
            "evaluate-deid",
            str(tmp_path / "phi.csv"),
            str(tmp_path / "gold_spans.csv"),
            "--texts",
            str(reports),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    m = json.loads(r.output)
    assert (m["token_tp"], m["token_fp"], m["token_fn"]) == (11, 1, 0)
    assert m["instance_recall"] == 1.0
    r = runner.invoke(
        app,
        [
            "evaluate-deid",
            str(tmp_path / "phi.csv"),
            str(tmp_path / "gold_spans.csv"),
            "--texts",
            str(reports),
        ],
    )
    assert r.exit_code == 0 and "instance recall 1.0000" in r.output
    assert "leaked" not in r.output


def test_evaluate_deid_reads_the_shared_dev_format_and_shows_leaks(tmp_path):
    texts = tmp_path / "dev_texts.csv"
    pd.DataFrame({"id": ["q1", "q2"], "text": ["called linda at home", "no phi here"]}).to_csv(
        texts, index=False
    )
    gold = tmp_path / "dev_spans.csv"
    pd.DataFrame(
        {"id": ["q1", "q1"], "start": [7, 16], "end": [12, 20], "category": ["NAME", "LOCATION"]}
    ).to_csv(gold, index=False)
    pred = tmp_path / "pred.csv"
    pd.DataFrame({"id": ["q1"], "start": [7], "end": [12], "category": ["NAME"]}).to_csv(pred, index=False)
    r = runner.invoke(app, ["evaluate-deid", str(pred), str(gold), "--texts", str(texts)])
    assert r.exit_code == 0, r.output
    assert "instance recall 0.5000" in r.output and "home" not in r.output
    r = runner.invoke(
        app, ["evaluate-deid", str(pred), str(gold), "--texts", str(texts), "--show-leaks", "--json"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["leaks"] == [{"id": "q1", "category": "LOCATION", "value": "home"}]


def test_deid_missing_group_column_is_a_clear_error(tmp_path):
    reports, _, _ = make_inputs(tmp_path)
    r = runner.invoke(app, ["deid", str(reports), "-o", str(tmp_path / "x.csv"), "--group-column", "nope"])
    assert r.exit_code == 2
    assert "RL101" in r.output and "nope" in r.output
