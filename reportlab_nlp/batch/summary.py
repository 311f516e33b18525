"""One summary type for every archive run (rules, model, hybrid, llm, deid)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunSummary:
    """Counts of a finished run: rows in = rows out + rejects, always.

    ``counters`` holds the engine's own counts (``mentions``, ``windows``, ``spans`` per category,
    ...); ``outputs`` maps each written output's name to its path. Nothing here holds report text.
    """

    rows_in: int = 0
    rows_out: int = 0
    rejects: int = 0
    seconds: float = 0.0
    output: str = ""
    rejects_path: str | None = None
    notes: list[str] = field(default_factory=list)
    counters: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    engine: str = ""
    executor: str = ""

    @property
    def mentions(self) -> int:
        """Evidence records written (the rule engine's mentions)."""
        return int(self.counters.get("mentions", 0))

    @property
    def evidence(self) -> str | None:
        """The evidence file's path, when one was written."""
        return self.outputs.get("evidence")

    @property
    def reports_per_second(self) -> float:
        return self.rows_out / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "executor": self.executor,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rejects": self.rejects,
            "mentions": self.mentions,
            "seconds": round(self.seconds, 3),
            "reports_per_second": round(self.reports_per_second, 1),
            "output": self.output,
            "evidence": self.evidence,
            "rejects_path": self.rejects_path,
            "notes": list(self.notes),
            "counters": dict(self.counters),
        }


def add_counts(total: Mapping[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    """``total + more`` key by key: numbers add up, nested mappings (counts per category) too."""
    out = dict(total)
    for key, value in more.items():
        if isinstance(value, Mapping):
            out[key] = add_counts(out.get(key) or {}, value)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            out[key] = value
        else:
            out[key] = out.get(key, 0) + value
    return out
