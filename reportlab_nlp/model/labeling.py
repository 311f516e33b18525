"""``label --engine model|hybrid``: label an archive with a trained labeler.

The output table is the rule labeler's format: the input id column under its input name, then
the model's labels in canonical order, cells 1.0 / 0.0 / -1.0 / blank. Rejected records go to
the rejects file (rows in = rows out + rejects).

Hybrid policy (rules first, the model fills what the rules miss):

1. Where the rules give a label a value (a mention with evidence), that value is kept.
2. Where the rules leave it blank and the model predicts positive, negative or uncertain with
   probability >= :data:`HYBRID_FILL_PROBABILITY`, the model's value is used (its evidence
   record says ``source: model`` and carries the probability).
3. ``No Finding`` stays consistent: if after step 2 any finding label is positive or uncertain,
   a positive ``No Finding`` is cleared to blank.

Every cell where the rule value and the model's value differ is written to ``--review`` with
the report id, label, rule value, model value, model probability and the value written.
Reading, tokenising the next chunk and the model's work on the current chunk overlap (a
background thread prepares chunk *n+1* while chunk *n* runs). The archive loop is
:func:`reportlab_nlp.batch.run_archive` (staged outputs, ``--resume``, local or Ray executors).
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import E, ModelError, ReportLabError
from ..inputs import Reject, ReportSource
from ..outputs import default_rejects_path, label_frame
from ..schema import BUILTIN_TAXONOMIES, LABEL_SCHEMA
from .inference import Predictor, probs_to_values
from .modeling import LabelerSpec, class_to_value, read_spec

log = logging.getLogger(__name__)

ENGINES = ("model", "hybrid")
HYBRID_FILL_PROBABILITY = 0.5
REVIEW_COLUMNS = ("label", "rule_value", "model_value", "model_probability", "final_value")


def rules_taxonomy(spec: LabelerSpec, model_dir: Path) -> str:
    """The taxonomy the rules should use in hybrid mode: the model's own."""
    if spec.taxonomy_source in BUILTIN_TAXONOMIES:
        return spec.taxonomy_source
    copy = model_dir / "taxonomy.yml"
    if copy.exists():
        return str(copy)
    if Path(spec.taxonomy_source).exists():
        return spec.taxonomy_source
    raise ModelError(f"the model's taxonomy {spec.taxonomy_source!r} is not available for hybrid labeling")


def _same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and float(a) == float(b))


def merge_hybrid(
    rule: dict[str, float | None],
    model_vals: dict[str, float | None],
    model_probs: dict[str, float],
    spec: LabelerSpec,
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Apply the hybrid policy to one report -> (final values, source of each non-blank cell)."""
    final: dict[str, float | None] = {}
    source: dict[str, str] = {}
    for name in spec.label_names:
        r = rule.get(name)
        if LABEL_SCHEMA.is_blank(r):
            r = None
        m = model_vals.get(name)
        if r is not None:
            final[name], source[name] = r, "rules"
        elif m is not None and model_probs.get(name, 0.0) >= HYBRID_FILL_PROBABILITY:
            final[name], source[name] = m, "model"
        else:
            final[name] = None
    nf = spec.no_finding
    if nf and final.get(nf) == LABEL_SCHEMA.POSITIVE:
        if any(final.get(f) in (LABEL_SCHEMA.POSITIVE, LABEL_SCHEMA.UNCERTAIN) for f in spec.finding_labels):
            final[nf] = None
            source.pop(nf, None)
    return final, source


def _fmt(v: float | None) -> float:
    return float("nan") if v is None else float(v)


class ModelEngine:
    """The trained labeler as an archive engine (:mod:`reportlab_nlp.batch`): ``model`` or ``hybrid``.

    :meth:`setup` loads the model (once per process or Ray actor); :meth:`prepare` tokenises a
    chunk (the local executor runs it for the next chunk in a background thread while the
    model works on the current one); :meth:`process` predicts, applies the hybrid policy and
    returns the label table, evidence records and review rows of the chunk.
    """

    splittable = False  # a chunk is batched by the predictor as a whole

    def __init__(
        self,
        model_dir: str | Path,
        engine: str,
        *,
        batch_size: int = 64,
        device: str = "auto",
        evidence: bool = False,
        review: bool = False,
    ):
        if engine not in ENGINES:
            raise ModelError(f"unknown engine {engine!r} for the model labeler; expected model or hybrid")
        self.name = engine
        self.model_dir = Path(model_dir)
        self.spec = read_spec(self.model_dir)  # clear error before anything heavy
        self.rule_tax = rules_taxonomy(self.spec, self.model_dir) if engine == "hybrid" else None
        self.batch_size, self.device = batch_size, device
        self.evidence, self.review = evidence, review
        # the driver's precision setting travels with the engine: Ray actors do not see its environment
        from .inference import ENV_PRECISION

        self.precision = os.environ.get(ENV_PRECISION, "auto")
        self.predictor: Predictor | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "predictor": None}  # each worker loads the model in setup()

    @property
    def label_names(self) -> list[str]:
        return list(self.spec.label_names)

    def setup(self) -> None:
        if self.predictor is None:
            self.predictor = Predictor(
                self.model_dir, device=self.device, precision=self.precision, batch_size=self.batch_size
            )

    def prepare(self, work):
        self.setup()
        return self.predictor.encode(work.texts)

    def options(self) -> dict:
        return {
            "model_dir": os.path.realpath(self.model_dir),
            "batch_size": self.batch_size,
            "precision": self.precision,
            "evidence": self.evidence,
            "review": self.review,
        }

    def rules_hash(self) -> str:
        from ..batch import files_hash, tree_hash
        from ..resources import data_root

        h = files_hash(self.model_dir)
        if self.name == "hybrid":
            h += "/" + tree_hash(data_root("rules"), data_root("ontologies"))
        return h

    def process(self, work):
        from ..batch import Result

        self.setup()
        predictor = self.predictor
        enc = work.prepared if work.prepared is not None else predictor.encode(work.texts)
        names = predictor.label_names
        idc = work.id_column
        rejects: list[Reject] = []
        ids, texts = work.ids, work.texts
        stats = dict.fromkeys(
            ("windowed_reports", "windows", "disagreements", "model_filled", "rule_cells"), 0
        )
        keep = list(range(len(ids)))
        try:
            probs = predictor.predict_encoded(enc)
        except (RuntimeError, ValueError) as err:
            # one bad record must not sink the chunk: retry record by record
            log.warning(
                "model inference failed on a chunk (%s); retrying record by record", type(err).__name__
            )
            probs_list, keep = [], []
            for i, t in enumerate(texts):
                try:
                    probs_list.append(predictor.predict([t])[0][0])
                    keep.append(i)
                except (RuntimeError, ValueError) as e2:
                    rejects.append(Reject(ids[i], f"model inference failed ({type(e2).__name__})", E.RL410))
            probs = np.stack(probs_list) if probs_list else np.zeros((0, len(names), 4), dtype=np.float32)
        stats["windowed_reports"] += int(enc.windowed_reports)
        stats["windows"] += len(enc.windows)
        cls, p = probs_to_values(probs)
        k_ids = [ids[i] for i in keep]
        model_rows = [{n: class_to_value(cls[r, j]) for j, n in enumerate(names)} for r in range(len(keep))]
        model_p = [{n: float(p[r, j]) for j, n in enumerate(names)} for r in range(len(keep))]
        ev: list[dict] = []
        review_rows: list[dict] = []
        if self.name == "model":
            rows = model_rows
            if self.evidence:
                for r, rid in enumerate(k_ids):
                    for n in names:
                        v = model_rows[r][n]
                        if v is not None:
                            ev.append(
                                {
                                    "report_id": rid,
                                    "label": n,
                                    "value": v,
                                    "probability": round(model_p[r][n], 4),
                                    "source": "model",
                                    "windows": int(enc.windows_per_report[keep[r]]),
                                }
                            )
        else:
            rows, k_ids = self._hybrid(
                k_ids, [texts[i] for i in keep], model_rows, model_p, rejects, ev, review_rows, stats, idc
            )
        outputs = {"labels": label_frame(idc, k_ids, rows, names), "evidence": ev}
        if self.review:
            outputs["review"] = pd.DataFrame(review_rows, columns=[idc, *REVIEW_COLUMNS])
        if self.name == "model":
            for k in ("disagreements", "model_filled", "rule_cells"):
                stats.pop(k)
        return Result(outputs, rejects, len(k_ids), stats)

    def _hybrid(self, k_ids, k_texts, model_rows, model_p, rejects, ev, review_rows, stats, idc):
        from ..labeler import label_texts  # the rule labeler (spaCy) only for hybrid runs

        names = self.label_names
        rule_tax = self.rule_tax
        try:
            results = label_texts(k_texts, taxonomy=rule_tax, ids=k_ids, evidence=True)
            good = list(range(len(k_texts)))
        except ReportLabError:
            raise
        except Exception as err:
            log.warning("rule labeling failed on a chunk (%s); retrying record by record", type(err).__name__)
            results, good = [], []
            for i, t in enumerate(k_texts):
                try:
                    results.append(label_texts([t], taxonomy=rule_tax, ids=[k_ids[i]], evidence=True)[0])
                    good.append(i)
                except Exception as e2:
                    rejects.append(Reject(k_ids[i], f"rule labeling failed ({type(e2).__name__})", E.RL411))
        rows, out_ids = [], []
        for res, i in zip(results, good):
            rid = k_ids[i]
            final, source = merge_hybrid(res.labels, model_rows[i], model_p[i], self.spec)
            rows.append(final)
            out_ids.append(rid)
            for n in names:
                rv = res.labels.get(n)
                rv = None if LABEL_SCHEMA.is_blank(rv) else rv
                if rv is not None:
                    stats["rule_cells"] += 1
                if source.get(n) == "model":
                    stats["model_filled"] += 1
                if not _same(rv, model_rows[i][n]):
                    review_rows.append(
                        {
                            idc: rid,
                            "label": n,
                            "rule_value": _fmt(rv),
                            "model_value": _fmt(model_rows[i][n]),
                            "model_probability": round(model_p[i][n], 4),
                            "final_value": _fmt(final[n]),
                        }
                    )
            if self.evidence:
                for m in res.mentions:
                    rec = dict(m)
                    rec["report_id"] = rid
                    rec.setdefault("source", "rules")
                    ev.append(rec)
                for n, s in source.items():
                    if s == "model":
                        ev.append(
                            {
                                "report_id": rid,
                                "label": n,
                                "value": final[n],
                                "probability": round(model_p[i][n], 4),
                                "source": "model",
                            }
                        )
        stats["disagreements"] += len(review_rows)
        return rows, out_ids


def label_archive_with_model(
    input_path,
    output_path,
    *,
    model_dir,
    engine,
    id_column=None,
    text_column=None,
    evidence_path=None,
    review_path=None,
    rejects_path=None,
    batch_size=64,
    device="auto",
    chunk_size=2048,
    show_progress=True,
    resume: bool = False,
    executor: Any = "local",
    workers: int = 1,
    ray_address: str | None = None,
    num_gpus: float = 0.0,
    on_progress=None,
) -> dict:
    """Label an archive with a trained model (``engine="model"``) or rules + model (``"hybrid"``).

    Outputs are staged and atomic (``resume=True`` continues an interrupted run); ``executor``
    ``"ray"`` runs ``workers`` Ray actors with ``num_gpus`` each. Returns the run's counts.
    """
    from ..batch import guard_paths

    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r} for the model labeler; expected model or hybrid")
    if chunk_size < 1:
        raise ModelError("--chunk-size must be at least 1")
    model_dir = Path(model_dir)
    eng = ModelEngine(
        model_dir,
        engine,
        batch_size=batch_size,
        device=device,
        evidence=evidence_path is not None,
        review=review_path is not None,
    )
    src = ReportSource(input_path, id_column, text_column)
    idc = src.id_column
    rejects_path = rejects_path or default_rejects_path(output_path)
    guard_paths(
        {"input": input_path, "--model": model_dir},
        {"-o": output_path, "--evidence": evidence_path, "--review": review_path, "--rejects": rejects_path},
    )
    outputs = model_sinks(output_path, idc, eng.label_names, rejects_path, evidence_path, review_path)
    runner = model_executor(executor, workers, ray_address, num_gpus)
    summary = _run_with_progress(
        src, eng, outputs, runner, chunk_size, resume, output_path, show_progress, on_progress
    )
    stats: dict[str, Any] = {
        "rows_in": summary.rows_in,
        "rows_out": summary.rows_out,
        "rejects": summary.rejects,
        **{
            k: int(summary.counters.get(k, 0))
            for k in ("windowed_reports", "windows", "disagreements", "model_filled", "rule_cells")
        },
    }
    p = eng.predictor
    stats.update(
        {
            "engine": engine,
            "executor": summary.executor,
            "model_dir": str(model_dir),
            "labels": eng.label_names,
            "taxonomy": eng.spec.taxonomy_name,
            "device": p.device if p is not None else summary.executor,
            "precision": p.precision if p is not None else None,
            "threads": p.threads if p is not None else None,
            "batch_size": batch_size,
            "id_column": idc,
            "output": str(output_path),
            "rejects_path": summary.rejects_path,
            "review_path": str(review_path) if review_path else None,
            "evidence_path": str(evidence_path) if evidence_path else None,
            "seconds": round(summary.seconds, 2),
            "reports_per_s": round(summary.rows_out / summary.seconds, 1)
            if summary.seconds > 0
            else math.nan,
            "notes": list(summary.notes),
        }
    )
    if engine == "model":
        for k in ("disagreements", "model_filled", "rule_cells"):
            stats.pop(k)
    if stats["windowed_reports"]:
        log.info(
            "%d report(s) were longer than the %d-token window and were split into overlapping windows",
            stats["windowed_reports"],
            eng.spec.max_length,
        )
    return stats


def model_sinks(output_path, idc, label_names, rejects_path, evidence_path, review_path) -> list:
    """The sinks of a model/hybrid/llm run: labels, rejects, and evidence and review when asked."""
    from ..batch import sinks

    outputs = [sinks.label_table(output_path, idc, label_names), sinks.rejects(rejects_path, idc)]
    if evidence_path is not None:
        outputs.append(sinks.evidence(evidence_path))
    if review_path is not None:
        outputs.append(sinks.review(review_path, idc))
    return outputs


def model_executor(executor: Any, workers: int, ray_address: str | None, num_gpus: float | None) -> Any:
    """The executor of a model engine: an executor object as given, else one made by name.

    Locally the model runs in this process (torch threads; forking a loaded model is unsafe), so
    ``workers`` counts Ray actors only.
    """
    if executor is not None and not isinstance(executor, str):
        return executor
    from ..batch import make_executor

    name = executor or "local"
    return make_executor(
        name, workers=workers if name == "ray" else 1, ray_address=ray_address, num_gpus=num_gpus
    )


def _run_with_progress(src, engine, outputs, executor, chunk_size, resume, primary, show, on_progress):
    """``run_archive`` with a progress bar on stderr (:mod:`reportlab_nlp.progress`) when ``show``."""
    from ..batch import run_archive

    if not show:
        return run_archive(
            src,
            engine,
            outputs,
            chunk_size=chunk_size,
            executor=executor,
            on_progress=on_progress,
            resume=resume,
            primary=primary,
        )
    from ..progress import progress

    t0 = time.perf_counter()
    done = [0]
    with progress() as bar:
        task = bar.add_task(f"labeling ({engine.name})", total=None, rate="")

        def advance(n: int) -> None:
            done[0] += n
            el = time.perf_counter() - t0
            bar.update(task, advance=n, rate=f"{done[0] / max(el, 1e-9):.1f} reports/s")
            if on_progress is not None:
                on_progress(n)

        return run_archive(
            src,
            engine,
            outputs,
            chunk_size=chunk_size,
            executor=executor,
            on_progress=advance,
            resume=resume,
            primary=primary,
        )
