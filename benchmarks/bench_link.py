"""Linking overhead: reports/s of the rule pipeline without and with the linking stage.

    python benchmarks/bench_link.py [--n 1000] [--kb KB_DIR]

Uses ../shared/data/openi_dev/reports.csv (skips cleanly when it is absent). The linking
index is built (or loaded from the cache) before timing; each configuration is timed on the
same reports after one warm-up pass of 50 reports. Prints reports/s, the overhead and peak RSS.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _openi import OPENI_REPORTS as DATA, read_report_texts  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--kb", default=None)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    texts = read_report_texts(args.data, args.n)
    if texts is None:
        return 0
    from reportlab_nlp import pipeline

    results = {}
    for link in (False, True):
        nlp = pipeline.load(taxonomy="chexpert", link=link, kb=args.kb)
        list(nlp.pipe(texts[:50]))  # warm-up: lazy index load, caches of both pipelines
        t0 = time.perf_counter()
        n_ents = sum(len(d.ents) for d in nlp.pipe(texts))
        dt = time.perf_counter() - t0
        results[link] = len(texts) / dt
        print(f"link={link!s:5}  {len(texts)} reports  {n_ents} mentions  {results[link]:.1f} reports/s")
    overhead = results[False] / results[True] - 1
    # steady state of a large archive: surface forms repeat, so links come from the linker's cache
    t0 = time.perf_counter()
    sum(len(d.ents) for d in nlp.pipe(texts))
    warm = len(texts) / (time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"linking overhead, first pass (every new surface form searched): {overhead:+.1%} of labelling time")
    print(f"link=True   second pass (cached forms): {warm:.1f} reports/s; overhead {results[False] / warm - 1:+.1%} (target <= +30%)   peak RSS {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
