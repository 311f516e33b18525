"""``benchmarks/bench_gpu.py --device cpu --tiny``: the GPU benchmark's smoke run, without spaCy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("peft")

ROOT = Path(__file__).resolve().parents[1]

# spaCy, medspaCy, scispaCy and jsonschema are made unimportable: the GPU image has none of them
RUN = """
import runpy, sys
for m in ("spacy", "medspacy", "scispacy", "jsonschema"):
    sys.modules[m] = None
sys.argv = ["bench_gpu.py", "--device", "cpu", "--tiny", "--threads", "1", "--n", "24", "--json", sys.argv[1]]
runpy.run_path({script!r}, run_name="__main__")
"""


def test_bench_gpu_tiny_runs_on_cpu_without_spacy(tmp_path):
    out = tmp_path / "rows.json"
    code = RUN.format(script=str(ROOT / "benchmarks" / "bench_gpu.py"))
    res = subprocess.run(
        [sys.executable, "-c", code, str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(out.read_text())
    assert [(r["row"], r["unit"], r["n"]) for r in data["rows"]] == [
        ("tokenise + window (fast tokenizer)", "reports/s", 24),
        ("MiniLM labeler fp32, batch 8, end to end", "reports/s", 24),
        ("MiniLM labeler fp32, batch 8, model only", "reports/s", 24),
        ("MiniLM labeler fp32, batch 16, end to end", "reports/s", 24),
        ("MiniLM labeler fp32, batch 16, model only", "reports/s", 24),
        ("Gemma-3-tiny-shaped classifier fp32, batch 8", "reports/s", 24),
        ("LoRA r=16 training, Gemma-3-tiny-shaped, batch 4", "steps/s", 3),
        ("llm engine (transformers), Gemma-3-tiny-shaped, batch 16", "reports/s", 2),
    ]
    assert all(r["rate"] > 0 and r["peak_mb"] > 0 for r in data["rows"])
    assert data["rows"][-1]["note"].startswith("2/2 complete JSON answers")
    assert "| row | rate | unit | n | seconds | peak memory (MB) | note |" in res.stdout
