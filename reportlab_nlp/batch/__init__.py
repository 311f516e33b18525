"""The archive runner and its machinery: engines, executors, sinks, staged outputs, path guards.

:func:`run_archive` streams an archive through an engine (rules, model, hybrid, llm, deid) with an
executor (this process, a local process pool, or Ray actors) into staged outputs; ``guard_paths``
refuses an output that would overwrite an input or another output before anything is opened for
writing; :class:`StagedRun` writes each chunk's results as part files beside the output, records
completed chunks in a manifest, and assembles the final files atomically when the run ends
cleanly, so ``resume=True`` continues an interrupted run.

Nothing here imports spaCy, torch, Ray or the domain modules at import time: engines are passed
in, and the Ray executor imports Ray when it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .engines import Engine, Result, Work
from .executors import Executor, Job, LocalExecutor
from .paths import guard_paths
from .runner import files_hash, run_archive
from .staging import OutputSpec, StagedRun, fingerprint_input, tree_hash
from .summary import RunSummary

if TYPE_CHECKING:
    from .ray_executor import RayExecutor

EXECUTORS = ("local", "ray")


def make_executor(
    name: str = "local",
    *,
    workers: int = 1,
    ray_address: str | None = None,
    num_gpus: float = 0.0,
    batch_size: int = 1,
) -> Executor:
    """``local`` (this process / a process pool of ``workers``) or ``ray`` (``workers`` actors)."""
    from ..errors import ArgumentError

    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(address=ray_address, actors=workers, num_gpus=num_gpus, batch_size=batch_size)
    raise ArgumentError(f"unknown executor {name!r}; expected one of {', '.join(EXECUTORS)}")


def __getattr__(name: str) -> Any:
    if name == "RayExecutor":
        from .ray_executor import RayExecutor

        return RayExecutor
    raise AttributeError(f"module 'reportlab_nlp.batch' has no attribute {name!r}")


__all__ = [
    "EXECUTORS",
    "Engine",
    "Executor",
    "Job",
    "LocalExecutor",
    "OutputSpec",
    "RayExecutor",
    "Result",
    "RunSummary",
    "StagedRun",
    "Work",
    "files_hash",
    "fingerprint_input",
    "guard_paths",
    "make_executor",
    "run_archive",
    "tree_hash",
]
