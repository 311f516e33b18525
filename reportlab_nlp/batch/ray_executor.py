"""Run an engine on a Ray cluster with Ray Data (``--executor ray``).

The driver keeps reading: chunks come from :class:`~reportlab_nlp.inputs.ReportSource` on the
driver, so strict decoding and reader rejects stay there, and results are committed chunk by
chunk through the runner's :class:`~.staging.StagedRun` (its manifest of completed chunks is what
``--resume`` continues from). For each window of chunks the driver builds a dataset
(``ray.data.from_items``, one row per piece of work, in order) and maps it with
``map_batches`` over a callable class on an actor pool (``ActorPoolStrategy(size=actors)``), so
each actor calls the engine's ``setup()`` -- loads the spaCy pipeline or the model -- once per
window, not per piece. ``num_gpus`` per actor is passed through for model engines; the
explicit ``batch_size`` is the number of pieces an actor gets per call.

Order: ``DataContext.execution_options.preserve_order`` is set and the results are also sorted
by the piece's sequence number, so the output rows are in input order, exactly as with the
local executor; a chunk is committed only when all its pieces are back, so no row is written
twice or dropped, and a resumed run starts at the first chunk the manifest does not list.

Ray is an optional extra (``pip install 'reportlab-nlp[ray]'``); without it this executor raises
RL320 with that hint.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import E, ReportLabError
from .engines import Engine, Result, Work, prepare
from .executors import Job, check_workers, piece_size_for

INSTALL_HINT = "pip install 'reportlab-nlp[ray]'"
DEFAULT_WINDOW_RECORDS = 50_000


def import_ray() -> Any:
    """The ``ray`` module, or RL320 saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise ReportLabError(
            f"--executor ray needs Ray Data, which is not installed; install it with: {INSTALL_HINT}",
            code=E.RL320,
        ) from None
    return ray


class _Failed:
    """A coded error raised by the engine in an actor, carried back to the driver."""

    def __init__(self, err: ReportLabError):
        self.message = str(err.args[0]) if err.args else ""
        self.code = err.code

    def raise_(self) -> None:
        raise ReportLabError(self.message, code=self.code)


class EngineActor:
    """The callable class Ray Data runs on each actor: one engine, set up once."""

    def __init__(self, engine: bytes):
        self.engine: Engine = pickle.loads(engine)
        self.engine.setup()

    def __call__(self, batch: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        out: list[bytes] = []
        for blob in batch["work"]:
            work: Work = pickle.loads(blob)
            try:
                res: Result | _Failed = self.engine.process(prepare(self.engine, work))
            except ReportLabError as err:
                res = _Failed(err)
            out.append(pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL))
        return {"seq": np.asarray(batch["seq"]), "result": np.array(out, dtype=object)}


class RayExecutor:
    """Ray Data actors: ``actors`` of them, each with ``num_cpus`` (and ``num_gpus``) reserved.

    ``address``: None starts a local Ray instance (or uses the one already initialised),
    ``"auto"`` joins the cluster this machine belongs to, ``"ray://host:10001"`` a remote one.
    ``window_records`` bounds how many records are in flight (one dataset per window).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        actors: int = 2,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        batch_size: int = 1,
        window_records: int = DEFAULT_WINDOW_RECORDS,
        init_kwargs: dict[str, Any] | None = None,
    ):
        import_ray()  # RL320 with the install hint before anything is written
        self.address = address
        self.workers = check_workers(actors)
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.batch_size = check_workers(batch_size)
        self.window_records = check_workers(window_records)
        self.init_kwargs = dict(init_kwargs or {})
        self.startup_seconds = 0.0
        self._owned = False
        self._chunk_size = 1

    def piece_size(self, chunk_size: int) -> int:
        self._chunk_size = chunk_size
        return piece_size_for(chunk_size, self.workers)

    def _connect(self) -> Any:
        ray = import_ray()
        t0 = time.perf_counter()
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "ignore_reinit_error": True,
                "logging_level": logging.WARNING,
                **self.init_kwargs,
            }
            try:
                ray.init(address=self.address, **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise ReportLabError(
                    f"cannot connect to the Ray cluster at {self.address or 'a new local instance'} "
                    f"({type(err).__name__}); check --ray-address",
                    code=E.RL321,
                ) from None
            self._owned = True
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        self.startup_seconds = time.perf_counter() - t0
        return ray

    def run(self, engine: Engine, jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        ray = self._connect()
        blob = pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL)
        per_window = max(self.workers * 2, self.window_records // max(1, self._chunk_size))
        it = iter(jobs)
        while True:
            window = list(islice(it, per_window))
            if not window:
                return
            yield from self._run_window(ray, blob, window)

    def _run_window(self, ray: Any, blob: bytes, window: list[Job]) -> Iterator[tuple[Job, Result]]:
        items = []
        owner: list[int] = []  # piece seq -> position of its job in the window
        for pos, job in enumerate(window):
            for w in job.pieces:
                items.append({"seq": len(owner), "work": pickle.dumps(w, protocol=pickle.HIGHEST_PROTOCOL)})
                owner.append(pos)
        ds = ray.data.from_items(items, override_num_blocks=max(1, len(items))).map_batches(
            EngineActor,
            fn_constructor_kwargs={"engine": blob},
            compute=ray.data.ActorPoolStrategy(size=self.workers),
            batch_size=self.batch_size,
            batch_format="numpy",
            num_cpus=self.num_cpus,
            num_gpus=self.num_gpus or None,
        )
        got: dict[int, Result] = {}
        next_job = 0
        left = [len(job.pieces) for job in window]
        try:
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                for seq, res_blob in zip(batch["seq"].tolist(), batch["result"]):
                    res = pickle.loads(res_blob)
                    if isinstance(res, _Failed):
                        res.raise_()
                    if int(seq) in got:
                        raise ReportLabError(f"internal error: piece {seq} came back twice", code=E.RL900)
                    got[int(seq)] = res
                    left[owner[int(seq)]] -= 1
                while next_job < len(window) and left[next_job] == 0:
                    yield window[next_job], self._merge(window, next_job, owner, got)
                    next_job += 1
        except ReportLabError:
            raise
        except Exception as err:  # a worker died or Ray failed: say which, never with data
            raise ReportLabError(
                f"the Ray run failed ({type(err).__name__}); completed chunks are kept, rerun with --resume",
                code=E.RL322,
            ) from None
        if next_job != len(window):
            raise ReportLabError(
                f"internal error: {len(window) - next_job} chunk(s) did not come back from Ray", code=E.RL900
            )

    @staticmethod
    def _merge(window: list[Job], pos: int, owner: list[int], got: dict[int, Result]) -> Result:
        seqs = sorted(s for s, o in enumerate(owner) if o == pos)
        return Result.merge([got.pop(s) for s in seqs])

    def close(self) -> None:
        if self._owned:
            import ray

            ray.shutdown()
            self._owned = False

    def terminate(self) -> None:
        self.close()
