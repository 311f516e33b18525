"""``run_archive``: stream an archive through an engine into staged outputs, resumably.

The loop every archive command shares (``label`` with any engine, ``deid``):

1. the driver reads the archive chunk by chunk through :class:`~reportlab_nlp.inputs.ReportSource`
   (strict decoding; unreadable records become rejects here, on the driver);
2. each chunk is cut into pieces of work (when the engine allows it) and handed to the executor
   (this process, a process pool or Ray actors), which returns results in input order;
3. each chunk's results are committed through :class:`~.staging.StagedRun`: part files under
   ``<output>.partial/`` and a manifest of completed chunks, so ``resume=True`` continues after
   a crash; at the end the outputs are assembled and renamed into place atomically.

Output rows are in input order whatever the executor. Rows in = rows out + rejects, checked.
Progress is reported only through the ``on_progress`` callback (records done per chunk).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from ..errors import E, ReportLabError
from ..inputs import Chunk
from .engines import Engine, Work
from .executors import Executor, Job, LocalExecutor
from .sinks import Sink, SummarySink
from .staging import OutputSpec, StagedRun, fingerprint_input
from .summary import RunSummary, add_counts

BASE_COUNTERS = ("rows_in", "rows_out", "rejects", "control_chars", "stripped")


class Source(Protocol):
    """What the runner reads: :class:`~reportlab_nlp.inputs.ReportSource` or anything shaped like it."""

    path: Path
    id_column: str
    text_column: str
    notes: list[str]

    def chunks(self, size: int = ...) -> Iterator[Chunk]: ...


def files_hash(*roots: str | Path) -> str:
    """A quick hash of the files under ``roots``: names, sizes, modification times, small files' bytes.

    For model folders, whose weights are too large to read on every run.
    """
    h = hashlib.sha256()
    for root in roots:
        r = Path(root)
        files = [r] if r.is_file() else sorted(f for f in r.rglob("*") if f.is_file())
        for f in files:
            st = f.stat()
            h.update(f"{f.relative_to(r) if f != r else f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            if st.st_size <= 1 << 20:
                h.update(f.read_bytes())
    return h.hexdigest()[:32]


def _version() -> str:
    from .. import __version__

    return str(__version__)


def run_archive(
    source: Source,
    engine: Engine,
    sinks: Sequence[Sink],
    *,
    chunk_size: int,
    executor: Executor | None = None,
    on_progress: Callable[[int], None] | None = None,
    resume: bool = False,
    primary: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
) -> RunSummary:
    """Run ``engine`` over every record of ``source`` into ``sinks``; the summary of the run.

    ``primary`` is the output beside which ``<primary>.partial/`` is kept (default: the first
    sink). ``options`` are extra settings that decide the output (reading options, for example);
    with the engine's options, the chunk size, the columns and the output paths they make up the
    fingerprint a resumed run must match (RL303). The sink holding rejects must be named
    ``rejects``; every chunk's reader rejects go there before the engine's own.
    """
    t0 = time.perf_counter()
    executor = executor or LocalExecutor(1)
    outputs = [s for s in sinks if isinstance(s, OutputSpec)]
    finals = [s for s in sinks if isinstance(s, SummarySink)]
    if not outputs:
        raise ReportLabError("internal error: a run needs at least one output", code=E.RL900)
    primary_path = Path(primary) if primary is not None else outputs[0].path
    fingerprint = {
        "input": fingerprint_input(source.path),
        "options": {
            "engine": engine.name,
            **engine.options(),
            **dict(options or {}),
            "id_column": source.id_column,
            "text_column": source.text_column,
            "chunk_size": chunk_size,
            "outputs": {o.name: os.path.realpath(o.path) for o in outputs},
        },
        "rules": engine.rules_hash(),
        "version": _version(),
    }
    staged = StagedRun(primary_path, outputs, fingerprint, resume=resume)
    counters: dict[str, Any] = dict.fromkeys(BASE_COUNTERS, 0)
    counters.update(staged.counters)
    piece = executor.piece_size(chunk_size)

    def jobs() -> Iterator[Job]:
        for index, chunk in enumerate(source.chunks(chunk_size)):
            if index < staged.completed:
                continue  # done before the interruption (read again only to keep duplicate-id checks)
            work = Work(index, chunk.frame, source.id_column, source.text_column, list(chunk.offset_maps))
            pending[index] = chunk
            yield Job(index, work.split(piece) if engine.splittable else [work])

    pending: dict[int, Chunk] = {}
    clean = False
    try:
        for job, result in executor.run(engine, jobs()):
            chunk = pending.pop(job.index)
            rejects = [*chunk.rejects, *result.rejects]
            counters = add_counts(counters, result.counters)
            counters = add_counts(
                counters,
                {
                    "rows_in": chunk.n_in,
                    "rows_out": result.rows_out,
                    "rejects": len(rejects),
                    "control_chars": chunk.control_chars,
                    "stripped": sum(m is not None for m in chunk.offset_maps),
                },
            )
            staged.commit(job.index, {**result.outputs, "rejects": rejects}, counters)
            if on_progress is not None:
                on_progress(chunk.n_in)
        clean = True
    finally:
        if clean:
            executor.close()
        else:
            executor.terminate()
    if counters["rows_in"] != counters["rows_out"] + counters["rejects"]:
        raise ReportLabError(
            f"internal accounting error: {counters['rows_in']} rows in, {counters['rows_out']} out, "
            f"{counters['rejects']} rejected",
            code=E.RL900,
        )
    staged.finish()
    rejects_spec = next((o for o in outputs if o.kind == "rejects"), None)
    summary = RunSummary(
        rows_in=int(counters["rows_in"]),
        rows_out=int(counters["rows_out"]),
        rejects=int(counters["rejects"]),
        output=str(outputs[0].path) if primary is None else str(primary),
        rejects_path=str(rejects_spec.path) if rejects_spec is not None and counters["rejects"] else None,
        notes=[*source.notes, *staged.notes],
        counters={k: v for k, v in counters.items() if k not in ("rows_in", "rows_out", "rejects")},
        outputs={o.name: str(o.path) for o in outputs},
        engine=engine.name,
        executor=executor.name,
    )
    summary.seconds = time.perf_counter() - t0
    for final in finals:
        final.write(summary)
    return summary
