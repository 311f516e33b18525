"""The archive runner (``reportlab_nlp.batch.run_archive``): exact outputs, rejects, resume, progress.

A tiny fake engine pins the runner's own behaviour; then each real engine (rules, deid, model)
goes through it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from reportlab_nlp.batch import LocalExecutor, Result, RunSummary, Work, run_archive, sinks
from reportlab_nlp.batch.executors import piece_size_for
from reportlab_nlp.batch.summary import add_counts
from reportlab_nlp.inputs import Reject, ReportSource

ARCHIVE = (
    "report_id,report\n"
    "a1,Heart normal.\n"
    "a2,BAD record\n"
    "a3,Lungs clear.\n"
    "a1,Duplicate id.\n"
    "a4,No effusion.\n"
    "a5,Stable.\n"
    "a6,BAD again\n"
    "a7,Mild cardiomegaly.\n"
)


class LengthEngine:
    """Writes each report's length; rejects texts starting with BAD (code RL111, no text in the reason)."""

    name = "length"
    splittable = True

    def __init__(self, crash_on_chunk: int | None = None):
        self.crash_on_chunk = crash_on_chunk
        self.setups = 0

    def setup(self) -> None:
        self.setups += 1

    def process(self, work: Work) -> Result:
        if work.chunk == self.crash_on_chunk:
            raise KeyboardInterrupt
        ids, lengths, rejects = [], [], []
        for rid, text in zip(work.ids, work.texts):
            if text.startswith("BAD"):
                rejects.append(Reject(rid, "refused by the fake engine", "RL111"))
                continue
            ids.append(rid)
            lengths.append(float(len(text)))
        frame = pd.DataFrame({work.id_column: ids, "length": lengths})
        ev = [{"report_id": r, "chunk": work.chunk} for r in ids]
        return Result({"labels": frame, "evidence": ev}, rejects, len(ids), {"chars": int(sum(lengths))})

    def options(self) -> dict:
        return {"fake": True}

    def rules_hash(self) -> str:
        return "no-rules"


def _sinks(folder: Path) -> list:
    return [
        sinks.label_table(folder / "out.csv", "report_id", ["length"]),
        sinks.rejects(folder / "out.rejects.csv", "report_id"),
        sinks.evidence(folder / "ev.jsonl"),
    ]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    p = tmp_path / "in.csv"
    p.write_text(ARCHIVE)
    return p


def test_fake_engine_exact_outputs_rejects_and_progress(archive, tmp_path):
    out = tmp_path / "run"
    seen: list[int] = []
    engine = LengthEngine()
    summary = run_archive(ReportSource(archive), engine, _sinks(out), chunk_size=3, on_progress=seen.append)
    assert (out / "out.csv").read_text() == ("report_id,length\na1,13.0\na3,12.0\na4,12.0\na5,7.0\na7,18.0\n")
    assert (out / "out.rejects.csv").read_text() == (
        "report_id,code,reason\n"
        "a2,RL111,refused by the fake engine\n"
        "a1,RL104,duplicate record id\n"
        "a6,RL111,refused by the fake engine\n"
    )
    assert [json.loads(line) for line in (out / "ev.jsonl").read_text().splitlines()] == [
        {"report_id": "a1", "chunk": 0},
        {"report_id": "a3", "chunk": 0},
        {"report_id": "a4", "chunk": 1},
        {"report_id": "a5", "chunk": 1},
        {"report_id": "a7", "chunk": 2},
    ]
    assert seen == [3, 3, 2]  # records read per chunk, reader rejects included
    assert (summary.rows_in, summary.rows_out, summary.rejects) == (8, 5, 3)
    assert summary.counters["chars"] == 62 and summary.engine == "length" and summary.executor == "local"
    assert summary.rejects_path == str(out / "out.rejects.csv")
    assert summary.outputs["evidence"] == str(out / "ev.jsonl") and summary.evidence == str(out / "ev.jsonl")
    assert engine.setups == 1
    assert not (out / "out.csv.partial").exists()


def test_resume_after_a_crash_gives_identical_files(archive, tmp_path):
    ref = tmp_path / "ref"
    run_archive(ReportSource(archive), LengthEngine(), _sinks(ref), chunk_size=3)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_archive(ReportSource(archive), LengthEngine(crash_on_chunk=2), _sinks(out), chunk_size=3)
    manifest = json.loads((out / "out.csv.partial" / "manifest.json").read_text())
    assert manifest["completed_chunks"] == 2 and manifest["counters"]["rows_in"] == 6
    assert _files(out) == {}  # nothing at the final names
    summary = run_archive(ReportSource(archive), LengthEngine(), _sinks(out), chunk_size=3, resume=True)
    assert summary.notes == ["resumed after 2 completed chunk(s)"]
    assert (summary.rows_in, summary.rows_out, summary.rejects, summary.counters["chars"]) == (8, 5, 3, 62)
    assert _files(out) == _files(ref)


def test_resume_refuses_other_engine_options(archive, tmp_path):
    from reportlab_nlp.errors import ResumeError

    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_archive(ReportSource(archive), LengthEngine(crash_on_chunk=1), _sinks(out), chunk_size=3)

    class Other(LengthEngine):
        def options(self) -> dict:
            return {"fake": False}

    with pytest.raises(ResumeError) as err:
        run_archive(ReportSource(archive), Other(), _sinks(out), chunk_size=3, resume=True)
    assert err.value.code == "RL303" and "options.fake" in str(err.value)


def test_a_process_pool_gives_the_same_bytes(archive, tmp_path):
    run_archive(ReportSource(archive), LengthEngine(), _sinks(tmp_path / "one"), chunk_size=3)
    summary = run_archive(
        ReportSource(archive),
        LengthEngine(),
        _sinks(tmp_path / "two"),
        chunk_size=3,
        executor=LocalExecutor(2),
    )
    assert _files(tmp_path / "two") == _files(tmp_path / "one") and summary.rows_out == 5


def test_pieces_merge_in_order_and_counts_add_up():
    frame = pd.DataFrame({"id": ["a", "b", "c", "d", "e"], "t": ["x"] * 5})
    pieces = Work(0, frame, "id", "t", [None] * 5).split(2)
    assert [p.ids for p in pieces] == [["a", "b"], ["c", "d"], ["e"]] and [p.piece for p in pieces] == [
        0,
        1,
        2,
    ]
    merged = Result.merge(
        [
            Result(
                {"t": frame.iloc[:2], "j": [{"n": 1}]},
                [Reject("z", "r", "RL111")],
                2,
                {"k": 1, "c": {"A": 1}},
            ),
            Result({"t": frame.iloc[2:], "j": [{"n": 2}]}, [], 3, {"k": 2, "c": {"A": 1, "B": 4}}),
        ]
    )
    assert merged.outputs["t"]["id"].tolist() == ["a", "b", "c", "d", "e"]
    assert merged.outputs["j"] == [{"n": 1}, {"n": 2}] and merged.rows_out == 5
    assert merged.counters == {"k": 3, "c": {"A": 2, "B": 4}} and [r.record_id for r in merged.rejects] == [
        "z"
    ]
    assert add_counts({"a": 1, "s": "x"}, {"a": 2, "s": "y"}) == {"a": 3, "s": "y"}
    assert piece_size_for(2000, 1) == 256 and piece_size_for(25, 1) == 16 and piece_size_for(600, 2) == 150


def test_summary_as_dict():
    s = RunSummary(rows_in=3, rows_out=2, rejects=1, seconds=2.0, counters={"mentions": 4})
    d = s.as_dict()
    assert (d["rows_in"], d["rows_out"], d["rejects"], d["mentions"], d["reports_per_second"]) == (
        3,
        2,
        1,
        4,
        1.0,
    )


def test_the_batch_package_loads_no_domain_module():
    import subprocess

    code = (
        "import sys, reportlab_nlp.batch as b; "
        "bad = [m for m in ('spacy', 'medspacy', 'torch', 'ray', 'reportlab_nlp.labeler', "
        "'reportlab_nlp.deid.pipeline', 'reportlab_nlp.model.labeling', 'reportlab_nlp.cli') "
        "if m in sys.modules]; "
        "print(bad)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"


def test_ray_missing_is_a_coded_error(monkeypatch):
    import builtins

    from reportlab_nlp.batch import make_executor
    from reportlab_nlp.errors import ReportLabError

    real = builtins.__import__

    def no_ray(name, *a, **k):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("no ray here")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ReportLabError) as err:
        make_executor("ray", workers=2)
    assert err.value.code == "RL320" and "pip install 'reportlab-nlp[ray]'" in str(err.value)


# ------------------------------------------------------------------ real engines through the runner
def test_rules_engine_through_the_runner(tmp_path, rule_nlp):
    from reportlab_nlp.labeler import PipelineSpec, RulesEngine

    p = tmp_path / "r.csv"
    p.write_text(
        "report_id,report\n"
        "r1,FINDINGS: The heart is enlarged. No pleural effusion.\n"
        "r2,FINDINGS: No pneumothorax.\n"
    )
    engine = RulesEngine(PipelineSpec(), ("Cardiomegaly", "Pleural Effusion", "Pneumothorax"), True)
    out = tmp_path / "o"
    summary = run_archive(
        ReportSource(p),
        engine,
        [
            sinks.label_table(out / "l.csv", "report_id", engine.label_names),
            sinks.rejects(out / "l.rejects.csv", "report_id"),
            sinks.evidence(out / "m.jsonl"),
        ],
        chunk_size=1,
    )
    assert (out / "l.csv").read_text() == (
        "report_id,Cardiomegaly,Pleural Effusion,Pneumothorax\nr1,1.0,0.0,\nr2,,,0.0\n"
    )
    ev = [json.loads(line) for line in (out / "m.jsonl").read_text().splitlines()]
    assert [(e["report_id"], e["label"], e["value"]) for e in ev] == [
        ("r1", "Cardiomegaly", 1.0),
        ("r1", "Pleural Effusion", 0.0),
        ("r2", "Pneumothorax", 0.0),
    ]
    assert (summary.rows_in, summary.rows_out, summary.rejects, summary.mentions) == (2, 2, 0, 3)


def test_deid_engine_through_the_runner_with_a_pool(tmp_path):
    from reportlab_nlp.deid.pipeline import DeidEngine

    p = tmp_path / "d.csv"
    p.write_text(
        "report_id,report\n"
        "d1,Seen by Dr. Smith on 01/02/2019.\n"
        "d2,No acute process.\n"
        "d3,Call 617-555-0123 with results.\n"
    )
    outs = tmp_path / "o"

    def run(folder: Path, workers: int) -> RunSummary:
        return run_archive(
            ReportSource(p),
            DeidEngine("mask"),
            [
                sinks.table("output", folder / "d.csv", ["report_id", "report"]),
                sinks.rejects(folder / "d.rejects.csv", "report_id"),
                sinks.spans(folder / "s.csv", "report_id"),
            ],
            chunk_size=2,
            executor=LocalExecutor(workers),
        )

    s1 = run(outs / "one", 1)
    assert (outs / "one" / "d.csv").read_text() == (
        "report_id,report\nd1,Seen by Dr. [NAME] on [DATE].\nd2,No acute process.\n"
        "d3,Call [PHONE] with results.\n"
    )
    assert (outs / "one" / "s.csv").read_text() == (
        "report_id,start,end,category\nd1,12,17,NAME\nd1,21,31,DATE\nd3,5,17,PHONE\n"
    )
    assert s1.counters["spans"] == {"NAME": 1, "DATE": 1, "PHONE": 1} and s1.rows_out == 3
    run(outs / "two", 2)
    assert _files(outs / "two") == _files(outs / "one")


def test_model_engine_resumes_after_a_crash(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("REPORTLAB_NLP_PRECISION", "fp32")
    sys.path.insert(0, str(Path(__file__).parent))
    from runner_fixtures import tiny_model

    from reportlab_nlp.model import labeling

    model, reports = tiny_model(tmp_path / "m", 30)
    kw = dict(model_dir=model, engine="model", chunk_size=8, show_progress=False, device="cpu")
    ref = tmp_path / "ref"
    s_ref = labeling.label_archive_with_model(reports, ref / "l.csv", evidence_path=ref / "e.jsonl", **kw)
    real = labeling.ModelEngine.process

    def dying(self, work):
        if work.chunk == 2:
            raise KeyboardInterrupt
        return real(self, work)

    out = tmp_path / "run"
    monkeypatch.setattr(labeling.ModelEngine, "process", dying)
    with pytest.raises(KeyboardInterrupt):
        labeling.label_archive_with_model(reports, out / "l.csv", evidence_path=out / "e.jsonl", **kw)
    assert _files(out) == {}
    monkeypatch.setattr(labeling.ModelEngine, "process", real)
    s = labeling.label_archive_with_model(
        reports, out / "l.csv", evidence_path=out / "e.jsonl", resume=True, **kw
    )
    assert s["notes"] == ["resumed after 2 completed chunk(s)"]
    assert (
        (s["rows_in"], s["rows_out"], s["rejects"]) == (s_ref["rows_in"], s_ref["rows_out"], 0) == (30, 30, 0)
    )
    assert s["windows"] == s_ref["windows"]
    assert _files(out) == _files(ref)


def test_cli_rejects_an_unknown_executor_and_explains_a_missing_ray(tmp_path, monkeypatch):
    import builtins

    from typer.testing import CliRunner

    from reportlab_nlp.cli import app

    p = tmp_path / "in.csv"
    p.write_text(ARCHIVE)
    res = CliRunner().invoke(app, ["label", str(p), "-o", str(tmp_path / "o.csv"), "--executor", "spark"])
    assert (
        res.exit_code == 2 and "[RL020] unknown --executor 'spark'; expected one of local, ray" in res.output
    )
    real = builtins.__import__

    def no_ray(name, *a, **k):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("no ray here")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    for cmd in (["label"], ["deid"]):
        res = CliRunner().invoke(app, [*cmd, str(p), "-o", str(tmp_path / "o.csv"), "--executor", "ray"])
        assert res.exit_code == 2 and "[RL320]" in res.output and "reportlab-nlp[ray]" in res.output
        assert res.exception is None or isinstance(res.exception, SystemExit)
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.csv.partial").exists()
