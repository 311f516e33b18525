"""Linking overhead: reports/s of the rule pipeline without and with the linking stage.

    python benchmarks/bench_link.py [--n 1000] [--kb KB_DIR]

Uses ../shared/data/openi_dev/reports.csv (skips cleanly when it is absent). The linking
index is built (or loaded from the cache) before timing; each configuration is timed on the
same reports after one warm-up pass of 50 reports: without linking, linking with an empty
result cache (the first pass over an archive: every surface form is searched) and linking with
the forms cached, interleaved and repeated (medians). Prints reports/s, the overheads and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _openi import OPENI_REPORTS as DATA
from _openi import read_report_texts


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--kb", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    texts = read_report_texts(args.data, args.n)
    if texts is None:
        return 0
    import statistics

    from reportlab_nlp import pipeline

    plain = pipeline.load(taxonomy="chexpert", link=False)
    linked = pipeline.load(taxonomy="chexpert", link=True, kb=args.kb)
    for nlp in (plain, linked):
        list(nlp.pipe(texts[:50]))  # warm-up: lazy index load, caches of both pipelines
    linker = linked.get_pipe("reportlab_linker").linker

    def timed(nlp) -> tuple[float, int]:
        t0 = time.perf_counter()
        n = sum(len(d.ents) for d in nlp.pipe(texts))
        return time.perf_counter() - t0, n

    # interleaved repeats, medians: a busy machine slows all three alike
    runs: dict[str, list[float]] = {"no linking": [], "linking, first pass": [], "linking, cached": []}
    for _ in range(args.repeats):
        runs["no linking"].append(timed(plain)[0])
        linker.clear_cache()  # every surface form is new again: the first pass over an archive
        dt, n_ents = timed(linked)
        runs["linking, first pass"].append(dt)
        runs["linking, cached"].append(timed(linked)[0])
    base = statistics.median(runs["no linking"])
    print(
        f"{len(texts)} reports, {n_ents} mentions, {len(linker._cache)} distinct mention keys (text, "
        f"observation, ...); median of {args.repeats} interleaved runs"
    )
    for name, ts in runs.items():
        med = statistics.median(ts)
        extra = "" if name == "no linking" else f"  overhead {med / base - 1:+.1%} (target <= +30%)"
        print(f"  {name:20} {len(texts) / med:7.1f} reports/s{extra}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
