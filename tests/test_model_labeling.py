"""`train` CLI -> `label --engine model|hybrid`: output format, rejects, windows, hybrid policy,
review file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")
from typer.testing import CliRunner

from reportlab_nlp.cli import app
from reportlab_nlp.errors import ModelError
from reportlab_nlp.model.inference import Predictor
from reportlab_nlp.model.labeling import HYBRID_FILL_PROBABILITY, label_archive_with_model, merge_hybrid
from reportlab_nlp.model.modeling import LabelerSpec, class_to_value
from reportlab_nlp.outputs import read_label_table

sys.path.insert(0, str(Path(__file__).parent))
from test_model import EFFUSION, LABELS, build_world


@pytest.fixture(autouse=True)
def exact_cpu_engine(monkeypatch):
    """fp32 on CPU: int8 engines quantise activations per batch, so cells could differ with batch
    composition."""
    monkeypatch.setenv("REPORTLAB_NLP_PRECISION", "fp32")


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory):
    w = build_world(tmp_path_factory.mktemp("cli"), 80, 5, "T")
    d, texts, rows, ids, enc = w["dir"], w["texts"], w["rows"], w["ids"], w["encoder"]
    res = CliRunner().invoke(
        app,
        [
            "train",
            str(d / "reports.csv"),
            "--labels",
            str(d / "weak.csv"),
            "-o",
            str(d / "model"),
            "--encoder",
            str(enc),
            "--taxonomy",
            str(d / "tiny.yml"),
            "--epochs",
            "16",
            "--batch-size",
            "8",
            "--lr",
            "3e-3",
            "--head-lr",
            "5e-3",
            "--max-length",
            "32",
            "--window-overlap",
            "8",
            "--patience",
            "16",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--quiet",
            "--no-augment-sentences",
        ],
    )
    assert res.exit_code == 0, res.output
    return {
        "dir": d,
        "model": d / "model",
        "texts": texts,
        "rows": rows,
        "ids": ids,
        "cli_output": res.output,
    }


def test_train_cli_writes_a_loadable_model_and_report(cli_model):
    m = cli_model["model"]
    assert (
        "trained on 72 reports + 0 rule-labeled sentences + 0 mention swaps (validation 8 reports"
        in _flat(cli_model["cli_output"])
    )
    assert (m / "training_report.md").exists() and (m / "checkpoints" / "last" / "state.pt").exists()
    assert (m / "taxonomy.yml").exists()  # a user taxonomy travels with the model
    schema = json.loads((m / "label_schema.json").read_text())
    assert schema["label_names"] == LABELS and schema["no_finding"] == "No Finding"
    assert schema["finding_labels"] == ["Cardiomegaly", "Pleural Effusion"]


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps long lines


def test_train_cli_errors_are_one_line_with_code(cli_model, tmp_path):
    d = cli_model["dir"]
    res = CliRunner().invoke(
        app,
        [
            "train",
            str(d / "reports.csv"),
            "--labels",
            str(tmp_path / "missing.csv"),
            "-o",
            str(tmp_path / "m"),
            "--taxonomy",
            str(d / "tiny.yml"),
        ],
    )
    assert res.exit_code == 2 and "[RL500]" in res.output and "does not exist" in _flat(res.output)
    res = CliRunner().invoke(
        app,
        [
            "train",
            str(d / "reports.csv"),
            "--labels",
            str(d / "weak.csv"),
            "-o",
            str(tmp_path / "m"),
            "--taxonomy",
            str(d / "tiny.yml"),
            "--encoder",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 2 and "[RL400]" in res.output and "has no config.json" in _flat(res.output)
    res = CliRunner().invoke(
        app,
        [
            "train",
            str(d / "reports.csv"),
            "--labels",
            str(d / "weak.csv"),
            "-o",
            str(tmp_path / "m"),
            "--taxonomy",
            str(d / "tiny.yml"),
            "--encoder",
            str(d / "encoder"),
            "--device",
            "tpu",
        ],
    )
    assert res.exit_code == 2 and "unknown device 'tpu'" in _flat(res.output)


def _input_with_bad_records(d: Path, texts, ids) -> Path:
    long_text = " ".join(texts[:8])  # beyond the 32-token window
    frame = pd.DataFrame(
        {
            "accession": [*ids[:20], "LONG", "EMPTY", ids[0]],
            "body": [*texts[:20], long_text, "   ", "duplicate id"],
        }
    )
    path = d / "to_label.csv"
    frame.to_csv(path, index=False)
    return path


def test_label_engine_model_output_matches_rule_table_format(cli_model, tmp_path):
    inp = _input_with_bad_records(tmp_path, cli_model["texts"], cli_model["ids"])
    out = tmp_path / "labels.csv"
    s = label_archive_with_model(
        inp,
        out,
        model_dir=cli_model["model"],
        engine="model",
        evidence_path=tmp_path / "ev.jsonl",
        batch_size=4,
        device="cpu",
        chunk_size=7,
        show_progress=False,
    )
    assert s["rows_in"] == 23 and s["rows_out"] == 21 and s["rejects"] == 2
    assert s["windowed_reports"] == 1 and s["windows"] > 21
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table.columns) == ["accession", *LABELS]
    assert table["accession"].tolist() == [*cli_model["ids"][:20], "LONG"]
    assert set(table[LABELS].to_numpy().ravel()) <= {"1.0", "0.0", "-1.0", ""}
    rej = pd.read_csv(tmp_path / "labels.rejects.csv", dtype=str)
    assert rej.to_dict("records") == [
        {"accession": "EMPTY", "code": "RL107", "reason": "report text is empty"},
        {"accession": cli_model["ids"][0], "code": "RL104", "reason": "duplicate record id"},
    ]
    # the cells are the model's argmax classes (same engine and precision as the run)
    pred = Predictor(cli_model["model"], device="cpu", precision=s["precision"], threads=1)
    probs, _ = pred.predict([*cli_model["texts"][:20], " ".join(cli_model["texts"][:8])])
    got, _ = read_label_table(out, LABELS)
    expected = np.vectorize(lambda c: np.nan if class_to_value(c) is None else class_to_value(c))(
        probs.argmax(-1)
    ).astype(float)
    np.testing.assert_array_equal(got[LABELS].to_numpy(float), expected)
    ev = [json.loads(l) for l in (tmp_path / "ev.jsonl").read_text().splitlines()]
    assert len(ev) == int((~np.isnan(expected)).sum()) and {e["source"] for e in ev} == {"model"}
    # the trained tiny model reproduces the weak labels of its training reports
    gold = np.array([[np.nan if r[n] is None else r[n] for n in LABELS] for r in cli_model["rows"][:20]])
    same = (np.isnan(gold) & np.isnan(expected[:20])) | (gold == expected[:20])
    assert same.mean() >= 0.85


def test_label_parquet_output_and_unknown_engine(cli_model, tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text(
        "\n".join(
            json.dumps({"report_id": i, "text": t})
            for i, t in zip(cli_model["ids"][:5], cli_model["texts"][:5])
        )
        + "\n"
    )
    s = label_archive_with_model(
        inp,
        tmp_path / "o.parquet",
        model_dir=cli_model["model"],
        engine="model",
        device="cpu",
        show_progress=False,
    )
    got = pd.read_parquet(tmp_path / "o.parquet")
    assert list(got.columns) == ["report_id", *LABELS] and len(got) == 5 and s["rejects"] == 0
    with pytest.raises(ModelError, match="unknown engine"):
        label_archive_with_model(
            inp, tmp_path / "o.csv", model_dir=cli_model["model"], engine="rules", show_progress=False
        )
    with pytest.raises(ModelError, match="not a trained labeler"):
        label_archive_with_model(
            inp, tmp_path / "o.csv", model_dir=tmp_path, engine="model", show_progress=False
        )


# -- hybrid ---------------------------------------------------------------------------------
SPEC = LabelerSpec(
    label_names=LABELS, no_finding="No Finding", finding_labels=["Cardiomegaly", "Pleural Effusion"]
)


def test_merge_hybrid_policy():
    rule = {"No Finding": 1.0, "Cardiomegaly": None, "Pleural Effusion": 0.0}
    # rules win where they speak; model fills a blank when confident; No Finding cleared by a positive finding
    final, src = merge_hybrid(
        rule,
        {"No Finding": None, "Cardiomegaly": 1.0, "Pleural Effusion": 1.0},
        {"No Finding": 0.9, "Cardiomegaly": 0.8, "Pleural Effusion": 0.99},
        SPEC,
    )
    assert final == {"No Finding": None, "Cardiomegaly": 1.0, "Pleural Effusion": 0.0}
    assert src == {"Cardiomegaly": "model", "Pleural Effusion": "rules"}
    # an unconfident model value does not fill the blank
    final, src = merge_hybrid(
        rule,
        {"No Finding": 1.0, "Cardiomegaly": 1.0, "Pleural Effusion": 0.0},
        {"No Finding": 0.9, "Cardiomegaly": HYBRID_FILL_PROBABILITY - 0.01, "Pleural Effusion": 0.9},
        SPEC,
    )
    assert final == {"No Finding": 1.0, "Cardiomegaly": None, "Pleural Effusion": 0.0}
    # a negative finding from the model keeps No Finding
    final, _ = merge_hybrid(
        rule,
        {"No Finding": 1.0, "Cardiomegaly": 0.0, "Pleural Effusion": 0.0},
        {"No Finding": 0.9, "Cardiomegaly": 0.7, "Pleural Effusion": 0.9},
        SPEC,
    )
    assert final == {"No Finding": 1.0, "Cardiomegaly": 0.0, "Pleural Effusion": 0.0}


class _FakeResult:
    def __init__(self, labels, mentions):
        self.labels, self.mentions = labels, mentions


def test_hybrid_writes_review_of_every_disagreement(cli_model, tmp_path, monkeypatch):
    """Rules are replaced by a fixed stand-in so the expected review rows are known exactly."""
    import reportlab_nlp.labeler as labeler_mod

    def fake_rules(texts, taxonomy="chexpert", *, ids=None, evidence=True, **kw):
        assert Path(taxonomy).name == "taxonomy.yml"  # the model's own taxonomy
        out = []
        for rid, t in zip(ids, texts):
            # the stand-in "rules" only know effusion sentences, and always say No Finding
            e = next((v for v, s in EFFUSION.items() if s and s in t), None)
            out.append(
                _FakeResult(
                    {"No Finding": 1.0, "Cardiomegaly": None, "Pleural Effusion": e},
                    [{"report_id": rid, "label": "Pleural Effusion", "observation": "pleural_effusion"}]
                    if e is not None
                    else [],
                )
            )
        return out

    monkeypatch.setattr(labeler_mod, "label_texts", fake_rules)
    texts, ids = cli_model["texts"][:15], cli_model["ids"][:15]
    inp = tmp_path / "in.csv"
    pd.DataFrame({"report_id": ids, "report": texts}).to_csv(inp, index=False)
    s = label_archive_with_model(
        inp,
        tmp_path / "h.csv",
        model_dir=cli_model["model"],
        engine="hybrid",
        review_path=tmp_path / "review.csv",
        evidence_path=tmp_path / "ev.jsonl",
        device="cpu",
        chunk_size=4,
        show_progress=False,
    )
    pred = Predictor(cli_model["model"], device="cpu", precision=s["precision"], threads=1)
    probs, _ = pred.predict(texts)
    rules = fake_rules(texts, str(cli_model["model"] / "taxonomy.yml"), ids=ids)
    exp_review, exp_rows = [], []
    for i, rid in enumerate(ids):
        mv = {n: class_to_value(probs[i, j].argmax()) for j, n in enumerate(LABELS)}
        mp = {n: float(probs[i, j].max()) for j, n in enumerate(LABELS)}
        final, _ = merge_hybrid(rules[i].labels, mv, mp, SPEC)
        exp_rows.append([np.nan if final[n] is None else final[n] for n in LABELS])
        for n in LABELS:
            rv = rules[i].labels[n]
            if not ((rv is None and mv[n] is None) or (rv is not None and mv[n] is not None and rv == mv[n])):
                exp_review.append((rid, n, rv, mv[n], round(mp[n], 4), final[n]))
    review = pd.read_csv(tmp_path / "review.csv", dtype={"report_id": str})
    assert list(review.columns) == [
        "report_id",
        "label",
        "rule_value",
        "model_value",
        "model_probability",
        "final_value",
    ]
    got_review = [
        (
            r.report_id,
            r.label,
            None if pd.isna(r.rule_value) else r.rule_value,
            None if pd.isna(r.model_value) else r.model_value,
            round(r.model_probability, 4),
            None if pd.isna(r.final_value) else r.final_value,
        )
        for r in review.itertuples()
    ]
    assert got_review == exp_review and s["disagreements"] == len(exp_review) > 0
    got, _ = read_label_table(tmp_path / "h.csv", LABELS)
    np.testing.assert_array_equal(got[LABELS].to_numpy(float), np.array(exp_rows, dtype=float))
    ev = [json.loads(l) for l in (tmp_path / "ev.jsonl").read_text().splitlines()]
    assert {e["source"] for e in ev} <= {"rules", "model"}
    assert sum(e["source"] == "rules" for e in ev) == sum(1 for r in rules for _ in r.mentions)
    assert sum(e["source"] == "model" for e in ev) == s["model_filled"]


def test_hybrid_rejects_a_record_the_rules_fail_on(cli_model, tmp_path, monkeypatch):
    import reportlab_nlp.labeler as labeler_mod

    def flaky_rules(texts, taxonomy="chexpert", *, ids=None, evidence=True, **kw):
        if "BOOM" in " ".join(texts):
            if len(texts) > 1:
                raise RuntimeError("chunk failure")
            raise RuntimeError("record failure")
        return [_FakeResult(dict.fromkeys(LABELS), []) for _ in texts]

    monkeypatch.setattr(labeler_mod, "label_texts", flaky_rules)
    inp = tmp_path / "in.csv"
    pd.DataFrame(
        {"report_id": ["a", "b", "c"], "report": ["Heart size is normal.", "BOOM", "No pleural effusion."]}
    ).to_csv(inp, index=False)
    s = label_archive_with_model(
        inp,
        tmp_path / "h.csv",
        model_dir=cli_model["model"],
        engine="hybrid",
        device="cpu",
        show_progress=False,
    )
    assert (s["rows_in"], s["rows_out"], s["rejects"]) == (3, 2, 1)
    rej = pd.read_csv(tmp_path / "h.rejects.csv", dtype=str).to_dict("records")
    assert rej == [{"report_id": "b", "code": "RL411", "reason": "rule labeling failed (RuntimeError)"}]


def test_label_cli_engine_model_and_hybrid(cli_model, tmp_path, monkeypatch):
    import reportlab_nlp.labeler as labeler_mod

    texts, ids = cli_model["texts"][:10], cli_model["ids"][:10]
    inp = tmp_path / "in.csv"
    pd.DataFrame({"report_id": ids, "report": texts}).to_csv(inp, index=False)
    res = CliRunner().invoke(
        app,
        [
            "label",
            str(inp),
            "-o",
            str(tmp_path / "m.csv"),
            "--engine",
            "model",
            "--model",
            str(cli_model["model"]),
            "--device",
            "cpu",
            "--batch-size",
            "3",
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    label_archive_with_model(
        inp,
        tmp_path / "ref.csv",
        model_dir=cli_model["model"],
        engine="model",
        device="cpu",
        show_progress=False,
    )
    assert (tmp_path / "m.csv").read_text() == (tmp_path / "ref.csv").read_text()

    monkeypatch.setattr(
        labeler_mod,
        "label_texts",
        lambda texts, taxonomy="chexpert", *, ids=None, evidence=True, **kw: [
            _FakeResult({"No Finding": None, "Cardiomegaly": 1.0, "Pleural Effusion": None}, [])
            for _ in texts
        ],
    )
    res = CliRunner().invoke(
        app,
        [
            "label",
            str(inp),
            "-o",
            str(tmp_path / "h.csv"),
            "--engine",
            "hybrid",
            "--model",
            str(cli_model["model"]),
            "--review",
            str(tmp_path / "review.csv"),
            "--device",
            "cpu",
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    hybrid, _ = read_label_table(tmp_path / "h.csv", LABELS)
    assert (hybrid["Cardiomegaly"] == 1.0).all()  # the rules' value wins wherever the rules speak
    review = pd.read_csv(tmp_path / "review.csv", dtype=str, keep_default_na=False)
    model_out, _ = read_label_table(tmp_path / "ref.csv", LABELS)
    assert set(review.loc[review["label"] == "Cardiomegaly", "report_id"]) == set(
        model_out.index[model_out["Cardiomegaly"] != 1.0]
    )
    res = CliRunner().invoke(
        app, ["label", str(inp), "-o", str(tmp_path / "x.csv"), "--engine", "model", "--model", str(tmp_path)]
    )
    assert res.exit_code == 2 and "[RL400]" in res.output
