"""Scale benchmark: the rule labeler on a synthetic archive, local 1 / 2 workers vs Ray (2 actors).

The archive (default 100,000 reports) is built from the development reports -- Open-i chest X-ray
(``../shared/data/openi_dev``) and CT-RATE chest CT (``../shared/data/ctrate_dev``) -- repeated
under new ids, in a temporary folder (never in the repository). Each mode runs in a fresh
subprocess; the parent samples the resident memory of that process tree plus every Ray process
(raylet, GCS, actors) twice a second and reports the peak. Ray's start-up cost is measured on its
own: ``ray.init`` of a local 2-CPU instance, and the first window's actor set-up (a 64-report run).

    python benchmarks/bench_scale.py                 # 100,000 reports, all three modes
    python benchmarks/bench_scale.py --size 10000    # a smaller run
    python benchmarks/bench_scale.py --modes local1,ray2

Numbers depend on the machine's load: say how loaded it was when you quote them.
Skips cleanly (exit 0) when the development data is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SOURCES = [SHARED / "openi_dev" / "reports.csv", SHARED / "ctrate_dev" / "reports.csv"]
MODES = {"local1": ("local", 1), "local2": ("local", 2), "ray2": ("ray", 2)}


def build_archive(path: Path, size: int) -> int:
    """``size`` reports from the dev sets, cycled, ids ``scale-0000001`` ...; the number of source texts."""
    csv.field_size_limit(10**8)
    texts: list[str] = []
    for src in SOURCES:
        with open(src, encoding="utf-8", newline="") as fh:
            texts += [r["report"] or "" for r in csv.DictReader(fh)]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["report_id", "report"])
        for i in range(size):
            w.writerow([f"scale-{i + 1:07d}", texts[i % len(texts)]])
    return len(texts)


def _ray_processes():
    import psutil

    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            name = p.info["name"] or ""
            cmd = " ".join(p.info["cmdline"] or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if name.startswith("ray::") or name in ("raylet", "gcs_server") or "ray/_private" in cmd:
            yield p


def _tree_rss(pid: int, with_ray: bool) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = {p.pid: p for p in [root, *root.children(recursive=True)]}
    except psutil.NoSuchProcess:
        return 0
    if with_ray:
        procs.update({p.pid: p for p in _ray_processes()})
    total = 0
    for p in procs.values():
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def run_mode(mode: str, archive: Path, out: Path, chunk_size: int) -> dict:
    """Run one mode in a subprocess; its summary plus the peak memory of everything it started."""
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--one",
            mode,
            "--archive",
            str(archive),
            "--out",
            str(out),
            "--chunk-size",
            str(chunk_size),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])},
    )
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid, mode.startswith("ray")))
            stop.wait(0.5)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    stdout, _ = proc.communicate()
    stop.set()
    t.join()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed (exit {proc.returncode})")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mib"] = round(peak[0] / 2**20)
    return result


def one(mode: str, archive: Path, out: Path, chunk_size: int) -> None:
    """Child process: label the archive with one executor and print a JSON line."""
    from reportlab_nlp.labeler import PipelineSpec, get_pipeline, label_archive

    executor, workers = MODES[mode]
    res: dict = {"mode": mode}
    t0 = time.perf_counter()
    if executor == "ray":
        import ray

        from reportlab_nlp.batch.ray_executor import RayExecutor

        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
        res["ray_init_s"] = round(time.perf_counter() - t0, 2)
        # the first window's fixed cost: actors start and load the pipeline (64 reports)
        small = out / "small.csv"
        with open(archive, encoding="utf-8", newline="") as fh, open(small, "w", encoding="utf-8") as o:
            rows = list(csv.reader(fh))[:65]
            csv.writer(o, lineterminator="\n").writerows(rows)
        t1 = time.perf_counter()
        label_archive(small, out / "small_labels.csv", chunk_size=64, executor=RayExecutor(actors=workers))
        res["ray_first_window_64_reports_s"] = round(time.perf_counter() - t1, 2)
        runner = RayExecutor(actors=workers)
    else:
        get_pipeline(PipelineSpec())  # load time is not labeling time (the Ray actors' load is counted)
        runner = None
    res["startup_s"] = round(time.perf_counter() - t0, 2)
    s = label_archive(
        archive,
        out / f"labels-{mode}.csv",
        chunk_size=chunk_size,
        workers=workers,
        executor=runner if runner is not None else "local",
    )
    res.update(
        rows_in=s.rows_in,
        rows_out=s.rows_out,
        rejects=s.rejects,
        seconds=round(s.seconds, 1),
        reports_per_s=round(s.rows_out / s.seconds, 1),
    )
    print(json.dumps(res))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--chunk-size", type=int, default=2000)
    ap.add_argument("--modes", default="local1,local2,ray2")
    ap.add_argument("--one", choices=sorted(MODES), help=argparse.SUPPRESS)
    ap.add_argument("--archive", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(args.one, args.archive, args.out, args.chunk_size)
        return
    missing = [p for p in SOURCES if not p.is_file()]
    if missing:
        print(f"skipped: {', '.join(map(str, missing))} not found")
        return
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if "ray2" in modes:
        try:
            import ray  # noqa: F401
        except ImportError:
            print("ray is not installed (pip install 'reportlab-nlp[ray]'): skipping ray2")
            modes.remove("ray2")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        archive = Path(tmp) / "archive.csv"
        n_src = build_archive(archive, args.size)
        print(
            f"archive: {args.size} reports ({archive.stat().st_size / 2**20:.0f} MiB) "
            f"from {n_src} dev reports; "
            f"chunk size {args.chunk_size}; {os.cpu_count()} CPUs, load average "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        for mode in modes:
            r = run_mode(mode, archive, Path(tmp), args.chunk_size)
            print(json.dumps(r), flush=True)
        print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
