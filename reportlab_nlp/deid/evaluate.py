"""Evaluation of predicted PHI spans against gold spans (``reportlab-nlp evaluate-deid``).

* Tokens are runs of letters/digits; a token is PHI (predicted or gold) if it overlaps a span.
  Token precision, recall and F1 count tokens over all records.
* Instance recall: a gold span is found if any predicted span overlaps it (any category).
* Per category: instance recall and token recall of that category's gold spans.
* ``flag_rate``: predicted-PHI tokens / all tokens, pre-redacted tokens ("XXXX") left out.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..errors import GoldTableError
from ..outputs import read_small_table
from .detect import PRE_REDACTED

TOKEN = re.compile(r"[^\W_]+")


def read_spans(path: str | Path, id_column: str | None = None) -> tuple[pd.DataFrame, str]:
    """A spans table (``<id>,start,end,category``); the id column is the first column unless named."""
    p = Path(path)
    df = read_small_table(p, "spans table")
    if id_column is None:
        if len(df.columns) == 0:
            raise GoldTableError(f"spans table {p.name} has no columns")
        id_column = str(df.columns[0])
    missing = [c for c in (id_column, "start", "end", "category") if c not in df.columns]
    if missing:
        raise GoldTableError(
            f"spans table {p.name} lacks column(s) {', '.join(missing)}; expected <id>,start,end,category"
        )
    out = pd.DataFrame({"id": df[id_column].astype(str)})
    for c in ("start", "end"):
        vals = pd.to_numeric(df[c], errors="coerce")
        if vals.isna().any():
            row = int(vals.isna().to_numpy().nonzero()[0][0]) + 2
            raise GoldTableError(f"spans table {p.name}: row {row} has a {c} that is not an integer")
        out[c] = vals.astype("int64")
    out["category"] = df["category"].astype(str).str.upper()
    bad = out[(out.start < 0) | (out.end <= out.start)]
    if len(bad):
        raise GoldTableError(f"spans table {p.name}: row {int(bad.index[0]) + 2} has start/end out of order")
    return out, id_column


def _token_flags(text: str, spans: list[tuple[int, int, str]]) -> tuple[list[tuple[int, int]], list[set]]:
    toks = [(m.start(), m.end()) for m in TOKEN.finditer(text)]
    starts = [t[0] for t in toks]
    flags: list[set] = [set() for _ in toks]
    for b, e, cat in spans:
        i = max(0, bisect.bisect_right(starts, b) - 1)
        while i < len(toks) and toks[i][0] < e:
            if toks[i][1] > b:
                flags[i].add(cat)
            i += 1
    return toks, flags


def evaluate_spans(pred: pd.DataFrame, gold: pd.DataFrame, texts: Mapping[str, str]) -> dict:
    """Metrics for predicted vs gold spans over ``texts`` (id -> text). Frames: id,start,end,category."""
    for name, df in (("predicted", pred), ("gold", gold)):
        unknown = sorted(set(df["id"]) - set(texts))
        if unknown:
            raise GoldTableError(
                f"{name} spans name {len(unknown)} record(s) not in the texts, e.g. {unknown[0]!r}"
            )
        for rid, end in zip(df["id"], df["end"]):
            if end > len(texts[rid]):
                raise GoldTableError(f"{name} span of record {rid!r} ends past the end of its text")
    pred_by = defaultdict(list)
    gold_by = defaultdict(list)
    for r in pred.itertuples(index=False):
        pred_by[r.id].append((int(r.start), int(r.end), r.category))
    for r in gold.itertuples(index=False):
        gold_by[r.id].append((int(r.start), int(r.end), r.category))
    tp = fp = fn = 0
    n_tokens = n_open = n_flagged_open = 0
    found = total = 0
    cat_n = defaultdict(int)
    cat_found = defaultdict(int)
    cat_tok = defaultdict(int)
    cat_tok_found = defaultdict(int)
    for rid, text in texts.items():
        ps, gs = pred_by.get(rid, []), gold_by.get(rid, [])
        toks, pflags = _token_flags(text, ps)
        _, gflags = _token_flags(text, gs)
        redacted = [(m.start(), m.end()) for m in PRE_REDACTED.finditer(text)]
        for (b, e), pf, gf in zip(toks, pflags, gflags):
            n_tokens += 1
            if pf and gf:
                tp += 1
            elif pf:
                fp += 1
            elif gf:
                fn += 1
            for c in gf:
                cat_tok[c] += 1
                if pf:
                    cat_tok_found[c] += 1
            if not any(rb <= b and e <= re_ for rb, re_ in redacted):
                n_open += 1
                if pf:
                    n_flagged_open += 1
        for b, e, c in gs:
            hit = any(pb < e and b < pe for pb, pe, _ in ps)
            total += 1
            cat_n[c] += 1
            if hit:
                found += 1
                cat_found[c] += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "records": len(texts),
        "tokens": n_tokens,
        "token_tp": tp,
        "token_fp": fp,
        "token_fn": fn,
        "token_precision": precision,
        "token_recall": recall,
        "token_f1": f1,
        "gold_spans": total,
        "predicted_spans": int(len(pred)),
        "instance_recall": found / total if total else 0.0,
        "flag_rate": n_flagged_open / n_open if n_open else 0.0,
        "per_category": {
            c: {
                "gold_spans": cat_n[c],
                "instance_recall": cat_found[c] / cat_n[c] if cat_n[c] else 0.0,
                "token_recall": cat_tok_found[c] / cat_tok[c] if cat_tok[c] else 0.0,
            }
            for c in sorted(cat_n)
        },
    }


def format_report(m: dict) -> str:
    lines = [
        f"records {m['records']}  tokens {m['tokens']}  gold spans {m['gold_spans']}  predicted spans "
        f"{m['predicted_spans']}",
        f"token precision {m['token_precision']:.4f}  recall {m['token_recall']:.4f}  F1 {m['token_f1']:.4f}"
        f"  (tp {m['token_tp']}, fp {m['token_fp']}, fn {m['token_fn']})",
        f"instance recall {m['instance_recall']:.4f}  flag rate {m['flag_rate']:.4%}",
        "",
        f"{'category':<10} {'gold':>6} {'inst.recall':>12} {'tok.recall':>11}",
    ]
    for c, v in m["per_category"].items():
        lines.append(f"{c:<10} {v['gold_spans']:>6} {v['instance_recall']:>12.4f} {v['token_recall']:>11.4f}")
    return "\n".join(lines)


def leaks(pred: pd.DataFrame, gold: pd.DataFrame, texts: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """``(id, category, value)`` of every gold span that no predicted span overlaps (holds PHI)."""
    by = defaultdict(list)
    for r in pred.itertuples(index=False):
        by[r.id].append((int(r.start), int(r.end)))
    out = []
    for r in gold.itertuples(index=False):
        b, e = int(r.start), int(r.end)
        if not any(pb < e and b < pe for pb, pe in by.get(r.id, ())):
            out.append((r.id, r.category, texts[r.id][b:e]))
    return out


def format_leaks(rows: list[tuple[str, str, str]]) -> str:
    lines = [f"leaked gold spans: {len(rows)}"]
    lines += [f"  {rid}\t{cat}\t{value!r}" for rid, cat, value in rows]
    return "\n".join(lines)


MARK = re.compile(r"\{(?P<cat>[A-Z]+):(?P<value>[^{}]+)\}")


def parse_marked(marked: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Plain text and gold spans of a sentence whose PHI is written inline as ``{CATEGORY:value}``.

    >>> parse_marked("seen by dr. {NAME:kowalski} today")
    ('seen by dr. kowalski today', [(12, 20, 'NAME')])
    """
    parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = n = 0
    for m in MARK.finditer(marked):
        parts.append(marked[pos : m.start()])
        n += m.start() - pos
        value = m.group("value")
        spans.append((n, n + len(value), m.group("cat")))
        parts.append(value)
        n += len(value)
        pos = m.end()
    parts.append(marked[pos:])
    return "".join(parts), spans


def read_marked_file(path: str | Path) -> list[tuple[str, str, list[tuple[int, int, str]]]]:
    """``(style, text, spans)`` per line ``style<TAB>marked text`` of a probe file ('#' lines skipped)."""
    rows = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if "\t" not in line:
            raise GoldTableError(f"probe file {Path(path).name}: line {i} has no tab between style and text")
        style, marked = line.split("\t", 1)
        text, spans = parse_marked(marked)
        rows.append((style, text, spans))
    return rows
