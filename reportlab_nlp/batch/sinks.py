"""Where an archive run writes: staged, atomic outputs (see :mod:`.staging`).

Every per-chunk output is an :class:`~.staging.OutputSpec` (written chunk by chunk under
``<output>.partial/`` and assembled atomically at the end); a :class:`SummarySink` is one JSON
file written atomically from the finished run's summary (the de-identifier's audit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .staging import OutputSpec, write_json_atomic
from .summary import RunSummary

REVIEW_COLUMNS = ("label", "rule_value", "model_value", "model_probability", "final_value")
REVIEW_FLOATS = ("rule_value", "model_value", "model_probability", "final_value")
SPAN_COLUMNS = ("start", "end", "category")


def label_table(path: str | Path, id_column: str, labels: Sequence[str], name: str = "labels") -> OutputSpec:
    """The label table: the id column, then one float column per label (1 / 0 / -1 / blank)."""
    return OutputSpec(name, Path(path), "table", (id_column, *labels), tuple(labels))


def table(
    name: str, path: str | Path, columns: Sequence[str], float_columns: Sequence[str] = ()
) -> OutputSpec:
    """Any other table with a fixed column list (the de-identified reports, for example)."""
    return OutputSpec(name, Path(path), "table", tuple(columns), tuple(float_columns))


def evidence(path: str | Path) -> OutputSpec:
    """Evidence records, one JSON line each."""
    return OutputSpec("evidence", Path(path), "jsonl")


def rejects(path: str | Path, id_column: str) -> OutputSpec:
    """``<id column>,code,reason`` rows; no file when nothing was rejected."""
    return OutputSpec("rejects", Path(path), "rejects", id_column=id_column)


def review(path: str | Path, id_column: str) -> OutputSpec:
    """Hybrid runs: one row per cell where the rules and the model disagree."""
    return OutputSpec("review", Path(path), "table", (id_column, *REVIEW_COLUMNS), REVIEW_FLOATS)


def spans(path: str | Path, id_column: str, name: str = "spans") -> OutputSpec:
    """De-identification spans: ``<id column>,start,end,category`` (offsets, never text)."""
    return OutputSpec(name, Path(path), "table", (id_column, *SPAN_COLUMNS))


@dataclass(frozen=True)
class SummarySink:
    """A JSON file made from the finished run's summary (``render``), written atomically."""

    name: str
    path: Path
    render: Callable[[RunSummary], dict[str, Any]]

    def write(self, summary: RunSummary) -> None:
        write_json_atomic(self.path, self.render(summary))


def audit(path: str | Path, render: Callable[[RunSummary], dict[str, Any]]) -> SummarySink:
    """The de-identifier's audit: counts per category, nothing identifying."""
    return SummarySink("audit", Path(path), render)


Sink = OutputSpec | SummarySink
