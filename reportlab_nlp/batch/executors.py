"""Where the engine runs: in this process, in a local process pool, or on a Ray cluster.

An executor takes :class:`Job` items (one chunk of the archive, cut into pieces of work) and
yields ``(job, result)`` in the jobs' order, whatever order the workers finish in. Writing,
counting and resume stay with the runner (:mod:`.runner`); executors only compute.

* :class:`LocalExecutor` ``workers=1``: in this process. An engine with a ``prepare`` step
  (the model engines tokenise) gets it run in a background thread for the next chunk while
  the current one is processed.
* :class:`LocalExecutor` ``workers=N``: a pool of N forked processes; the engine is set up
  once in the parent (forked workers inherit the loaded pipeline) and once per worker.
* :class:`~.ray_executor.RayExecutor`: Ray Data actors (``executor="ray"``).
"""

from __future__ import annotations

import gc
import multiprocessing as mp
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult, Pool
from typing import Any, Protocol

from ..errors import ArgumentError
from .engines import Engine, Result, Work, prepare, run_pieces


@dataclass
class Job:
    """One chunk of the archive: its number and its pieces of work, in order."""

    index: int
    pieces: list[Work]


class Executor(Protocol):
    name: str
    workers: int

    def piece_size(self, chunk_size: int) -> int:
        """How many rows each piece of a splittable chunk gets."""
        ...

    def run(self, engine: Engine, jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        """Each job's merged result, in job order."""
        ...

    def close(self) -> None:
        """Release workers after a clean run."""

    def terminate(self) -> None:
        """Stop workers at once (the run failed or was interrupted)."""


def check_workers(workers: Any) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ArgumentError(f"workers must be a whole number of at least 1, got {workers!r}")
    return workers


def piece_size_for(chunk_size: int, workers: int) -> int:
    """Pieces small enough to keep every worker busy, large enough to keep overhead low (16..256)."""
    return max(16, min(256, chunk_size // max(1, workers * 2)))


# ---------------------------------------------------------------- process pool workers
_ENGINE: Engine | None = None


def _worker_init(engine: Engine) -> None:
    global _ENGINE
    _ENGINE = engine
    engine.setup()
    gc.collect()
    gc.freeze()  # the loaded pipeline is long-lived: keep the collector from scanning it again and again
    gc.set_threshold(50_000, 50, 100)


def _worker_run(work: Work) -> Result:
    assert _ENGINE is not None
    return _ENGINE.process(prepare(_ENGINE, work))


class LocalExecutor:
    """This process (``workers=1``) or a pool of forked worker processes (``workers=N``)."""

    name = "local"

    def __init__(self, workers: int = 1):
        self.workers = check_workers(workers)
        self._pool: Pool | None = None
        self._reader: ThreadPoolExecutor | None = None

    def piece_size(self, chunk_size: int) -> int:
        return piece_size_for(chunk_size, self.workers)

    def run(self, engine: Engine, jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        engine.setup()  # in the parent too: forked workers inherit what it loaded
        if self.workers == 1:
            if getattr(engine, "prepare", None) is None:
                for job in jobs:
                    yield job, run_pieces(engine, job.pieces)
            else:
                yield from self._run_prefetching(engine, jobs)
            return
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        self._pool = pool = ctx.Pool(self.workers, initializer=_worker_init, initargs=(engine,))
        pending: deque[tuple[Job, list[AsyncResult[Result]]]] = deque()
        in_flight = 0
        for job in jobs:
            pending.append((job, [pool.apply_async(_worker_run, (w,)) for w in job.pieces]))
            in_flight += len(job.pieces)
            while pending and in_flight >= self.workers * 3:
                done, futures = pending.popleft()
                in_flight -= len(futures)
                yield done, Result.merge([f.get() for f in futures])
        while pending:
            done, futures = pending.popleft()
            yield done, Result.merge([f.get() for f in futures])

    def _run_prefetching(self, engine: Engine, jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        """Read and prepare job n+1 in a background thread while job n is processed."""
        it = iter(jobs)

        def next_job() -> Job | None:
            job = next(it, None)
            if job is not None:
                for w in job.pieces:
                    prepare(engine, w)
            return job

        self._reader = reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportlab-prepare")
        fut: Future[Job | None] = reader.submit(next_job)
        while True:
            job = fut.result()
            if job is None:
                return
            fut = reader.submit(next_job)
            yield job, run_pieces(engine, job.pieces)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.shutdown(wait=True, cancel_futures=True)
        if self._pool is not None:
            self._pool.close()
            self._pool.join()

    def terminate(self) -> None:
        if self._reader is not None:
            self._reader.shutdown(wait=True, cancel_futures=True)
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
