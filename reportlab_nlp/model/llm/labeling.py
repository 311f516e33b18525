"""``label --engine llm`` and ``--engine hybrid`` with a prompted model.

Output: the same table as the other engines (input id column, then the prompt's labels in the
taxonomy's order, cells 1.0 / 0.0 / -1.0 / blank) and the same evidence records (one JSON line per
non-blank cell with ``sentence``/``start``/``end`` -- the verified quote and its offsets -- and
``source: llm``). Records without a valid answer go to the rejects (rows in = rows out + rejects).

Hybrid (rules first): a rule value is kept; a cell the rules leave blank takes the model's value
only when the model quoted verified evidence for it; ``No Finding`` stays consistent
(:func:`reportlab_nlp.model.labeling.merge_hybrid`). Disagreements go to ``--review`` as with the
trained model (``model_probability`` is blank: a prompted answer has none).
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

from ...errors import E, ModelError, ReportLabError
from ...inputs import Reject, ReportSource
from ...outputs import default_rejects_path, label_frame
from ...schema import LABEL_SCHEMA
from ..labeling import REVIEW_COLUMNS, merge_hybrid
from .engine import LlmLabeler, LlmResult
from .prompt import PromptSpec, load_prompt

log = logging.getLogger(__name__)

ENGINES = ("llm", "hybrid")


def _evidence_records(rid: str, res: LlmResult) -> list[dict]:
    out = []
    for name, cell in res.cells.items():
        if cell.value is None:
            continue
        out.append(
            {
                "report_id": rid,
                "label": name,
                "labels": [name],
                "value": cell.value,
                "source": "llm",
                "sentence": cell.evidence,
                "sentence_start": cell.start,
                "start": cell.start,
                "end": cell.end,
                "text": cell.evidence,
                "verified": cell.evidence is not None,
                "attempts": res.attempts,
            }
        )
    return out


def _nan(v: float | None) -> float:
    return float("nan") if v is None else float(v)


class LlmEngine:
    """The prompted labeler as an archive engine (:mod:`reportlab_nlp.batch`): ``llm`` or ``hybrid``.

    :meth:`setup` builds the backend (once per process or Ray actor) unless a ready backend
    object was given; :meth:`process` labels a chunk and returns the label table, evidence and
    review rows, with the answer counters of that chunk.
    """

    splittable = False

    def __init__(
        self,
        spec: PromptSpec,
        engine: str = "llm",
        *,
        backend: Any = "auto",
        model_dir: str | Path | None = None,
        device: str = "auto",
        batch_size: int = 8,
        retries: int = 1,
        evidence: bool = False,
        review: bool = False,
    ):
        if engine not in ENGINES:
            raise ModelError(f"unknown engine {engine!r} for the prompted labeler; expected llm or hybrid")
        self.name = engine
        self.spec = spec
        self.backend = backend
        self.model_dir = None if model_dir is None else Path(model_dir)
        self.device, self.batch_size, self.retries = device, batch_size, retries
        self.evidence, self.review = evidence, review
        self._labeler: LlmLabeler | None = None
        self._built = False

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if self._built:  # a backend built here is rebuilt by setup() in each worker
            state.update(backend=self._backend_kind, _labeler=None, _built=False)
        return state

    @property
    def label_names(self) -> list[str]:
        return list(self.spec.label_names)

    def setup(self) -> None:
        if self._labeler is not None:
            return
        if isinstance(self.backend, str):
            from .backends import make_backend

            self._backend_kind = self.backend
            self.backend = make_backend(
                self.model_dir,
                self.spec,
                backend=self.backend,
                device=self.device,
                batch_size=self.batch_size,
            )
            self._built = True
        self._labeler = LlmLabeler(self.backend, self.spec, retries=self.retries)

    def options(self) -> dict:
        return {
            "model_dir": None if self.model_dir is None else os.path.realpath(self.model_dir),
            "prompt": str(self.spec.source),
            "retries": self.retries,
            "evidence": self.evidence,
            "review": self.review,
        }

    def rules_hash(self) -> str:
        from ...batch import files_hash, tree_hash
        from ...resources import data_root

        parts = [files_hash(self.model_dir) if self.model_dir is not None else "no-model"]
        src = Path(str(self.spec.source))
        if src.exists():
            parts.append(files_hash(src))
        if self.name == "hybrid":
            parts.append(tree_hash(data_root("rules"), data_root("ontologies")))
        return "/".join(parts)

    def process(self, work):
        from ...batch import Result

        self.setup()
        labeler = self._labeler
        names = self.label_names
        idc = work.id_column
        before = (
            labeler.stats.answers,
            labeler.stats.invalid_answers,
            labeler.stats.retried,
            labeler.stats.unverified_quotes,
        )
        ids = [str(i) for i in work.ids]
        texts = work.texts
        results, rejects = labeler.label(ids, texts)
        rows: list[dict] = []
        out_ids: list[str] = []
        ev: list[dict] = []
        review_rows: list[dict] = []
        stats = {"disagreements": 0, "model_filled": 0, "rule_cells": 0}
        if self.name == "llm":
            for res in results:
                rows.append({n: res.cells[n].value for n in names})
                out_ids.append(res.record_id)
                if self.evidence:
                    ev += _evidence_records(res.record_id, res)
        else:
            self._hybrid(results, dict(zip(ids, texts)), rows, out_ids, ev, review_rows, rejects, stats, idc)
        st = labeler.stats
        after = (st.answers, st.invalid_answers, st.retried, st.unverified_quotes)
        counters = dict(
            zip(
                ("answers", "invalid_answers", "retried", "unverified_quotes"),
                (a - b for a, b in zip(after, before)),
            )
        )
        if self.name == "hybrid":
            counters.update(stats)
        outputs = {"labels": label_frame(idc, out_ids, rows, names), "evidence": ev}
        if self.review:
            import pandas as pd

            outputs["review"] = pd.DataFrame(review_rows, columns=[idc, *REVIEW_COLUMNS])
        return Result(outputs, rejects, len(out_ids), counters)

    def _hybrid(self, results, text_of, rows, out_ids, ev, review_rows, rejects, stats, idc) -> None:
        from ...labeler import label_texts  # the rule labeler (spaCy) only for hybrid runs

        spec = self.spec
        names = self.label_names
        r_texts = [text_of[r.record_id] for r in results]
        r_ids = [r.record_id for r in results]
        try:
            rule_results = label_texts(r_texts, taxonomy=spec.taxonomy, ids=r_ids, evidence=True)
        except ReportLabError:
            raise
        except Exception as err:
            log.warning("rule labeling failed on a chunk (%s); retrying record by record", type(err).__name__)
            rule_results = []
            for t, rid in zip(r_texts, r_ids):
                try:
                    rule_results.append(label_texts([t], taxonomy=spec.taxonomy, ids=[rid], evidence=True)[0])
                except Exception as e2:
                    rule_results.append(None)
                    rejects.append(Reject(rid, f"rule labeling failed ({type(e2).__name__})", E.RL411))
        for res, rule in zip(results, rule_results):
            if rule is None:
                continue
            rid = res.record_id
            model_vals = {n: res.cells[n].value for n in names}
            # only a value backed by a verified quote may fill a blank the rules left
            support = {n: 1.0 if res.cells[n].evidence is not None else 0.0 for n in names}
            final, source = merge_hybrid(rule.labels, model_vals, support, spec)
            rows.append(final)
            out_ids.append(rid)
            for n in names:
                rv = rule.labels.get(n)
                rv = None if LABEL_SCHEMA.is_blank(rv) else rv
                stats["rule_cells"] += rv is not None
                stats["model_filled"] += source.get(n) == "model"
                mv = model_vals[n]
                if not (
                    (rv is None and mv is None)
                    or (rv is not None and mv is not None and float(rv) == float(mv))
                ):
                    review_rows.append(
                        {
                            idc: rid,
                            "label": n,
                            "rule_value": _nan(rv),
                            "model_value": _nan(mv),
                            "model_probability": float("nan"),
                            "final_value": _nan(final[n]),
                        }
                    )
            if self.evidence:
                for m in rule.mentions:
                    rec = dict(m)
                    rec["report_id"] = rid
                    rec.setdefault("source", "rules")
                    ev.append(rec)
                ev += [r for r in _evidence_records(rid, res) if source.get(r["label"]) == "model"]
        stats["disagreements"] += len(review_rows)


def label_archive_with_llm(
    input_path,
    output_path,
    *,
    model_dir=None,
    engine: str = "llm",
    prompt: str | Path | PromptSpec | None = None,
    id_column=None,
    text_column=None,
    evidence_path=None,
    review_path=None,
    rejects_path=None,
    batch_size: int = 8,
    device: str = "auto",
    chunk_size: int = 256,
    backend: Any = "auto",
    retries: int = 1,
    show_progress: bool = True,
    resume: bool = False,
    executor: Any = "local",
    workers: int = 1,
    ray_address: str | None = None,
    num_gpus: float = 0.0,
    on_progress=None,
) -> dict:
    """Label an archive with a prompted decoder (``engine="llm"``) or rules + that decoder (``"hybrid"``).

    ``backend`` is ``"auto"``, ``"transformers"``, ``"vllm"`` or a ready backend object (tests).
    Outputs are staged and atomic; ``resume=True`` continues an interrupted run; ``executor``
    ``"ray"`` runs ``workers`` Ray actors with ``num_gpus`` each.
    """
    from ...batch import guard_paths
    from ..labeling import _run_with_progress, model_executor, model_sinks

    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r} for the prompted labeler; expected llm or hybrid")
    if chunk_size < 1 or batch_size < 1:
        raise ModelError("--chunk-size and --batch-size must be at least 1")
    spec = prompt if isinstance(prompt, PromptSpec) else load_prompt(prompt)
    src = ReportSource(input_path, id_column, text_column)
    if isinstance(backend, str):
        if model_dir is None:
            raise ModelError(
                "--engine llm needs --model DIR (a local instruction-tuned decoder checkpoint)", code=E.RL440
            )
        from .backends import check_generative_dir

        check_generative_dir(model_dir)  # a clear error before anything heavy
    rejects_path = rejects_path or default_rejects_path(output_path)
    guard_paths(
        {"input": input_path, **({"--model": model_dir} if model_dir else {})},
        {"-o": output_path, "--evidence": evidence_path, "--review": review_path, "--rejects": rejects_path},
    )
    eng = LlmEngine(
        spec,
        engine,
        backend=backend,
        model_dir=model_dir,
        device=device,
        batch_size=batch_size,
        retries=retries,
        evidence=evidence_path is not None,
        review=review_path is not None,
    )
    idc = src.id_column
    outputs = model_sinks(output_path, idc, eng.label_names, rejects_path, evidence_path, review_path)
    runner = model_executor(executor, workers, ray_address, num_gpus)
    summary = _run_with_progress(
        src, eng, outputs, runner, chunk_size, resume, output_path, show_progress, on_progress
    )
    c = summary.counters
    stats: dict[str, Any] = {
        "rows_in": summary.rows_in,
        "rows_out": summary.rows_out,
        "rejects": summary.rejects,
        **{k: int(c.get(k, 0)) for k in ("disagreements", "model_filled", "rule_cells")},
    }
    be = eng.backend
    stats.update(
        {
            "engine": engine,
            "executor": summary.executor,
            "backend": be if isinstance(be, str) else be.name,
            "model_dir": str(model_dir) if model_dir else None,
            "prompt": spec.source,
            "labels": eng.label_names,
            "taxonomy": spec.taxonomy,
            "device": None if isinstance(be, str) else getattr(be, "device", None),
            "answers": int(c.get("answers", 0)),
            "invalid_answers": int(c.get("invalid_answers", 0)),
            "retried": int(c.get("retried", 0)),
            "unverified_quotes": int(c.get("unverified_quotes", 0)),
            "id_column": idc,
            "output": str(output_path),
            "rejects_path": summary.rejects_path,
            "review_path": str(review_path) if review_path else None,
            "evidence_path": str(evidence_path) if evidence_path else None,
            "seconds": round(summary.seconds, 2),
            "reports_per_s": round(summary.rows_out / summary.seconds, 2)
            if summary.seconds > 0
            else math.nan,
            "notes": list(summary.notes),
        }
    )
    if engine == "llm":
        for k in ("disagreements", "model_filled", "rule_cells"):
            stats.pop(k)
    return stats
