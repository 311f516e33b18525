"""De-identification on the shared dev corpora written by others, plus the project's probe sentences.

    python benchmarks/eval_deid_dev.py [--data ../shared/data/deid_dev] [--times] [--strict-ages]
                                       [--probes FILE ...] [--show-leaks] [--show-fps] [--model DIR]

For each corpus (ASQ-PHI, Presidio synthetic PII): instance recall, token precision/recall and
recall per category (``reportlab_nlp.deid.evaluate``), and detection speed. Open-i and CT-RATE dev
reports: the share of word tokens outside "XXXX" that are flagged (over-redaction). Probe files
(``style<TAB>{CATEGORY:value}`` lines): instance recall per style and false positives on the
"none" lines. ``--show-leaks`` / ``--show-fps`` print missed gold values / wrongly flagged tokens:
that output holds (synthetic) PHI, print it to a terminal only. Corpora that are absent are skipped.
``--model DIR`` (a model from ``reportlab-nlp deid train``) reports every corpus twice: rules alone,
then rules ∪ model (``reportlab_nlp.deid.model_signal``); its speed line is for the union.
"""

from __future__ import annotations

import argparse
import collections
import re
import time
from pathlib import Path

import pandas as pd

from reportlab_nlp.deid import Detector, evaluate_spans, format_report
from reportlab_nlp.deid.detect import PRE_REDACTED
from reportlab_nlp.deid.evaluate import read_marked_file

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "deid_dev"
DEFAULT_OPENI = ROOT.parent / "shared" / "data" / "openi_dev" / "reports.csv"
DEFAULT_CTRATE = ROOT.parent / "shared" / "data" / "ctrate_dev" / "reports.csv"
DEFAULT_PROBES = [ROOT / "tests" / "data" / "deid_probes.tsv"]
CORPORA = ("asq_phi", "presidio_synth")
TOKEN = re.compile(r"[^\W_]+")


def detect_all(det: Detector, ids, texts) -> tuple[pd.DataFrame, float]:
    rows = []
    t0 = time.process_time()
    many = getattr(det, "detect_many", None)  # rules ∪ model: the model runs in batches
    found = many(list(texts)) if many is not None else (det.detect(t) for t in texts)
    for rid, spans in zip(ids, found):
        for s in spans:
            rows.append((rid, s.start, s.end, s.category))
    rate = len(texts) / max(time.process_time() - t0, 1e-9)  # per core: CPU time of this process
    return pd.DataFrame(rows, columns=["id", "start", "end", "category"]), rate


def detectors(det) -> list[tuple[str, object]]:
    """(label, detector) pairs to report: the rules, and with --model also rules ∪ model."""
    rules = getattr(det, "rules", None)
    return [("rules", rules), ("rules+model", det)] if rules is not None else [("", det)]


def leaks(pred: pd.DataFrame, gold: pd.DataFrame, texts: dict) -> list[tuple[str, str, str]]:
    by = collections.defaultdict(list)
    for r in pred.itertuples(index=False):
        by[r.id].append((r.start, r.end))
    out = []
    for r in gold.itertuples(index=False):
        if not any(b < r.end and r.start < e for b, e in by[r.id]):
            out.append((r.id, r.category, texts[r.id][r.start : r.end]))
    return out


def false_positive_tokens(pred: pd.DataFrame, gold: pd.DataFrame, texts: dict) -> collections.Counter:
    gold_by = collections.defaultdict(list)
    for r in gold.itertuples(index=False):
        gold_by[r.id].append((r.start, r.end))
    fp: collections.Counter = collections.Counter()
    for r in pred.itertuples(index=False):
        if not any(b < r.end and r.start < e for b, e in gold_by[r.id]):
            fp[f"{r.category}: {texts[r.id][r.start : r.end]}"] += 1
    return fp


def run_corpus(det: Detector, data: Path, name: str, args) -> None:
    tpath, spath = data / f"{name}_texts.csv", data / f"{name}_spans.csv"
    if not tpath.is_file() or not spath.is_file():
        print(f"== {name}: {tpath} not found, skipped")
        return
    for label, d in detectors(det):
        _run_corpus(d, tpath, spath, f"{name} [{label}]" if label else name, args)


def _run_corpus(det, tpath: Path, spath: Path, name: str, args) -> None:
    df = pd.read_csv(tpath, dtype={"id": str, "text": str}, keep_default_na=False)
    gold = pd.read_csv(spath, dtype={"id": str})
    texts = dict(zip(df["id"], df["text"]))
    pred, rate = detect_all(det, df["id"], df["text"])
    m = evaluate_spans(pred, gold, texts)
    print(f"== {name}: {len(df)} texts")
    print(format_report(m))
    print(f"speed: {rate:.0f} texts/s per core")
    if args.show_leaks:
        for rid, cat, value in leaks(pred, gold, texts):
            print(f"  LEAK {rid} {cat}: {value!r}")
    if args.show_fps:
        for k, c in false_positive_tokens(pred, gold, texts).most_common(args.top):
            print(f"  FP {c:>4}  {k}")
    print()


def run_openi(det: Detector, path: Path, args, name: str = "openi_dev") -> None:
    """Over-redaction on PHI-free radiology reports: share of word tokens (outside XXXX) flagged."""
    if not path.is_file():
        print(f"== {name}: {path} not found, skipped")
        return
    for label, d in detectors(det):
        _run_openi(d, path, args, f"{name} [{label}]" if label else name)


def _run_openi(det, path: Path, args, name: str) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    pred, rate = detect_all(det, df["report_id"], df["report"])
    by = collections.defaultdict(list)
    for r in pred.itertuples(index=False):
        by[r.id].append((r.start, r.end))
    n = flagged = 0
    fp: collections.Counter = collections.Counter()
    for rid, text in zip(df["report_id"], df["report"]):
        red = [(m.start(), m.end()) for m in PRE_REDACTED.finditer(text)]
        for m in TOKEN.finditer(text):
            if any(b <= m.start() and m.end() <= e for b, e in red):
                continue
            n += 1
            if any(b < m.end() and m.start() < e for b, e in by[rid]):
                flagged += 1
                fp[m.group()] += 1
    print(f"== {name}: {len(df)} reports, {n} word tokens outside XXXX")
    print(f"flagged tokens: {flagged} ({flagged / max(n, 1):.4%}); target <= 0.5%")
    print(f"speed: {rate:.0f} reports/s per core (detection, CPU time)")
    if args.show_fps:
        for tok, c in fp.most_common(args.top):
            print(f"  FP {c:>5}  {tok}")
    print()


def run_probes(det: Detector, path: Path, args) -> None:
    rows = read_marked_file(path)
    found = collections.Counter()
    total = collections.Counter()
    fp_lines = 0
    for style, text, gold in rows:
        spans = det.detect(text)
        if style == "none":
            total["none"] += 1
            if spans:
                fp_lines += 1
                if args.show_fps:
                    print(f"  FP line: {text!r} -> {[text[s.start : s.end] for s in spans]}")
            continue
        for b, e, _cat in gold:
            total[style] += 1
            if any(s.start < e and b < s.end for s in spans):
                found[style] += 1
            elif args.show_leaks:
                print(f"  LEAK [{style}] {text[b:e]!r} in {text!r}")
    n = sum(v for k, v in total.items() if k != "none")
    print(
        f"== probes {path.name}: instance recall {sum(found.values())}/{n}"
        f" = {sum(found.values()) / max(n, 1):.3f}; PHI-free lines flagged: {fp_lines}/{total['none']}"
    )
    for style in sorted(k for k in total if k != "none"):
        print(f"  {style:<16} {found[style]}/{total[style]}")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--openi", type=Path, default=DEFAULT_OPENI)
    ap.add_argument("--ctrate", type=Path, default=DEFAULT_CTRATE)
    ap.add_argument("--probes", type=Path, nargs="*", default=DEFAULT_PROBES)
    ap.add_argument("--times", action="store_true", help="also detect times (off by default)")
    ap.add_argument("--strict-ages", action="store_true", help="flag every age, not only ages over 89")
    ap.add_argument("--only", choices=[*CORPORA, "openi", "ctrate", "probes"], nargs="*")
    ap.add_argument("--show-leaks", action="store_true", help="print missed gold values (PHI)")
    ap.add_argument("--show-fps", action="store_true", help="print wrongly flagged values")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--model", type=Path, help="also report rules ∪ this model (from `deid train`)")
    args = ap.parse_args()
    kw = {}
    if args.times:
        kw["times"] = True
    if args.strict_ages:
        kw["strict_ages"] = True
    det = Detector(**kw)
    det.detect("warm up Dr. Smith on 01/02/2019")
    if args.model is not None:
        from reportlab_nlp.deid.model_signal import ModelSignal, RulesAndModel

        det = RulesAndModel(det, ModelSignal.load(args.model))
    only = set(args.only or [*CORPORA, "openi", "ctrate", "probes"])
    for name in CORPORA:
        if name in only:
            run_corpus(det, args.data, name, args)
    if "openi" in only:
        run_openi(det, args.openi, args)
    if "ctrate" in only:
        run_openi(det, args.ctrate, args, "ctrate_dev")
    if "probes" in only:
        for p in args.probes:
            for label, d in detectors(det):
                if label:
                    print(f"[{label}]")
                run_probes(d, p, args)


if __name__ == "__main__":
    main()
