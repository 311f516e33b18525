"""The prompted labeler: generate, validate, retry once, reject -- never guess.

Every report gets at most ``1 + retries`` answers from the backend. The first valid one is used;
if none is valid, the report goes to the rejects with code RL450 and the last problem found.
Reports the backend cannot take at all (longer than the model's context: RL451) are rejected
without a retry; a backend failure on a batch is retried record by record (RL452).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ...errors import E
from ...inputs import Reject
from .answers import Answer, Cell, parse_answer
from .prompt import PromptSpec

log = logging.getLogger(__name__)

REJECT_INVALID = E.RL450
REJECT_TOO_LONG = E.RL451
REJECT_FAILED = E.RL452


@dataclass(frozen=True)
class Failure:
    """A report the backend could not answer (no text was generated)."""

    code: str
    reason: str
    retry: bool = False


class Backend(Protocol):
    """Generates one answer text (or a :class:`Failure`) per report; ``attempt`` is 0, then 1 on the retry."""

    name: str

    def generate(self, reports: Sequence[str], attempt: int) -> list[str | Failure]: ...


@dataclass
class LlmResult:
    record_id: str
    cells: dict[str, Cell]
    attempts: int


@dataclass
class LlmStats:
    answers: int = 0
    invalid_answers: int = 0
    retried: int = 0
    unverified_quotes: int = 0
    problems: dict[str, int] = field(default_factory=dict)


class LlmLabeler:
    def __init__(self, backend: Backend, prompt: PromptSpec, *, retries: int = 1):
        self.backend = backend
        self.prompt = prompt
        self.retries = int(retries)
        self.stats = LlmStats()

    def _generate(self, texts: Sequence[str], attempt: int) -> list[str | Failure]:
        try:
            out = list(self.backend.generate(texts, attempt))
        except (RuntimeError, ValueError) as err:
            if len(texts) == 1:
                return [Failure(REJECT_FAILED, f"generation failed ({type(err).__name__})", retry=True)]
            log.warning("generation failed on a batch (%s); retrying record by record", type(err).__name__)
            return [self._generate([t], attempt)[0] for t in texts]
        if len(out) != len(texts):
            raise RuntimeError("the backend returned a different number of answers than reports")
        return out

    def label(self, ids: Sequence[str], texts: Sequence[str]) -> tuple[list[LlmResult], list[Reject]]:
        """Results in input order for the reports answered validly; rejects for the rest."""
        pending = list(range(len(texts)))
        done: dict[int, LlmResult] = {}
        last_problem: dict[int, Failure | str] = {}
        for attempt in range(1 + self.retries):
            if not pending:
                break
            if attempt:
                self.stats.retried += len(pending)
            outs = self._generate([texts[i] for i in pending], attempt)
            still: list[int] = []
            for i, out in zip(pending, outs):
                if isinstance(out, Failure):
                    last_problem[i] = out
                    if out.retry:
                        still.append(i)
                    continue
                self.stats.answers += 1
                ans: Answer = parse_answer(out, self.prompt, texts[i])
                if ans.cells is None:
                    self.stats.invalid_answers += 1
                    self.stats.problems[ans.problem or "?"] = (
                        self.stats.problems.get(ans.problem or "?", 0) + 1
                    )
                    last_problem[i] = ans.problem or "invalid answer"
                    still.append(i)
                    continue
                self.stats.unverified_quotes += ans.unverified_quotes
                done[i] = LlmResult(str(ids[i]), ans.cells, attempt + 1)
            pending = still
        results = [done[i] for i in sorted(done)]
        rejects = []
        for i in sorted(set(range(len(texts))) - set(done)):
            p = last_problem.get(i, "no answer")
            if isinstance(p, Failure):
                rejects.append(Reject(str(ids[i]), p.reason, p.code))
            else:
                n = 1 + self.retries
                rejects.append(Reject(str(ids[i]), f"no valid answer in {n} attempt(s): {p}", REJECT_INVALID))
        return results, rejects
