"""What the QA report shows, computed from the label table, evidence JSONL, review and rejects files."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import E, ExportError
from ..export.tables import load_labels, read_strings

VALUE_NAMES = (("positive", 1.0), ("negative", 0.0), ("uncertain", -1.0))


@dataclass
class ReportData:
    labels: tuple[str, ...]
    n_reports: int
    prevalence: pd.DataFrame  # label x positive/negative/uncertain/blank counts
    cooccurrence: pd.DataFrame  # label x label: reports positive for both
    label_rejects: int
    rejects_by_code: dict[str, int] = field(default_factory=dict)
    section_patterns: pd.Series | None = None  # pattern -> reports
    samples: dict[str, list[dict]] = field(default_factory=dict)  # label -> [{report_id, sentences: [...]}]
    disagreements: pd.DataFrame | None = None


def label_stats(matrix: np.ndarray, labels: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    counts = {name: (matrix == v).sum(axis=0) for name, v in VALUE_NAMES}
    counts["blank"] = np.isnan(matrix).sum(axis=0)
    prevalence = pd.DataFrame(counts, index=list(labels)).astype(int)
    pos = (matrix == 1.0).astype(np.int64)
    co = pd.DataFrame(pos.T @ pos, index=list(labels), columns=list(labels))
    return prevalence, co


EVIDENCE_FIELDS = [
    "report_id",
    "label",
    "assertion",
    "section",
    "sentence",
    "sentence_start",
    "start",
    "end",
    "text",
    "trigger",
    "trigger_start",
    "trigger_end",
]


def _bad_line(path: Path) -> int:
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if line.strip():
                try:
                    json.loads(line)
                except json.JSONDecodeError:
                    return i
    return 0


def read_evidence(path: Path) -> pd.DataFrame:
    """The evidence JSONL of ``label --evidence`` (pyarrow's JSON reader; only the fields shown)."""
    import pyarrow as pa
    import pyarrow.json as pj

    if not path.is_file():
        raise ExportError(f"evidence file {path} does not exist", code=E.RL701)
    if path.stat().st_size == 0:
        return pd.DataFrame(columns=EVIDENCE_FIELDS)
    try:
        table = pj.read_json(path)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        raise ExportError(
            f"evidence file {path.name}: line {_bad_line(path)} is not a JSON record", code=E.RL709
        ) from None
    need = ["report_id", "label", "section", "sentence", "sentence_start", "start", "end"]
    missing = [c for c in need if c not in table.column_names]
    if missing:
        raise ExportError(f"evidence file {path.name} lacks fields {', '.join(missing)}", code=E.RL709)
    frame = table.select([c for c in EVIDENCE_FIELDS if c in table.column_names]).to_pandas()
    frame["report_id"] = frame["report_id"].astype(str)
    return frame


def section_patterns(evidence: pd.DataFrame) -> pd.Series:
    """Reports per pattern: the sorted set of sections their mentions came from (``findings+impression``)."""
    if evidence.empty:
        return pd.Series(dtype=int)
    pairs = (
        evidence[["report_id", "section"]].astype(str).drop_duplicates().sort_values(["report_id", "section"])
    )
    pat = pairs.groupby("report_id", sort=False)["section"].agg("+".join)
    return pat.value_counts()


def sample_reports(
    evidence: pd.DataFrame, labels: Sequence[str], per_label: int, seed: int
) -> dict[str, list[dict]]:
    """Up to ``per_label`` reports per label (seeded), each with its evidence sentences for that label."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[dict]] = {}
    if evidence.empty:
        return out
    ev = evidence[evidence["label"].isin(labels)]
    by_label = dict(tuple(ev.groupby("label", sort=False)))
    for label in labels:
        sub = by_label.get(label, ev.iloc[:0])
        ids = sorted(sub["report_id"].unique())
        chosen = sorted(rng.choice(ids, size=min(per_label, len(ids)), replace=False).tolist()) if ids else []
        reports = []
        sub = sub[sub["report_id"].isin(chosen)]
        for rid in chosen:
            mentions = sub[sub["report_id"] == rid]
            sentences = []
            for (s_start, sentence), group in mentions.groupby(["sentence_start", "sentence"], sort=True):
                sentences.append(
                    {
                        "sentence": sentence,
                        "sentence_start": int(s_start),
                        "mentions": group.to_dict(orient="records"),
                    }
                )
            reports.append({"report_id": rid, "sentences": sentences})
        out[label] = reports
    return out


def build_report_data(
    labels_path: Path,
    evidence_path: Path | None = None,
    review_path: Path | None = None,
    rejects_path: Path | None = None,
    taxonomy: str = "chexpert",
    per_label: int = 3,
    seed: int = 0,
) -> ReportData:
    from ..schema import load_taxonomy

    names = [lab.name for lab in load_taxonomy(taxonomy).labels]
    table = load_labels(Path(labels_path), names)
    present = [n for n in names if n not in table.missing_labels]
    idx = [names.index(n) for n in present]
    prevalence, co = label_stats(table.matrix[:, idx], present)
    data = ReportData(tuple(present), len(table.ids), prevalence, co, int(len(table.rejects)))
    codes: Counter = Counter(table.rejects["code"].tolist())
    if rejects_path is not None:
        rej = read_strings(Path(rejects_path), "rejects file")
        if "code" not in rej.columns:
            raise ExportError(f"rejects file {Path(rejects_path).name} has no 'code' column", code=E.RL701)
        codes.update(rej["code"].tolist())
    data.rejects_by_code = dict(sorted(codes.items()))
    if evidence_path is not None:
        ev = read_evidence(Path(evidence_path))
        data.section_patterns = section_patterns(ev)
        data.samples = sample_reports(ev, present, per_label, seed)
    if review_path is not None:
        rv = read_strings(Path(review_path), "review file")
        need = {"label", "rule_value", "model_value"}
        if not need <= set(rv.columns):
            raise ExportError(
                f"review file {Path(review_path).name} lacks {', '.join(sorted(need - set(rv.columns)))}",
                code=E.RL701,
            )
        data.disagreements = (
            rv.groupby(["label", "rule_value", "model_value"])
            .size()
            .rename("cells")
            .reset_index()
            .sort_values(["label", "cells"], ascending=[True, False])
        )
    return data
