"""Archives: all columns kept, fail closed, spans file, audit, no text in logs; evaluation metrics."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from reportlab_nlp.deid import Deidentifier, Detector, deidentify_archive, evaluate_spans
from reportlab_nlp.deid.synthetic import generate

SECRET = b"test-secret-0123456789"
TEXTS = {
    "r1": "Patient: John Smith\nSeen by Dr. Jones on 01/02/2019. Kerley B lines.",
    "r2": "No acute cardiopulmonary process.",
    "r3": "SECRETWORD discussed with Dr. Brown at 14:32.",
}


@pytest.fixture(scope="module")
def det():
    return Detector(times=True)  # the synthetic reports and these fixtures carry times


def write_reports(tmp_path):
    df = pd.DataFrame(
        {
            "report_id": list(TEXTS),
            "patient_id": ["p1", "p1", "p2"],
            "site": ["a", "b", "c"],
            "report": list(TEXTS.values()),
        }
    )
    path = tmp_path / "reports.csv"
    df.to_csv(path, index=False)
    return path


def test_archive_mask_keeps_columns_and_writes_spans(tmp_path):
    src = write_reports(tmp_path)
    audit = deidentify_archive(
        src,
        tmp_path / "out.csv",
        mode="mask",
        spans_path=tmp_path / "phi.csv",
        audit_path=tmp_path / "audit.json",
        times=True,
    )
    out = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert list(out.columns) == ["report_id", "patient_id", "site", "report"]
    assert out.report.tolist() == [
        "Patient: [NAME]\nSeen by Dr. [NAME] on [DATE]. Kerley B lines.",
        "No acute cardiopulmonary process.",
        "SECRETWORD discussed with Dr. [NAME] at [TIME].",
    ]
    spans = pd.read_csv(tmp_path / "phi.csv")
    assert list(spans.columns) == ["report_id", "start", "end", "category"]
    assert spans.values.tolist() == [
        ["r1", 9, 19, "NAME"],
        ["r1", 32, 37, "NAME"],
        ["r1", 41, 51, "DATE"],
        ["r3", 30, 35, "NAME"],
        ["r3", 39, 44, "TIME"],
    ]
    assert audit.records_in == 3 and audit.records_out == 3 and audit.records_rejected == 0
    summary = json.loads((tmp_path / "audit.json").read_text())
    assert summary["spans_by_category"]["NAME"] == 3 and summary["spans_total"] == 5


def test_fail_closed_record_that_raises_is_withheld(tmp_path, monkeypatch, caplog):
    src = write_reports(tmp_path)
    real = Detector.detect

    def flaky(self, text):
        if "SECRETWORD" in text:
            raise RuntimeError("boom " + text)  # even an exception holding text must not leak
        return real(self, text)

    monkeypatch.setattr(Detector, "detect", flaky)
    caplog.set_level(logging.DEBUG)
    audit = deidentify_archive(
        src,
        tmp_path / "out.csv",
        mode="surrogate",
        secret=SECRET,
        group_column="patient_id",
        rejects_path=tmp_path / "rej.csv",
    )
    out = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert out.report_id.tolist() == ["r1", "r2"]
    rej = pd.read_csv(tmp_path / "rej.csv", dtype=str)
    assert rej.values.tolist() == [
        ["r3", "RL610", "de-identification failed (RuntimeError); record withheld"]
    ]
    assert audit.records_in == 3 and audit.records_out + audit.records_rejected == 3
    assert "SECRETWORD" not in (tmp_path / "rej.csv").read_text()
    assert "SECRETWORD" not in (tmp_path / "out.csv").read_text()
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "SECRETWORD" not in logged and "Smith" not in logged and "Jones" not in logged


def test_no_text_in_logs(tmp_path, caplog):
    src = write_reports(tmp_path)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="reportlab_nlp")  # the CLI may have raised this logger's level
    deidentify_archive(src, tmp_path / "out.jsonl", mode="surrogate", group_column="patient_id")
    msgs = [r.getMessage() for r in caplog.records]
    assert any("3 records in" in m for m in msgs)
    for m in msgs:
        for word in ("Smith", "Jones", "Brown", "SECRETWORD", "Kerley", "01/02/2019"):
            assert word not in m


def test_tag_mode_writes_only_spans(tmp_path):
    src = write_reports(tmp_path)
    deidentify_archive(src, tmp_path / "tags.csv", mode="tag", times=True)
    tags = pd.read_csv(tmp_path / "tags.csv")
    assert list(tags.columns) == ["report_id", "start", "end", "category"]
    assert len(tags) == 5


def test_dataframe_api_surrogate_group_consistency(det):
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "pid": ["p", "p"],
            "text": ["Dr. Smith on 01/02/2019.", "Dr. Smith on 01/12/2019."],
        }
    )
    res = Deidentifier("surrogate", secret=SECRET, detector=det).process_frame(frame, "id", "text", "pid")
    n1, n2 = res.frame.text.tolist()
    assert n1.split(" on ")[0] == n2.split(" on ")[0] != "Dr. Smith"
    import datetime as dt

    d1 = dt.datetime.strptime(n1.split(" on ")[1].rstrip("."), "%m/%d/%Y")
    d2 = dt.datetime.strptime(n2.split(" on ")[1].rstrip("."), "%m/%d/%Y")
    assert (d2 - d1).days == 10


def test_evaluate_hand_computed():
    texts = {"a": "John Smith seen 01/02/2019 ok", "b": "Call 555-1234 now"}
    # tokens a: John Smith seen 01 02 2019 ok (7); b: Call 555 1234 now (4)
    gold = pd.DataFrame(
        [("a", 0, 10, "NAME"), ("a", 16, 26, "DATE"), ("b", 5, 13, "PHONE")],
        columns=["id", "start", "end", "category"],
    )
    pred = pd.DataFrame(
        [("a", 0, 4, "NAME"), ("a", 16, 26, "DATE"), ("a", 27, 29, "NAME")],
        columns=["id", "start", "end", "category"],
    )
    m = evaluate_spans(pred, gold, texts)
    # pred tokens: John, 01, 02, 2019, ok -> tp 4 (John, 01, 02, 2019), fp 1 (ok);
    # gold missed: Smith, 555, 1234 -> fn 3
    assert (m["token_tp"], m["token_fp"], m["token_fn"]) == (4, 1, 3)
    assert m["token_precision"] == pytest.approx(0.8)
    assert m["token_recall"] == pytest.approx(4 / 7)
    assert m["token_f1"] == pytest.approx(2 * 0.8 * (4 / 7) / (0.8 + 4 / 7))
    assert m["instance_recall"] == pytest.approx(2 / 3)
    assert m["per_category"]["PHONE"] == {"gold_spans": 1, "instance_recall": 0.0, "token_recall": 0.0}
    assert m["per_category"]["NAME"] == {"gold_spans": 1, "instance_recall": 1.0, "token_recall": 0.5}
    assert m["flag_rate"] == pytest.approx(5 / 11)


def test_synthetic_generator_is_deterministic_and_spans_are_valid():
    r1, g1 = generate(40, seed=3)
    r2, g2 = generate(40, seed=3)
    assert r1.equals(r2) and g1.equals(g2)
    texts = dict(zip(r1.report_id, r1.report))
    for row in g1.itertuples(index=False):
        piece = texts[row.report_id][row.start : row.end]
        assert piece == piece.strip() and piece
    assert len(r1) == 40 and set(r1.columns) == {"report_id", "patient_id", "report"}


def test_synthetic_benchmark_acceptance(det):
    reports, gold = generate(300, seed=21)
    rows = [
        (rid, s.start, s.end, s.category)
        for rid, t in zip(reports.report_id, reports.report)
        for s in det.detect(t)
    ]
    pred = pd.DataFrame(rows, columns=["id", "start", "end", "category"])
    m = evaluate_spans(
        pred, gold.rename(columns={"report_id": "id"}), dict(zip(reports.report_id, reports.report))
    )
    assert m["instance_recall"] >= 0.99
    assert m["token_precision"] >= 0.90
    assert all(v["instance_recall"] >= 0.97 for v in m["per_category"].values())
    assert len(m["per_category"]) == 15
