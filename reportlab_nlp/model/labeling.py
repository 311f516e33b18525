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
background thread prepares chunk *n+1* while chunk *n* runs).
"""

from __future__ import annotations

import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError, ReportLabError
from ..inputs import Reject, ReportSource
from ..outputs import JsonlWriter, RejectsWriter, TableWriter, default_rejects_path, label_frame
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
) -> dict:
    """Label an archive with a trained model (``engine="model"``) or rules + model (``"hybrid"``)."""
    t0 = time.perf_counter()
    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r} for the model labeler; expected model or hybrid")
    if chunk_size < 1:
        raise ModelError("--chunk-size must be at least 1")
    model_dir = Path(model_dir)
    spec = read_spec(model_dir)  # clear error before anything heavy
    src = ReportSource(input_path, id_column, text_column)
    rule_tax = rules_taxonomy(spec, model_dir) if engine == "hybrid" else None
    if engine == "hybrid":
        from ..labeler import label_texts  # the lead's rule labeler
    predictor = Predictor(model_dir, device=device, batch_size=batch_size)
    names = predictor.label_names
    idc = src.id_column

    from ..batch import guard_paths

    rejects_path = rejects_path or default_rejects_path(output_path)
    guard_paths(
        {"input": input_path, "--model": model_dir},
        {"-o": output_path, "--evidence": evidence_path, "--review": review_path, "--rejects": rejects_path},
    )
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

    stats: dict[str, Any] = {
        "rows_in": 0,
        "rows_out": 0,
        "rejects": 0,
        "windowed_reports": 0,
        "windows": 0,
        "disagreements": 0,
        "model_filled": 0,
        "rule_cells": 0,
    }
    chunks = src.chunks(chunk_size)

    def prepare():
        """Read the next chunk and tokenise it (runs in the background thread)."""
        try:
            chunk = next(chunks)
        except StopIteration:
            return None
        texts = chunk.frame[src.text_column].tolist() if len(chunk.frame) else []
        return chunk, predictor.encode(texts)

    prog = None
    if show_progress:
        from ..progress import progress

        prog = progress()
        prog.start()
        task = prog.add_task(f"labeling ({engine})", total=None, rate="")
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportlab-tokenize")
    writers = [w for w in (writer, rejects_w, evidence_w, review_w) if w is not None]
    clean = False
    try:
        fut = pool.submit(prepare)
        while True:
            item = fut.result()
            if item is None:
                break
            fut = pool.submit(prepare)  # overlap: next chunk is read + tokenised while this one runs
            chunk, enc = item
            stats["rows_in"] += chunk.n_in
            rejects: list[Reject] = list(chunk.rejects)
            frame = chunk.frame
            ids = frame[idc].tolist() if len(frame) else []
            texts = frame[src.text_column].tolist() if len(frame) else []
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
                        rejects.append(
                            Reject(ids[i], f"model inference failed ({type(e2).__name__})", "RL410")
                        )
                probs = np.stack(probs_list) if probs_list else np.zeros((0, len(names), 4), dtype=np.float32)
            stats["windowed_reports"] += int(enc.windowed_reports)
            stats["windows"] += len(enc.windows)
            cls, p = probs_to_values(probs)
            k_ids = [ids[i] for i in keep]
            model_rows = [
                {n: class_to_value(cls[r, j]) for j, n in enumerate(names)} for r in range(len(keep))
            ]
            model_p = [{n: float(p[r, j]) for j, n in enumerate(names)} for r in range(len(keep))]
            if engine == "model":
                rows = model_rows
                if evidence_w:
                    recs = []
                    for r, rid in enumerate(k_ids):
                        for j, n in enumerate(names):
                            v = model_rows[r][n]
                            if v is not None:
                                recs.append(
                                    {
                                        "report_id": rid,
                                        "label": n,
                                        "value": v,
                                        "probability": round(model_p[r][n], 4),
                                        "source": "model",
                                        "windows": int(enc.windows_per_report[keep[r]]),
                                    }
                                )
                    evidence_w.write_many(recs)
            else:
                k_texts = [texts[i] for i in keep]
                try:
                    results = label_texts(k_texts, taxonomy=rule_tax, ids=k_ids, evidence=True)
                    good = list(range(len(k_texts)))
                except ReportLabError:
                    raise
                except Exception as err:
                    log.warning(
                        "rule labeling failed on a chunk (%s); retrying record by record", type(err).__name__
                    )
                    results, good = [], []
                    for i, t in enumerate(k_texts):
                        try:
                            results.append(
                                label_texts([t], taxonomy=rule_tax, ids=[k_ids[i]], evidence=True)[0]
                            )
                            good.append(i)
                        except Exception as e2:
                            rejects.append(
                                Reject(k_ids[i], f"rule labeling failed ({type(e2).__name__})", "RL411")
                            )
                rows, out_ids, review_rows, ev = [], [], [], []
                for res, i in zip(results, good):
                    rid = k_ids[i]
                    final, source = merge_hybrid(res.labels, model_rows[i], model_p[i], spec)
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
                    if evidence_w:
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
                if review_w and review_rows:
                    import pandas as pd

                    review_w.write(pd.DataFrame(review_rows, columns=[idc, *REVIEW_COLUMNS]))
                if evidence_w:
                    evidence_w.write_many(ev)
                k_ids = out_ids
            writer.write(label_frame(idc, k_ids, rows, names))
            rejects_w.write(rejects)
            stats["rows_out"] += len(k_ids)
            stats["rejects"] += len(rejects)
            if prog:
                el = time.perf_counter() - t0
                prog.update(
                    task, advance=chunk.n_in, rate=f"{stats['rows_out'] / max(el, 1e-9):.0f} reports/s"
                )
        clean = True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if prog:
            prog.stop()
        for w in writers:  # a run that stops early leaves nothing at the final names
            if clean:
                w.close()
            else:
                w.abort()
    seconds = time.perf_counter() - t0
    stats.update(
        {
            "engine": engine,
            "model_dir": str(model_dir),
            "labels": names,
            "taxonomy": spec.taxonomy_name,
            "device": predictor.device,
            "precision": predictor.precision,
            "threads": predictor.threads,
            "batch_size": batch_size,
            "id_column": idc,
            "output": str(output_path),
            "rejects_path": str(rejects_w.path) if rejects_w.count else None,
            "review_path": str(review_path) if review_path else None,
            "evidence_path": str(evidence_path) if evidence_path else None,
            "seconds": round(seconds, 2),
            "reports_per_s": round(stats["rows_out"] / seconds, 1) if seconds > 0 else math.nan,
            "notes": list(src.notes),
        }
    )
    if engine == "model":
        for k in ("disagreements", "model_filled", "rule_cells"):
            stats.pop(k)
    if stats["windowed_reports"]:
        log.info(
            "%d report(s) were longer than the %d-token window and were split into overlapping windows",
            stats["windowed_reports"],
            spec.max_length,
        )
    return stats
