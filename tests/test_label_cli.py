"""The ``label``, ``assertion`` and ``evaluate`` commands through typer's CliRunner."""

from __future__ import annotations

import csv
import json
import logging
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from reportlab_nlp.cli import app
from reportlab_nlp.outputs import read_label_table
from reportlab_nlp.schema import load_taxonomy

CHEXPERT = load_taxonomy("chexpert").label_names
NIH14 = load_taxonomy("nih14").label_names

REPORTS = {
    "r1": "FINDINGS: Small left pleural effusion. No pneumothorax.\nIMPRESSION: Left effusion.",
    "r2": "FINDINGS: The lungs are clear. Heart size is normal.",
    "r3": "",
    "r4": "INDICATION: Cough.\nIMPRESSION: Possible right lower lobe pneumonia. Endotracheal tube in place.",
    "r5": "FINDINGS: Mild scoliosis. Cardiomegaly.",
}
EXPECTED = {  # non-blank cells per labeled report
    "r1": {"Pleural Effusion": 1.0, "Pneumothorax": 0.0},
    "r2": {"No Finding": 1.0, "Lung Opacity": 0.0, "Cardiomegaly": 0.0},
    "r4": {"Pneumonia": -1.0, "Support Devices": 1.0},
    "r5": {"Cardiomegaly": 1.0},
}


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def reports_csv(tmp_path: Path) -> Path:
    p = tmp_path / "reports.csv"
    pd.DataFrame({"report_id": list(REPORTS), "report": list(REPORTS.values())}).to_csv(p, index=False)
    return p


def invoke(runner: CliRunner, *args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def non_blank(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {rid: {k: v for k, v in row.items() if not pd.isna(v)} for rid, row in frame.iterrows()}


def csv_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------ label
def test_label_csv_and_parquet_agree(runner, reports_csv: Path, tmp_path: Path, rule_nlp) -> None:
    res = invoke(runner, "label", reports_csv, "-o", tmp_path / "out.csv", "-q")
    assert res.exit_code == 0, res.output
    header = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(["report_id", *CHEXPERT])
    csv_frame, id_col = read_label_table(tmp_path / "out.csv", CHEXPERT)
    assert id_col == "report_id"
    assert csv_frame.index.tolist() == ["r1", "r2", "r4", "r5"]
    assert non_blank(csv_frame) == EXPECTED

    res = invoke(runner, "label", reports_csv, "-o", tmp_path / "out.parquet", "-q")
    assert res.exit_code == 0, res.output
    raw = pd.read_parquet(tmp_path / "out.parquet")
    assert list(raw.columns) == ["report_id", *CHEXPERT]
    assert all(str(raw[c].dtype) == "float64" for c in CHEXPERT)
    pq_frame, _ = read_label_table(tmp_path / "out.parquet", CHEXPERT)
    pd.testing.assert_frame_equal(pq_frame, csv_frame, check_index_type=False)


def test_rejects_file_and_row_accounting(runner, reports_csv: Path, tmp_path: Path) -> None:
    res = invoke(runner, "label", reports_csv, "-o", tmp_path / "out.csv")
    assert res.exit_code == 0, res.output
    rejects = csv_rows(tmp_path / "out.rejects.csv")
    assert rejects == [{"report_id": "r3", "code": "RL107", "reason": "report text is empty"}]
    out_rows = csv_rows(tmp_path / "out.csv")
    assert len(REPORTS) == len(out_rows) + len(rejects)
    summary = " ".join(res.stderr.split())
    assert "labelled 4 reports" in summary
    assert "1 rejected" in summary


def test_no_rejects_file_without_rejects(runner, tmp_path: Path) -> None:
    p = tmp_path / "ok.csv"
    p.write_text("report_id,report\na,No effusion.\n", encoding="utf-8")
    res = invoke(runner, "label", p, "-o", tmp_path / "ok_out.csv", "-q")
    assert res.exit_code == 0
    assert not (tmp_path / "ok_out.rejects.csv").exists()
    assert csv_rows(tmp_path / "ok_out.csv") == [
        {"report_id": "a", **dict.fromkeys(CHEXPERT, ""), "No Finding": "1.0", "Pleural Effusion": "0.0"}
    ]


def test_evidence_records(runner, reports_csv: Path, tmp_path: Path) -> None:
    ev_path = tmp_path / "evidence.jsonl"
    res = invoke(runner, "label", reports_csv, "-o", tmp_path / "out.csv", "--evidence", ev_path, "-q")
    assert res.exit_code == 0, res.output
    records = [json.loads(line) for line in ev_path.read_text(encoding="utf-8").splitlines()]
    required = {
        "report_id",
        "label",
        "assertion",
        "section",
        "sentence",
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
    assert records
    for rec in records:
        assert required <= set(rec), sorted(required - set(rec))
        report = REPORTS[rec["report_id"]]
        assert report[rec["start"] : rec["end"]] == rec["text"]
        if rec["trigger"] is not None:
            assert report[rec["trigger_start"] : rec["trigger_end"]] == rec["trigger"]
        assert rec["sentence"] in report
    assert {r["report_id"] for r in records} == {"r1", "r2", "r4", "r5"}
    summary = [(r["report_id"], r["label"], r["assertion"], r["section"], r["text"]) for r in records]
    assert summary[:3] == [
        ("r1", "Pleural Effusion", "present", "findings", "pleural effusion"),
        ("r1", "Pneumothorax", "absent", "findings", "pneumothorax"),
        ("r1", "Pleural Effusion", "present", "impression", "effusion"),
    ]
    ptx = records[1]
    assert (ptx["trigger"], ptx["sentence"]) == ("No", "No pneumothorax.")
    # the scoliosis mention is a finding outside the taxonomy: no label
    assert ("r5", None, "present", "findings", "scoliosis") in summary
    # linking is on by default with --evidence
    assert (records[0]["cui"], records[0]["cui_status"]) == ("C0032227", "verified")
    assert all((r["cui_status"] is None) == (r["cui"] is None) for r in records)
    assert isinstance(records[0]["preferred_name"], str)
    assert 0.0 <= records[0]["score"] <= 1.0


def test_nih14_header(runner, reports_csv: Path, tmp_path: Path) -> None:
    res = invoke(runner, "label", reports_csv, "-o", tmp_path / "nih.csv", "--taxonomy", "nih14", "-q")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "nih.csv").read_text(encoding="utf-8").splitlines()[0] == ",".join(
        ["report_id", *NIH14]
    )
    frame, _ = read_label_table(tmp_path / "nih.csv", NIH14)
    assert non_blank(frame)["r1"] == {"Effusion": 1.0, "Pneumothorax": 0.0}


def test_two_workers_give_the_same_table(runner, tmp_path: Path) -> None:
    texts = [
        "FINDINGS: Small left pleural effusion.",
        "FINDINGS: No pneumothorax.",
        "IMPRESSION: Possible pneumonia.",
        "FINDINGS: Cardiomegaly. Mild pulmonary edema.",
        "",
        "FINDINGS: Endotracheal tube in place. Lungs are clear.",
    ]
    p = tmp_path / "many.csv"
    pd.DataFrame(
        {"report_id": [f"id{i:03d}" for i in range(60)], "report": [texts[i % len(texts)] for i in range(60)]}
    ).to_csv(p, index=False)
    r1 = invoke(runner, "label", p, "-o", tmp_path / "w1.csv", "--workers", "1", "--chunk-size", "7", "-q")
    r2 = invoke(runner, "label", p, "-o", tmp_path / "w2.csv", "--workers", "2", "--chunk-size", "7", "-q")
    assert r1.exit_code == 0 and r2.exit_code == 0
    w1 = (tmp_path / "w1.csv").read_text(encoding="utf-8")
    assert w1 == (tmp_path / "w2.csv").read_text(encoding="utf-8")
    assert len(w1.splitlines()) == 1 + 50
    assert (tmp_path / "w1.rejects.csv").read_text() == (tmp_path / "w2.rejects.csv").read_text()
    assert len(csv_rows(tmp_path / "w2.rejects.csv")) == 10


def test_auto_detected_columns_print_a_note(runner, tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text('{"id": "a", "text": "No effusion."}\n', encoding="utf-8")
    res = invoke(runner, "label", p, "-o", tmp_path / "o.csv")
    assert res.exit_code == 0
    assert "using column 'id' as the report id" in res.stderr
    assert (tmp_path / "o.csv").read_text(encoding="utf-8").splitlines()[0].startswith("id,No Finding,")


# ------------------------------------------------------------------ user mistakes
def _error_line(res, code: str) -> str:
    """The user-mistake contract: exit code 2, no traceback, nothing on stdout, ``error [RL###] ...``
    on stderr. Returns the message with whitespace normalised (line wrapping is checked separately)."""
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert res.stdout == ""
    text = " ".join(res.stderr.split())
    assert text.startswith(f"error [{code}] ")
    return text


def _one_line_error(res, code: str) -> str:
    line = _error_line(res, code)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    return line


def test_missing_input_file(runner, tmp_path: Path) -> None:
    res = invoke(runner, "label", tmp_path / "nope.csv", "-o", tmp_path / "o.csv")
    line = _error_line(res, "RL100")
    assert line.endswith("nope.csv does not exist")


def test_unknown_taxonomy(runner, reports_csv: Path, tmp_path: Path) -> None:
    res = invoke(runner, "label", reports_csv, "-o", tmp_path / "o.csv", "--taxonomy", "chexbert99")
    line = _error_line(res, "RL200")
    assert (
        line
        == "error [RL200] taxonomy 'chexbert99' is neither a built-in (chexpert, nih14) nor an existing file"
    )


def test_bad_id_column(runner, reports_csv: Path, tmp_path: Path) -> None:
    res = invoke(runner, "label", reports_csv, "-o", tmp_path / "o.csv", "--id-column", "study")
    line = _error_line(res, "RL101")
    assert line == "error [RL101] reports.csv has no id column 'study'; columns are: report_id, report"
    assert not (tmp_path / "o.csv").exists()


def test_unknown_output_format(runner, reports_csv: Path, tmp_path: Path) -> None:
    res = invoke(runner, "label", reports_csv, "-o", tmp_path / "o.xlsx")
    _error_line(res, "RL300")


@pytest.mark.parametrize(
    "args, code",
    [
        (["label", "{dir}/absent.csv", "-o", "{dir}/o.csv"], "RL100"),
        (["label", "{dir}/reports.csv", "-o", "{dir}/o.csv", "--taxonomy", "chexbert99"], "RL200"),
        (["label", "{dir}/reports.csv", "-o", "{dir}/o.csv", "--id-column", "study"], "RL101"),
        (["label", "{dir}/reports.csv", "-o", "{dir}/o.xlsx"], "RL300"),
    ],
)
def test_error_message_is_a_single_line(
    runner, reports_csv: Path, tmp_path: Path, args: list[str], code: str
) -> None:
    # cli_errors promises "one clear line on stderr"; long messages must not be wrapped at the
    # console width (80 columns when stderr is not a terminal, as in logs and CI)
    res = invoke(runner, *[a.format(dir=tmp_path) for a in args])
    _one_line_error(res, code)


# ------------------------------------------------------------------ privacy of failing records
def test_failing_record_is_rejected_without_leaking_text(
    runner, tmp_path: Path, monkeypatch, caplog, rule_nlp
) -> None:
    from reportlab_nlp import aggregation

    marker = "QZXMARKER7731"
    original = aggregation.ReportAggregator.__call__

    def flaky(self, doc):
        if marker in doc.text:
            raise RuntimeError(f"cannot aggregate {doc.text}")
        return original(self, doc)

    monkeypatch.setattr(aggregation.ReportAggregator, "__call__", flaky)
    p = tmp_path / "r.csv"
    pd.DataFrame(
        {
            "report_id": ["ok1", "bad", "ok2"],
            "report": ["No effusion.", f"{marker} small effusion.", "Cardiomegaly."],
        }
    ).to_csv(p, index=False)
    caplog.set_level(logging.DEBUG)
    res = invoke(runner, "label", p, "-o", tmp_path / "o.csv", "--verbose")
    assert res.exit_code == 0, res.output
    assert [r["report_id"] for r in csv_rows(tmp_path / "o.csv")] == ["ok1", "ok2"]
    assert csv_rows(tmp_path / "o.rejects.csv") == [
        {"report_id": "bad", "code": "RL111", "reason": "pipeline error (RuntimeError)"}
    ]
    assert any("'bad'" in r.getMessage() for r in caplog.records)
    captured = res.stdout + res.stderr + caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert marker not in captured
    assert marker not in (tmp_path / "o.rejects.csv").read_text(encoding="utf-8")


# ------------------------------------------------------------------ assertion
def test_assertion_command(runner, tmp_path: Path) -> None:
    rows = [
        ("a1", "No pleural effusion.", "pleural effusion"),
        ("a2", "Possible right lower lobe pneumonia.", "pneumonia"),
        ("a3", "Evaluate for pneumothorax.", "pneumothorax"),
        ("a4", "Small left pleural effusion.", "pleural effusion"),
        ("a5", "Mother has lung cancer.", "lung cancer"),
        ("a6", "Old healed rib fracture.", "rib fracture"),
    ]
    data = [(rid, text, text.index(t), text.index(t) + len(t)) for rid, text, t in rows]
    data.append(("a7", "No effusion.", 3, 99))  # span outside the text
    data.append(("a8", "No effusion.", "x", 8))  # not an integer
    p = tmp_path / "targets.csv"
    pd.DataFrame(data, columns=["id", "text", "start", "end"]).to_csv(p, index=False)
    res = invoke(runner, "assertion", p, "-o", tmp_path / "status.csv")
    assert res.exit_code == 0, res.output
    assert csv_rows(tmp_path / "status.csv") == [
        {"id": "a1", "assertion": "absent"},
        {"id": "a2", "assertion": "possible"},
        {"id": "a3", "assertion": "hypothetical"},
        {"id": "a4", "assertion": "present"},
        {"id": "a5", "assertion": "other"},
        {"id": "a6", "assertion": "historical"},
    ]
    assert csv_rows(tmp_path / "status.rejects.csv") == [
        {"id": "a7", "code": "RL121", "reason": "span 3:99 is outside the text (length 12)"},
        {"id": "a8", "code": "RL120", "reason": "start/end are not integers"},
    ]


def test_assertion_command_missing_columns(runner, tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("id,text\na,No effusion.\n", encoding="utf-8")
    res = invoke(runner, "assertion", p, "-o", tmp_path / "s.csv")
    line = _error_line(res, "RL101")
    assert "has no column 'start'; columns are: id, text" in line


# ------------------------------------------------------------------ evaluate
def test_evaluate_command(runner, tmp_path: Path) -> None:
    (tmp_path / "pred.csv").write_text(
        "report_id,Cardiomegaly,Edema\nr1,1.0,-1.0\nr2,1.0,0.0\nr3,0.0,1.0\nr4,,0.0\n", encoding="utf-8"
    )
    (tmp_path / "gold.csv").write_text(
        "report_id,Cardiomegaly,Edema\nr1,1,-1\nr2,0,0\nr3,1,\nr4,,1\n", encoding="utf-8"
    )
    res = invoke(
        runner,
        "evaluate",
        tmp_path / "pred.csv",
        tmp_path / "gold.csv",
        "--json",
        tmp_path / "m" / "metrics.json",
    )
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["label", "pos", "F1", "neg", "F1", "unc", "F1", "wF1", "support"]
    assert lines[1].split() == ["Cardiomegaly", "0.500", "0.000", "0.000", "0.333", "3"]
    assert lines[2].split() == ["Edema", "0.000", "0.667", "1.000", "0.556", "3"]
    assert lines[-1] == "reports scored: 4 (missing in predictions: 0, not in gold: 0)"
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["mode"] == "full"
    assert metrics["labels"]["Cardiomegaly"]["positive"]["f1"] == 0.5
    assert metrics["labels"]["Edema"]["negative"]["f1"] == pytest.approx(2 / 3)
    assert metrics["macro"]["weighted_f1"] == pytest.approx((1 / 3 + 5 / 9) / 2)

    res = invoke(
        runner,
        "evaluate",
        tmp_path / "pred.csv",
        tmp_path / "gold.csv",
        "--positive-only",
        "--json",
        tmp_path / "p.json",
    )
    assert res.exit_code == 0
    metrics = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert metrics["labels"]["Cardiomegaly"]["f1"] == 0.5  # tp r1, fp r2, fn r3
    assert metrics["labels"]["Edema"]["f1"] == 0.0  # fp r3, fn r4
    assert metrics["macro"]["f1"] == 0.25


def test_evaluate_command_bad_gold_cell(runner, tmp_path: Path) -> None:
    (tmp_path / "pred.csv").write_text("report_id,Edema\nr1,1.0\n", encoding="utf-8")
    (tmp_path / "gold.csv").write_text("report_id,Edema\nr1,2\n", encoding="utf-8")
    res = invoke(runner, "evaluate", tmp_path / "pred.csv", tmp_path / "gold.csv")
    line = _error_line(res, "RL500")
    assert (
        line
        == "error [RL500] label table gold.csv: row 2, column 'Edema' holds a value that is not 1, 0, -1 "
        "or blank"
    )


def test_progress_is_printed_as_plain_lines_when_stderr_is_not_a_terminal(tmp_path):
    import subprocess
    import sys

    ex = Path(__file__).resolve().parents[1] / "examples" / "reports.csv"
    res = subprocess.run(
        [sys.executable, "-m", "reportlab_nlp.cli", "label", str(ex), "-o", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0
    # one plain line every 10 s and one at the end: a slow or busy machine prints some before the
    # end ("labelling: 2 records, 16 s, 0 reports/s"), so only the last one counts every record
    lines = res.stderr.splitlines()
    line = re.compile(r"labelling: (\d+) records, \d+ s(, \d+ reports/s)?")
    progress = [m for m in map(line.fullmatch, lines) if m]
    assert progress and lines[0] == progress[0].group(0)
    counts = [int(m.group(1)) for m in progress]
    assert counts == sorted(counts) and counts[-1] == 30 and progress[-1].group(0).endswith(" reports/s")
