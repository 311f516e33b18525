"""Throughput of the transformer labeler: reports/s and peak memory per engine, precision and batch size.

Each engine runs in its own subprocess so its peak RSS (and peak GPU memory) is its own.
Timed work = tokenisation + windowing + batched inference + pooling (``Predictor.predict``), after
one warm-up pass. CPU engines: fp32, int8 (torch dynamic quantisation), onnx, onnx-int8 (ONNX
Runtime). GPU engines (when CUDA is visible): fp32, fp16, bf16.

Texts: ``--data`` (default ``../shared/data/openi_dev/reports.csv``); when it is absent, generated
report-like text is used instead (same length range), so the script always runs.
Model: ``--model DIR`` (a trained labeler); by default an untrained labeler on the default MiniLM
encoder with the chexpert labels is built in a temporary folder (speed does not depend on training).

    python benchmarks/bench_model.py [--n 512] [--batch-sizes 16,64] [--threads 2] [--engines onnx-int8,int8]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "openi_dev" / "reports.csv"


def generated_reports(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    findings = [
        "The heart is normal in size.",
        "Mild cardiomegaly.",
        "No pleural effusion or pneumothorax.",
        "Small left pleural effusion.",
        "Lungs are clear.",
        "Patchy opacity in the right lower lobe, possibly atelectasis.",
        "No focal consolidation.",
        "Degenerative changes of the thoracic spine.",
        "Stable calcified granuloma.",
        "Mediastinal contours are within normal limits.",
        "Interval removal of the right IJ catheter.",
    ]
    out = []
    for _ in range(n):
        k = rng.randint(3, 9)
        out.append(
            "FINDINGS: "
            + " ".join(rng.choice(findings) for _ in range(k))
            + " IMPRESSION: "
            + rng.choice(findings)
        )
    return out


def load_texts(data: Path, n: int) -> tuple[list[str], str]:
    if data.exists():
        import pandas as pd

        texts = pd.read_csv(data, dtype=str, keep_default_na=False)["report"].tolist()
        texts = [t for t in texts if t.strip()]
        reps = (n + len(texts) - 1) // len(texts)
        return (texts * reps)[:n], f"{data} ({len(texts)} distinct reports)"
    return generated_reports(n), "generated text (openi_dev not available)"


def build_default_model(path: Path) -> Path:
    from reportlab_nlp.model.modeling import LabelerSpec, new_labeler, save_labeler
    from reportlab_nlp.schema import load_taxonomy

    tax = load_taxonomy("chexpert")
    spec = LabelerSpec(
        label_names=tax.label_names,
        taxonomy_name=tax.name,
        no_finding=tax.no_finding,
        max_length=256,
        window_overlap=64,
    )
    model, tok = new_labeler(None, spec)
    save_labeler(model, tok, path)
    return path


def run_engine(args) -> None:
    """Child process: one engine, all batch sizes; prints one JSON line per batch size."""
    from reportlab_nlp.model.inference import Predictor

    texts, _ = load_texts(args.data, args.n)
    device = "cuda" if args.engine.startswith("cuda-") else "cpu"
    precision = args.engine.split("-", 1)[1] if device == "cuda" else args.engine
    for bs in [int(b) for b in args.batch_sizes.split(",")]:
        t0 = time.perf_counter()
        pred = Predictor(args.model, device=device, precision=precision, batch_size=bs, threads=args.threads)
        setup_s = time.perf_counter() - t0
        pred.predict(texts[: max(bs, 32)])  # warm-up (kernels, allocator, ORT session)
        if device == "cuda":
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t = time.perf_counter()
        _probs, enc = pred.predict(texts)
        if device == "cuda":
            import torch

            torch.cuda.synchronize()
        el = time.perf_counter() - t
        rec = {
            "engine": args.engine,
            "device": device,
            "batch_size": bs,
            "threads": pred.threads,
            "reports": len(texts),
            "windows": len(enc.windows),
            "seconds": round(el, 3),
            "reports_per_s": round(len(texts) / el, 1),
            "setup_s": round(setup_s, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        if device == "cuda":
            import torch

            rec["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        print(json.dumps(rec), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument(
        "--n", type=int, default=None, help="reports per measurement (default 512 on CPU, 50000 on GPU)"
    )
    ap.add_argument("--batch-sizes", default=None, help="comma list (default 16,64 on CPU; 256,1024 on GPU)")
    ap.add_argument(
        "--engines", default=None, help="comma list of fp32,int8,onnx,onnx-int8,cuda-fp32,cuda-fp16,cuda-bf16"
    )
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: all usable cores)")
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.engine:  # child
        run_engine(args)
        return 0

    import torch

    from reportlab_nlp.model.device import usable_cores

    cuda = torch.cuda.is_available()
    threads = args.threads or usable_cores()
    tmp = None
    if args.model is None:
        tmp = tempfile.TemporaryDirectory(prefix="reportlab_bench_")
        args.model = build_default_model(Path(tmp.name) / "model")
        print(f"model: untrained labeler on the default MiniLM encoder ({args.model})")
    cpu_engines = ["fp32", "int8", "onnx", "onnx-int8"]
    gpu_engines = ["cuda-fp32", "cuda-fp16", "cuda-bf16"] if cuda else []
    engines = args.engines.split(",") if args.engines else cpu_engines + gpu_engines
    _, source = load_texts(args.data, 1)
    print(f"texts: {source}; CPU threads {threads}; GPU: {torch.cuda.get_device_name(0) if cuda else 'none'}")
    print(
        "| engine | device | batch | threads | reports | windows | reports/s | peak RSS MB | peak GPU MB | "
        "setup s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for eng in engines:
        on_gpu = eng.startswith("cuda-")
        n = args.n or (50000 if on_gpu else 512)
        bss = args.batch_sizes or ("256,1024" if on_gpu else "16,64")
        cmd = [
            sys.executable,
            __file__,
            "--engine",
            eng,
            "--model",
            str(args.model),
            "--data",
            str(args.data),
            "--n",
            str(n),
            "--batch-sizes",
            bss,
            "--threads",
            str(threads),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if proc.returncode != 0:
            print(
                f"| {eng} | failed: "
                f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode} |"
            )
            continue
        for line in proc.stdout.splitlines():
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            print(
                f"| {r['engine']} | {r['device']} | {r['batch_size']} | {r['threads']} | {r['reports']} | "
                f"{r['windows']} | "
                f"**{r['reports_per_s']}** | {r['peak_rss_mb']} | {r.get('peak_gpu_mb', '')} | "
                f"{r['setup_s']} |",
                flush=True,
            )
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
