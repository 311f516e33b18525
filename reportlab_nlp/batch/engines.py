"""What the archive runner asks of an engine, and the pieces of work it hands over.

An engine (rules, model, hybrid, llm, deid) is a small picklable object. The runner, or each
worker process / Ray actor, calls :meth:`Engine.setup` once -- this loads the spaCy pipeline or
the model -- and then :meth:`Engine.process` for each :class:`Work` item. Engines live next to
their domain (``reportlab_nlp.labeler``, ``reportlab_nlp.deid.pipeline``,
``reportlab_nlp.model.labeling``, ``reportlab_nlp.model.llm.labeling``); this module imports
none of them, nor spaCy or torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from ..inputs import Reject
from .summary import add_counts


@dataclass
class Work:
    """Rows of one chunk for an engine: all input columns kept, with their markup offset maps.

    ``chunk`` is the chunk's number in the archive; ``piece`` numbers the pieces a chunk was
    split into (for worker pools and Ray actors). ``prepared`` is what :meth:`Engine.prepare`
    returned for this work (tokenised text, for example), or None.
    """

    chunk: int
    frame: pd.DataFrame
    id_column: str
    text_column: str
    offset_maps: list[Any] = field(default_factory=list)
    piece: int = 0
    prepared: Any = None

    @property
    def ids(self) -> list[Any]:
        return list(self.frame[self.id_column].tolist()) if len(self.frame) else []

    @property
    def texts(self) -> list[str]:
        return list(self.frame[self.text_column].tolist()) if len(self.frame) else []

    def split(self, size: int) -> list[Work]:
        """Pieces of at most ``size`` rows, in order (one empty piece for an empty chunk)."""
        n = len(self.frame)
        if n <= size:
            return [self]
        maps = self.offset_maps or [None] * n
        return [
            Work(
                self.chunk,
                self.frame.iloc[i : i + size].reset_index(drop=True),
                self.id_column,
                self.text_column,
                list(maps[i : i + size]),
                piece=k,
            )
            for k, i in enumerate(range(0, n, size))
        ]


@dataclass
class Result:
    """An engine's answer for one :class:`Work`.

    ``outputs`` maps an output name to a DataFrame (table outputs) or a list of JSON-able dicts
    (JSONL outputs); ``rejects`` are the records the engine refused (id, code, reason -- never
    text); ``counters`` are additive counts (numbers, or mappings of numbers) for the summary.
    """

    outputs: dict[str, Any] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    rows_out: int = 0
    counters: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def merge(results: Sequence[Result]) -> Result:
        """The pieces of one chunk, in order, as one result."""
        if len(results) == 1:
            return results[0]
        outputs: dict[str, Any] = {}
        for name in dict.fromkeys(k for r in results for k in r.outputs):
            values = [r.outputs[name] for r in results if name in r.outputs]
            if all(isinstance(v, pd.DataFrame) for v in values):
                non_empty = [v for v in values if len(v)]
                outputs[name] = pd.concat(non_empty, ignore_index=True) if non_empty else values[0]
            else:
                outputs[name] = [rec for v in values for rec in (v or [])]
        counters: dict[str, Any] = {}
        for r in results:
            counters = add_counts(counters, r.counters)
        return Result(
            outputs,
            [rej for r in results for rej in r.rejects],
            sum(r.rows_out for r in results),
            counters,
        )


@runtime_checkable
class Engine(Protocol):
    """The interface every archive engine shares.

    ``name`` goes into the resume manifest and the summary; ``splittable`` says whether a chunk
    may be cut into pieces for parallel workers (the result must not depend on the cut).
    """

    name: str
    splittable: bool

    def setup(self) -> None:
        """Load what processing needs (pipeline, model); called once per process or actor."""

    def process(self, work: Work) -> Result:
        """Process one piece of work; a bad record becomes a reject, never an exception."""
        ...

    def options(self) -> dict[str, Any]:
        """The options that decide the output (recorded in the resume manifest)."""
        ...

    def rules_hash(self) -> str:
        """A hash of the rules/model files that decide the output (recorded in the manifest)."""
        ...


def prepare(engine: Engine, work: Work) -> Work:
    """Run the engine's optional ``prepare`` step (e.g. tokenising) on ``work``."""
    step = getattr(engine, "prepare", None)
    if step is not None and work.prepared is None:
        work.prepared = step(work)
    return work


def run_pieces(engine: Engine, pieces: Iterable[Work]) -> Result:
    """Process pieces in this process and merge them (the single-process path)."""
    return Result.merge([engine.process(prepare(engine, w)) for w in pieces])
