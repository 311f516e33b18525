"""Quote damage on the dev corpora: how many intact records each reader keeps, loses or pairs
with the wrong text when one record's quoting is broken.

For each corpus and trial, one record of the CSV (as the corpus stores it) is damaged in one of
three ways: its closing quote is removed, a stray quote is put inside its text, or an opening
quote is put before an unquoted text. The damaged file is read with ``ReportSource`` and with
the old path (pandas' C reader, which either fails the whole file or merges records).

    python benchmarks/input_damage_dev.py [--data ../shared/data] [--trials 200]

Skips cleanly when the shared data folder is absent. Prints counts only, never report text.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd

from reportlab_nlp.inputs import ReportSource

CORPORA = (
    ("openi_dev/reports.csv", "report_id", "report"),
    ("ctrate_dev/reports.csv", "report_id", "report"),
    ("deid_dev/asq_phi_texts.csv", "id", "text"),
    ("deid_dev/presidio_synth_texts.csv", "id", "text"),
)


def damage(ids: list[str], texts: list[str], rng: random.Random) -> tuple[str, int, str]:
    """The CSV text with record ``k`` damaged, ``k`` and the kind of damage."""
    k = rng.randrange(len(ids))
    kind = rng.choice(["unclosed", "stray", "opened"])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rid", "text"])
    for i, (rid, text) in enumerate(zip(ids, texts)):
        if i != k:
            w.writerow([rid, text])
            continue
        quoted = '"' + text.replace('"', '""') + '"'
        if kind == "unclosed":
            line = f"{rid},{quoted[:-1]}"
        elif kind == "stray":
            cut = rng.randrange(1, len(quoted) - 1)
            line = f'{rid},{quoted[:cut]}"{quoted[cut:]}'
        else:
            one = io.StringIO()
            csv.writer(one, lineterminator="").writerow([text])
            line = f'{rid},"{one.getvalue()}'
        buf.write(line + "\n")
    return buf.getvalue(), k, kind


def score(kept: dict[str, str], ids: list[str], texts: list[str], k: int) -> Counter:
    c: Counter = Counter()
    for i, (rid, text) in enumerate(zip(ids, texts)):
        if i == k:
            c["damaged kept" if rid in kept else "damaged rejected"] += 1
        elif rid not in kept:
            c["intact lost"] += 1
        elif kept[rid] != text:
            c["intact wrong text"] += 1
        else:
            c["intact kept"] += 1
    c["ids not in input"] += len(set(kept) - set(ids))
    return c


def run(path: Path, id_col: str, text_col: str, trials: int, seed: int) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    ids, texts = df[id_col].tolist(), df[text_col].tolist()
    rng = random.Random(seed)
    new, old = Counter(), Counter()
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "damaged.csv"
        for _ in range(trials):
            body, k, _kind = damage(ids, texts, rng)
            p.write_text(body, encoding="utf-8")
            kept: dict[str, str] = {}
            known = set(ids)
            for ch in ReportSource(p, "rid", "text").chunks(500):
                kept.update(zip(ch.frame["rid"], ch.frame["text"]))
                new["reject ids not in input"] += sum(
                    not r.record_id.startswith("<line") and r.record_id not in known for r in ch.rejects
                )
            new += score(kept, ids, texts, k)
            try:
                o = pd.read_csv(p, dtype=str, keep_default_na=False, on_bad_lines="error")
                old_kept = dict(zip(o["rid"], o["text"]))
            except pd.errors.ParserError:
                old_kept = {}
                old["file refused"] += 1
            old += score(old_kept, ids, texts, k)
    n = trials * (len(ids) - 1)
    print(f"{path.parent.name}/{path.name}: {trials} damaged files, {n} intact records in all")
    for name, c in (("  old (pandas)", old), ("  new (ReportSource)", new)):
        print(f"{name}: " + ", ".join(f"{key} {c[key]}" for key in sorted(c)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipped: {args.data} is absent")
        sys.exit(0)
    for rel, id_col, text_col in CORPORA:
        if (args.data / rel).exists():
            run(args.data / rel, id_col, text_col, args.trials, args.seed)


if __name__ == "__main__":
    main()
