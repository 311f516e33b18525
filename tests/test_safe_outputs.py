"""Runs a user can trust: outputs never overwrite an input, appear only when complete, and resume.

The kill tests start the real CLI in a subprocess, SIGKILL it at a random moment, resume it and
compare the bytes with an uninterrupted run. The normal suite runs a few; ``--long`` runs 20 of each.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from reportlab_nlp.batch import OutputSpec, StagedRun, guard_paths
from reportlab_nlp.errors import ArgumentError, OutputCollisionError, ReportLabError, ResumeError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "reports.csv"
CLI = [sys.executable, "-m", "reportlab_nlp.cli"]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)


def big_archive(path: Path, copies: int) -> Path:
    """The bundled example repeated with fresh ids (its two broken records included)."""
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    rows = []
    for k in range(copies):
        part = frame.copy()
        part["report_id"] = [f"{rid}-{k}" if rid else "" for rid in part["report_id"]]
        rows.append(part)
    pd.concat(rows, ignore_index=True).to_csv(path, index=False)
    return path


# ------------------------------------------------------------------ never touch an input
@pytest.fixture
def reports(tmp_path):
    p = tmp_path / "in.csv"
    shutil.copy(EXAMPLE, p)
    return p


@pytest.mark.parametrize("flag", ["-o", "--evidence", "--rejects"])
def test_label_refuses_an_output_that_is_the_input(reports, tmp_path, flag):
    before = reports.read_bytes()
    args = ["label", reports, "-o", tmp_path / "labels.csv"]
    if flag == "-o":
        args[3] = reports
    else:
        args += [flag, reports]
    res = run_cli(*args)
    assert res.returncode == 2
    assert "[RL301]" in res.stderr and "Traceback" not in res.stderr
    assert reports.read_bytes() == before
    assert not (tmp_path / "labels.csv").exists()


def test_a_symlink_or_hard_link_to_the_input_is_the_input(reports, tmp_path):
    (tmp_path / "alias.csv").symlink_to(reports)
    os.link(reports, tmp_path / "hard.csv")
    with pytest.raises(OutputCollisionError) as err:
        guard_paths({"input": reports}, {"-o": tmp_path / "alias.csv"})
    assert err.value.code == "RL301"
    with pytest.raises(OutputCollisionError):
        guard_paths({"input": reports}, {"--evidence": tmp_path / "hard.csv"})
    with pytest.raises(OutputCollisionError) as err:
        guard_paths(
            {"input": reports}, {"-o": tmp_path / "x.csv", "--evidence": tmp_path / "sub" / ".." / "x.csv"}
        )
    assert err.value.code == "RL302"
    guard_paths(
        {"input": reports}, {"-o": tmp_path / "x.csv", "--evidence": os.devnull, "--rejects": os.devnull}
    )


@pytest.mark.parametrize("flag", ["-o", "--spans", "--audit", "--rejects"])
def test_deid_refuses_an_output_that_is_the_input(reports, tmp_path, flag):
    before = reports.read_bytes()
    args = ["deid", reports, "-o", tmp_path / "out.csv"]
    if flag == "-o":
        args[3] = reports
    else:
        args += [flag, reports]
    res = run_cli(*args)
    assert res.returncode == 2 and "[RL301]" in res.stderr
    assert reports.read_bytes() == before


def test_deid_refuses_to_overwrite_its_secret(reports, tmp_path):
    key = tmp_path / "key.txt"
    key.write_text("a long enough secret key\n")
    res = run_cli(
        "deid", reports, "-o", tmp_path / "o.csv", "--mode", "surrogate", "--secret-file", key, "--audit", key
    )
    assert res.returncode == 2 and "[RL301]" in res.stderr
    assert key.read_text() == "a long enough secret key\n"


def test_assertion_and_evaluate_refuse_their_inputs(tmp_path):
    targets = tmp_path / "t.csv"
    targets.write_text("id,text,start,end\n1,No pneumothorax.,3,15\n")
    res = run_cli("assertion", targets, "-o", targets)
    assert res.returncode == 2 and "[RL301]" in res.stderr
    assert targets.read_text() == "id,text,start,end\n1,No pneumothorax.,3,15\n"


# ------------------------------------------------------------------ atomic outputs and resume
def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_an_interrupted_label_run_leaves_nothing_at_the_final_names_and_resumes(tmp_path, monkeypatch):
    from reportlab_nlp import labeler

    archive = big_archive(tmp_path / "in.csv", 4)  # 120 records, 8 of them broken
    ref = tmp_path / "ref"
    labeler.label_archive(
        archive, ref / "labels.csv", evidence_path=ref / "mentions.jsonl", chunk_size=25, link=False
    )
    out = tmp_path / "run"
    real = labeler._process
    calls = {"n": 0}

    def dying(nlp, ids, texts, evidence):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(nlp, ids, texts, evidence)

    monkeypatch.setattr(labeler, "_process", dying)
    with pytest.raises(KeyboardInterrupt):
        labeler.label_archive(
            archive, out / "labels.csv", evidence_path=out / "mentions.jsonl", chunk_size=25, link=False
        )
    assert not (out / "labels.csv").exists() and not (out / "mentions.jsonl").exists()
    assert not (out / "labels.rejects.csv").exists()
    assert (out / "labels.csv.partial" / "manifest.json").exists()
    monkeypatch.setattr(labeler, "_process", real)
    summary = labeler.label_archive(
        archive,
        out / "labels.csv",
        evidence_path=out / "mentions.jsonl",
        chunk_size=25,
        link=False,
        resume=True,
    )
    assert summary.rows_in == 120 and summary.rows_out == 112 and summary.rejects == 8
    assert "resumed after 1 completed chunk(s)" in summary.notes  # 2 tasks a chunk: the 3rd call is chunk 2
    assert _outputs(out) == _outputs(ref)
    assert not (out / "labels.csv.partial").exists()


def test_resume_refuses_a_changed_input_or_changed_options(tmp_path, monkeypatch):
    from reportlab_nlp import labeler

    archive = big_archive(tmp_path / "in.csv", 2)
    monkeypatch.setattr(labeler, "_process", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        labeler.label_archive(archive, tmp_path / "o.csv", chunk_size=10)
    monkeypatch.undo()
    with pytest.raises(ResumeError) as err:
        labeler.label_archive(archive, tmp_path / "o.csv", chunk_size=20, resume=True)
    assert err.value.code == "RL303" and "options.chunk_size" in str(err.value)
    with open(archive, "a") as fh:
        fh.write("new-1,No pneumothorax.\n")
    with pytest.raises(ResumeError) as err:
        labeler.label_archive(archive, tmp_path / "o.csv", chunk_size=10, resume=True)
    assert "input" in str(err.value)
    # without --resume the leftover is discarded and the run starts over
    summary = labeler.label_archive(archive, tmp_path / "o.csv", chunk_size=10)
    assert summary.rows_in == 61 and any("discarded the unfinished output" in n for n in summary.notes)


def test_staged_run_assembles_parquet_tsv_and_jsonl_parts(tmp_path):
    outs = [
        OutputSpec("t", tmp_path / "t.parquet", "table", ("id", "v"), ("v",)),
        OutputSpec("s", tmp_path / "s.tsv", "table", ("id", "v"), ("v",)),
        OutputSpec("j", tmp_path / "j.jsonl", "jsonl"),
        OutputSpec("r", tmp_path / "r.csv", "rejects", id_column="id"),
    ]
    run = StagedRun(tmp_path / "t.parquet", outs, {"x": 1})
    run.commit(
        0,
        {
            "t": pd.DataFrame({"id": ["a"], "v": [1.0]}),
            "s": pd.DataFrame({"id": ["a"], "v": [1.0]}),
            "j": [{"a": 1}],
        },
        {"n": 1},
    )
    run.commit(
        1,
        {
            "t": pd.DataFrame({"id": [], "v": []}),
            "s": pd.DataFrame({"id": ["b"], "v": [None]}),
            "j": [{"b": 2}],
        },
        {"n": 2},
    )
    run.finish()
    assert pd.read_parquet(tmp_path / "t.parquet").to_dict("list") == {"id": ["a"], "v": [1.0]}
    assert (tmp_path / "s.tsv").read_text() == "id\tv\na\t1.0\nb\t\n"
    assert (tmp_path / "j.jsonl").read_text() == '{"a": 1}\n{"b": 2}\n'
    assert not (tmp_path / "r.csv").exists()  # no rejects, no file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.jsonl", "s.tsv", "t.parquet"]


def test_surrogate_resume_needs_the_secret(reports, tmp_path):
    res = run_cli("deid", reports, "-o", tmp_path / "o.csv", "--mode", "surrogate", "--resume")
    assert res.returncode == 2 and "[RL304]" in res.stderr


# ------------------------------------------------------------------ coded API errors
def test_public_functions_raise_coded_errors():
    import reportlab_nlp

    with pytest.raises(ArgumentError) as err:
        reportlab_nlp.label_dataframe([{"report_id": "1", "report": "x"}])
    assert err.value.code == "RL020"
    df = pd.DataFrame({"report_id": ["1"], "report": ["No pneumothorax."]})
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ArgumentError):
            reportlab_nlp.label_dataframe(df, workers=bad)
    with pytest.raises(ArgumentError) as err:
        reportlab_nlp.assert_target("No pneumothorax.", 5, 99)
    assert err.value.code == "RL121" and isinstance(err.value, ValueError)
    with pytest.raises(ArgumentError):
        reportlab_nlp.assert_target("No pneumothorax.", "3", 15)
    with pytest.raises(ArgumentError):
        reportlab_nlp.assert_target(None, 0, 1)
    with pytest.raises(ReportLabError):
        reportlab_nlp.label_archive(EXAMPLE, "/tmp/never.csv", workers=0)
    with pytest.raises(ReportLabError):
        reportlab_nlp.label_archive(EXAMPLE, "/tmp/never.csv", chunk_size=0)
    assert not Path("/tmp/never.csv").exists()


# ------------------------------------------------------------------ kill -9 and resume
def _kill_and_resume(
    tmp_path: Path,
    args: list,
    outputs: list[str],
    rng: random.Random,
    duration: float,
    ref: dict[str, bytes],
    k: int,
) -> None:
    folder = tmp_path / f"kill{k}"
    folder.mkdir()
    full = [a.replace("{out}", str(folder)) if isinstance(a, str) else a for a in args]
    proc = subprocess.Popen([*CLI, *map(str, full)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.2, duration))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.returncode == -signal.SIGKILL and any((folder / name).exists() for name in outputs):
        # a final file exists only when the kill came while the finished outputs were being renamed
        staging = folder / f"{outputs[0]}.partial"
        if staging.exists():
            assert json.loads((staging / "manifest.json").read_text())["finishing"] is True
    res = run_cli(*full, "--resume")
    assert res.returncode == 0, res.stderr[-2000:]
    got = {name: (folder / name).read_bytes() for name in outputs}
    assert got == ref
    assert not any(p.name.endswith(".partial") for p in folder.iterdir())


def _kill_runs(request) -> int:
    return 20 if request.config.getoption("--long") else 2


@pytest.mark.parametrize("engine", ["label", "deid"])
def test_kill_minus_nine_then_resume_is_byte_identical(tmp_path, request, engine):
    archive = big_archive(tmp_path / "in.csv", 40)  # 1,200 records
    if engine == "label":
        args = [
            "label",
            archive,
            "-o",
            "{out}/labels.csv",
            "--evidence",
            "{out}/mentions.jsonl",
            "--chunk-size",
            "50",
            "-q",
        ]
        outputs = ["labels.csv", "mentions.jsonl", "labels.rejects.csv"]
    else:
        key = tmp_path / "key.txt"
        key.write_text("kill-test secret key 0123456789")
        args = [
            "deid",
            archive,
            "-o",
            "{out}/released.csv",
            "--mode",
            "surrogate",
            "--secret-file",
            key,
            "--spans",
            "{out}/spans.csv",
            "--chunk-size",
            "50",
        ]
        outputs = ["released.csv", "spans.csv", "released.rejects.csv"]
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    t0 = time.perf_counter()
    res = run_cli(*[a.replace("{out}", str(ref_dir)) if isinstance(a, str) else a for a in args])
    duration = time.perf_counter() - t0
    assert res.returncode == 0, res.stderr[-2000:]
    ref = {name: (ref_dir / name).read_bytes() for name in outputs}
    rng = random.Random()
    for k in range(_kill_runs(request)):
        _kill_and_resume(tmp_path, args, outputs, rng, duration, ref, k)


def test_label_dataframe_cleans_control_characters_and_rejects_content_free_text():
    import reportlab_nlp

    df = pd.DataFrame(
        {
            "report_id": ["a", "b", "c"],
            "report": ["No effusion.\x00 Large right pneumothorax.", "123", "4.5 \x01\x02"],
        }
    )
    run = reportlab_nlp.label_dataframe(df, evidence=False)
    assert run.labels["report_id"].tolist() == ["a"]
    assert run.labels.loc[0, "Pneumothorax"] == 1.0 and pd.isna(run.labels.loc[0, "No Finding"])
    assert [(r.record_id, r.code) for r in run.rejects] == [("b", "RL112"), ("c", "RL112")]
