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
import time
from pathlib import Path
from typing import Any

from ...errors import ModelError, ReportLabError
from ...inputs import Reject, ReportSource
from ...outputs import JsonlWriter, RejectsWriter, TableWriter, default_rejects_path, label_frame
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
) -> dict:
    """Label an archive with a prompted decoder (``engine="llm"``) or rules + that decoder (``"hybrid"``).

    ``backend`` is ``"auto"``, ``"transformers"``, ``"vllm"`` or a ready backend object (tests).
    """
    t0 = time.perf_counter()
    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r} for the prompted labeler; expected llm or hybrid")
    if chunk_size < 1 or batch_size < 1:
        raise ModelError("--chunk-size and --batch-size must be at least 1")
    spec = prompt if isinstance(prompt, PromptSpec) else load_prompt(prompt)
    src = ReportSource(input_path, id_column, text_column)
    if isinstance(backend, str):
        if model_dir is None:
            raise ModelError(
                "--engine llm needs --model DIR (a local instruction-tuned decoder checkpoint)", code="RL440"
            )
        from .backends import check_generative_dir, make_backend

        check_generative_dir(model_dir)  # a clear error before anything heavy
    from ...batch import guard_paths

    rejects_path = rejects_path or default_rejects_path(output_path)
    guard_paths(
        {"input": input_path, **({"--model": model_dir} if model_dir else {})},
        {"-o": output_path, "--evidence": evidence_path, "--review": review_path, "--rejects": rejects_path},
    )
    if isinstance(backend, str):
        backend = make_backend(model_dir, spec, backend=backend, device=device, batch_size=batch_size)
    if engine == "hybrid":
        from ...labeler import label_texts  # the rule labeler (spaCy) only for hybrid runs
    labeler = LlmLabeler(backend, spec, retries=retries)
    names = list(spec.label_names)
    idc = src.id_column
    writer = TableWriter(output_path, columns=[idc, *names], float_columns=names)
    rejects_w = RejectsWriter(rejects_path, idc)
    evidence_w = JsonlWriter(evidence_path) if evidence_path else None
    review_w = (
        TableWriter(
            review_path,
            columns=[idc, *REVIEW_COLUMNS],
            float_columns=["rule_value", "model_value", "model_probability", "final_value"],
        )
        if review_path
        else None
    )
    writers = [w for w in (writer, rejects_w, evidence_w, review_w) if w is not None]
    stats: dict[str, Any] = {
        "rows_in": 0,
        "rows_out": 0,
        "rejects": 0,
        "disagreements": 0,
        "model_filled": 0,
        "rule_cells": 0,
    }
    prog = task = None
    if show_progress:
        from ...progress import progress

        prog = progress()
        prog.start()
        task = prog.add_task(f"labeling ({engine}, {backend.name})", total=None, rate="")
    clean = False
    try:
        for chunk in src.chunks(chunk_size):
            stats["rows_in"] += chunk.n_in
            rejects: list[Reject] = list(chunk.rejects)
            frame = chunk.frame
            ids = frame[idc].astype(str).tolist() if len(frame) else []
            texts = frame[src.text_column].tolist() if len(frame) else []
            results, bad = labeler.label(ids, texts)
            rejects += bad
            text_of = dict(zip(ids, texts))
            rows: list[dict] = []
            out_ids: list[str] = []
            ev: list[dict] = []
            if engine == "llm":
                for res in results:
                    rows.append({n: res.cells[n].value for n in names})
                    out_ids.append(res.record_id)
                    ev += _evidence_records(res.record_id, res)
            else:
                r_texts = [text_of[r.record_id] for r in results]
                r_ids = [r.record_id for r in results]
                try:
                    rule_results = label_texts(r_texts, taxonomy=spec.taxonomy, ids=r_ids, evidence=True)
                except ReportLabError:
                    raise
                except Exception as err:
                    log.warning(
                        "rule labeling failed on a chunk (%s); retrying record by record", type(err).__name__
                    )
                    rule_results = []
                    for t, rid in zip(r_texts, r_ids):
                        try:
                            rule_results.append(
                                label_texts([t], taxonomy=spec.taxonomy, ids=[rid], evidence=True)[0]
                            )
                        except Exception as e2:
                            rule_results.append(None)
                            rejects.append(
                                Reject(rid, f"rule labeling failed ({type(e2).__name__})", "RL411")
                            )
                review_rows = []
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
                    if evidence_w:
                        for m in rule.mentions:
                            rec = dict(m)
                            rec["report_id"] = rid
                            rec.setdefault("source", "rules")
                            ev.append(rec)
                        ev += [r for r in _evidence_records(rid, res) if source.get(r["label"]) == "model"]
                stats["disagreements"] += len(review_rows)
                if review_w and review_rows:
                    import pandas as pd

                    review_w.write(pd.DataFrame(review_rows, columns=[idc, *REVIEW_COLUMNS]))
            writer.write(label_frame(idc, out_ids, rows, names))
            rejects_w.write(rejects)
            if evidence_w:
                evidence_w.write_many(ev)
            stats["rows_out"] += len(out_ids)
            stats["rejects"] += len(rejects)
            if prog:
                el = time.perf_counter() - t0
                prog.update(
                    task, advance=chunk.n_in, rate=f"{stats['rows_out'] / max(el, 1e-9):.1f} reports/s"
                )
        clean = True
    finally:
        if prog:
            prog.stop()
        for w in writers:  # a run that stops early leaves nothing at the final names
            if clean:
                w.close()
            else:
                w.abort()
    seconds = time.perf_counter() - t0
    st = labeler.stats
    stats.update(
        {
            "engine": engine,
            "backend": backend.name,
            "model_dir": str(model_dir) if model_dir else None,
            "prompt": spec.source,
            "labels": names,
            "taxonomy": spec.taxonomy,
            "device": getattr(backend, "device", None),
            "answers": st.answers,
            "invalid_answers": st.invalid_answers,
            "retried": st.retried,
            "unverified_quotes": st.unverified_quotes,
            "id_column": idc,
            "output": str(output_path),
            "rejects_path": str(rejects_w.path) if rejects_w.count else None,
            "review_path": str(review_path) if review_path else None,
            "evidence_path": str(evidence_path) if evidence_path else None,
            "seconds": round(seconds, 2),
            "reports_per_s": round(stats["rows_out"] / seconds, 2) if seconds > 0 else math.nan,
            "notes": list(src.notes),
        }
    )
    if engine == "llm":
        for k in ("disagreements", "model_filled", "rule_cells"):
            stats.pop(k)
    return stats
