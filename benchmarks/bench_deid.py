"""De-identification benchmark: speed (reports/s on one core, peak RSS) and accuracy.

    python benchmarks/bench_deid.py [--n 1200] [--seed 13] [--openi PATH] [--ner] [--top 25]

1. Synthetic benchmark (reportlab_nlp.deid.synthetic, fixed seed): token precision/recall/F1,
   instance recall overall and per category, and detection speed.
2. Open-i dev reports (default ../shared/data/openi_dev/reports.csv, whose only PHI is already
   "XXXX"): fraction of word tokens outside "XXXX" that are flagged, and the most common false
   positives as token counts (printed here only, never logged). Skipped cleanly when absent.
"""

from __future__ import annotations

import argparse
import collections
import re
import resource
import sys
import time
from pathlib import Path

import pandas as pd

from reportlab_nlp.deid import Deidentifier, evaluate_spans, format_report
from reportlab_nlp.deid.detect import PRE_REDACTED
from reportlab_nlp.deid.synthetic import generate

DEFAULT_OPENI = Path(__file__).resolve().parents[2] / "shared" / "data" / "openi_dev" / "reports.csv"
TOKEN = re.compile(r"[^\W_]+")


def peak_rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform != "darwin" else r / 1024 / 1024


def timed_detect(deid: Deidentifier, ids, texts):
    """Spans and speed as reports per second of this process's CPU time (one core; on a shared
    machine wall-clock time also counts the other processes)."""
    t0 = time.process_time()
    w0 = time.perf_counter()
    rows = []
    for rid, text in zip(ids, texts):
        for s in deid.detect(text):
            rows.append((rid, s.start, s.end, s.category))
    dt = max(time.process_time() - t0, 1e-9)
    timed_detect.wall_rate = len(texts) / max(time.perf_counter() - w0, 1e-9)
    return pd.DataFrame(rows, columns=["id", "start", "end", "category"]), len(texts) / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--openi", type=Path, default=DEFAULT_OPENI)
    ap.add_argument("--ner", action="store_true", help="add spaCy NER")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()

    deid = Deidentifier("mask", use_ner=args.ner, times=True)  # the synthetic reports carry times
    deid.detect("warm up Dr. Smith on 01/02/2019")
    reports, gold = generate(args.n, args.seed)
    pred, rate = timed_detect(deid, reports.report_id, reports.report)
    texts = dict(zip(reports.report_id, reports.report))
    m = evaluate_spans(pred, gold.rename(columns={"report_id": "id"}), texts)
    print(
        f"== synthetic benchmark: {len(reports)} reports (seed {args.seed}), NER "
        f"{'on' if args.ner else 'off'}"
    )
    print(format_report(m))
    print(
        f"speed: {rate:.0f} reports/s per core (detection, CPU time;"
        f" wall clock {timed_detect.wall_rate:.0f}/s)"
    )
    t0 = time.process_time()
    sur = Deidentifier("surrogate", secret=b"benchmark-secret", use_ner=args.ner, times=True)
    for text, grp in zip(reports.report, reports.patient_id):
        sur.deidentify(text, grp)
    rate_sur = len(reports) / (time.process_time() - t0)
    print(f"speed: {rate_sur:.0f} reports/s per core (detection + surrogates)")

    print()
    if not args.openi.exists():
        print(f"== openi_dev: {args.openi} not found, skipped")
    else:
        df = pd.read_csv(args.openi, dtype=str, keep_default_na=False)
        df = df[df["report"].str.strip() != ""]
        pred, rate = timed_detect(deid, df.report_id, df.report)
        by_id = collections.defaultdict(list)
        for r in pred.itertuples(index=False):
            by_id[r.id].append((r.start, r.end))
        n = flagged = 0
        fp = collections.Counter()
        for rid, text in zip(df.report_id, df.report):
            red = [(mm.start(), mm.end()) for mm in PRE_REDACTED.finditer(text)]
            spans = by_id.get(rid, [])
            for mm in TOKEN.finditer(text):
                if any(b <= mm.start() and mm.end() <= e for b, e in red):
                    continue
                n += 1
                if any(b < mm.end() and mm.start() < e for b, e in spans):
                    flagged += 1
                    fp[mm.group()] += 1
        print(f"== openi_dev: {len(df)} reports, {n} word tokens outside XXXX")
        print(f"flagged tokens: {flagged} ({flagged / max(n, 1):.4%}); target <= 0.5%")
        print(
            f"speed: {rate:.0f} reports/s per core (detection, CPU time;"
            f" wall clock {timed_detect.wall_rate:.0f}/s)"
        )
        print("most common flagged tokens (false positives):")
        for tok, c in fp.most_common(args.top):
            print(f"  {c:>5}  {tok}")
    print(f"\npeak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
