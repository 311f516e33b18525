"""Shared by the benchmark and evaluation scripts: where the Open-i development reports live."""

from __future__ import annotations

import csv
from pathlib import Path

OPENI_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "openi_dev"
OPENI_REPORTS = OPENI_DIR / "reports.csv"


def read_report_texts(path: Path = OPENI_REPORTS, limit: int | None = None) -> list[str] | None:
    """Report texts of a ``report_id,report`` CSV, or None (after saying so) when it is absent."""
    if not Path(path).is_file():
        print(f"skipped: {path} not found")
        return None
    csv.field_size_limit(10**8)
    with open(path, encoding="utf-8", newline="") as fh:
        texts = [r["report"] or "" for r in csv.DictReader(fh)]
    return texts[:limit] if limit is not None else texts
