"""``--executor ray`` on a local Ray cluster: byte-identical to ``--executor local``; kill + ``--resume``.

One Ray instance (2 CPUs, no dashboard) is started for the module and shut down after. Ray is an
optional extra (``.[ray]``, part of ``.[dev]``), so without it these tests are skipped.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

sys.path.insert(0, str(Path(__file__).parent))
from runner_fixtures import synthetic_archive  # noqa: E402

from reportlab_nlp.batch import LocalExecutor  # noqa: E402
from reportlab_nlp.batch.ray_executor import RayExecutor  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
N = 2000
SECRET = b"ray-test-secret-0123456789"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def cluster():
    old = os.environ.get("PYTHONPATH")
    # workers (and drivers that join with address="auto") import reportlab_nlp from this checkout
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *([old] if old else [])])
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    try:
        yield
    finally:
        ray.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return synthetic_archive(tmp_path_factory.mktemp("ray") / "reports.csv", N)


@pytest.fixture(scope="module")
def rules_local(archive, tmp_path_factory):
    """The rule labeler's outputs with the local executor (the reference for the Ray runs)."""
    from reportlab_nlp.labeler import label_archive

    out = tmp_path_factory.mktemp("rules-local")
    summary = label_archive(
        archive, out / "labels.csv", evidence_path=out / "mentions.jsonl", chunk_size=250, executor="local"
    )
    return out, summary


def test_rules_with_evidence_identical_on_ray(cluster, archive, rules_local, tmp_path):
    from reportlab_nlp.labeler import label_archive

    ref, local = rules_local
    out = tmp_path / "ray"
    # two windows of four chunks: the actor pool is built twice, the rows stay in input order
    summary = label_archive(
        archive,
        out / "labels.csv",
        evidence_path=out / "mentions.jsonl",
        chunk_size=250,
        executor=RayExecutor(actors=2, window_records=1000),
    )
    assert _files(out) == _files(ref)
    assert set(_files(out)) == {"labels.csv", "mentions.jsonl", "labels.rejects.csv"}
    assert (summary.rows_in, summary.rows_out, summary.rejects) == (
        local.rows_in,
        local.rows_out,
        local.rejects,
    )
    assert summary.rows_in == N and summary.executor == "ray" and local.executor == "local"
    assert summary.mentions == local.mentions > N


def test_deid_surrogate_with_spans_identical_on_ray(cluster, archive, tmp_path):
    from reportlab_nlp.deid.pipeline import deidentify_archive

    audits = {}
    for name, ex in (("local", LocalExecutor(1)), ("ray", RayExecutor(actors=2))):
        out = tmp_path / name
        audits[name] = deidentify_archive(
            archive,
            out / "deid.csv",
            mode="surrogate",
            secret=SECRET,
            spans_path=out / "spans.csv",
            audit_path=out / "audit.json",
            chunk_size=400,
            executor=ex,
        )
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")
    audit = json.loads((tmp_path / "ray" / "audit.json").read_text())
    assert audit["records_in"] == N == audit["records_out"] + audit["records_rejected"]
    assert audit["spans_total"] > 0 and audits["ray"].as_dict() == audits["local"].as_dict()


def test_model_identical_on_ray(cluster, archive, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from runner_fixtures import tiny_model

    from reportlab_nlp.model.labeling import label_archive_with_model

    monkeypatch.setenv("REPORTLAB_NLP_PRECISION", "fp32")  # actors inherit the cluster's env, not this
    model, _ = tiny_model(tmp_path / "m", 30)
    stats = {}
    for name, ex in (("local", LocalExecutor(1)), ("ray", RayExecutor(actors=2))):
        out = tmp_path / name
        stats[name] = label_archive_with_model(
            archive,
            out / "labels.csv",
            model_dir=model,
            engine="model",
            evidence_path=out / "ev.jsonl",
            chunk_size=500,
            device="cpu",
            show_progress=False,
            executor=ex,
        )
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")
    assert stats["ray"]["rows_in"] == N and stats["ray"]["rows_out"] == stats["local"]["rows_out"]
    assert stats["ray"]["windows"] == stats["local"]["windows"] and stats["ray"]["executor"] == "ray"


def _documented_entrypoint(archive: Path, out: Path) -> list[str]:
    """The command after ``--`` of the ``ray job submit`` example in docs/scale.md, with test paths."""
    text = (REPO / "docs" / "scale.md").read_text(encoding="utf-8")
    block = text.split("```bash\nray job submit", 1)[1].split("```", 1)[0]
    line = next(
        ln.strip() for ln in block.splitlines() if ln.strip().startswith("python -m reportlab_nlp.cli")
    )
    paths = {"reports.csv": str(archive), "labels.csv": str(out / "labels.csv")}
    paths["mentions.jsonl"] = str(out / "mentions.jsonl")
    args = [paths.get(tok, tok) for tok in shlex.split(line)]
    assert args[:4] == ["python", "-m", "reportlab_nlp.cli", "label"] and "--resume" not in args
    at = args.index("--ray-address") + 1
    assert args[args.index("--executor") + 1] == "ray" and args[at] == "auto"
    # "auto" joins the newest cluster on this machine; name this test's cluster in case another runs
    args[at] = ray.get_runtime_context().gcs_address
    return [sys.executable, *args[1:], "--quiet"]


def _manifest_chunks(partial: Path) -> int:
    try:
        return int(json.loads((partial / "manifest.json").read_text())["completed_chunks"])
    except (OSError, ValueError, KeyError):
        return 0


def test_kill_the_driver_then_resume_gives_identical_output(cluster, archive, rules_local, tmp_path):
    ref, _ = rules_local
    out = tmp_path / "run"
    cmd = _documented_entrypoint(archive, out)
    partial = out / "labels.csv.partial"
    log = tmp_path / "driver.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 240
    while _manifest_chunks(partial) < 1:
        assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
        assert time.monotonic() < deadline, "no chunk completed in time"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = _manifest_chunks(partial)
    assert 1 <= done < N // 100  # --chunk-size 100 in the documented command: 20 chunks
    assert not (out / "labels.csv").exists() and not (out / "mentions.jsonl").exists()
    res = subprocess.run([*cmd, "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert _files(out) == _files(ref)
    assert not partial.exists()
