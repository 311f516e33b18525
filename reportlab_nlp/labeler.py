"""Batch labeling with the rule pipeline: texts, DataFrames and whole archives.

* :func:`label_texts` -> one :class:`ReportResult` (label row + evidence records) per text.
* :func:`label_dataframe` -> a label table, evidence records and rejects for a DataFrame.
* :func:`label_archive` streams an input file to a label table (CSV/Parquet), an evidence
  JSONL and a rejects CSV, with a pool of worker processes (``workers``). Rows in = rows out
  + rejects; a record that fails is rejected with a reason, the batch goes on.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing as mp
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .aggregation import mention_value
from .errors import ArgumentError, ReportLabError
from .inputs import Reject, ReportSource
from .outputs import default_rejects_path, label_frame
from .record_checks import prepare_records
from .schema import load_taxonomy

log = logging.getLogger(__name__)

MAX_CHARS = 200_000  # longer "reports" are almost always concatenated files; reject them


@dataclass
class ReportResult:
    labels: dict[str, float | None]
    mentions: list[dict] = field(default_factory=list)


@dataclass
class LabelRun:
    labels: pd.DataFrame
    evidence: list[dict]
    rejects: list[Reject]


@dataclass(frozen=True)
class PipelineSpec:
    taxonomy: str = "chexpert"
    all_sections: bool = False
    sections: tuple[str, ...] | None = None
    link: bool = False
    kb: str | None = None

    def build(self):
        from .pipeline import load

        return load(
            self.taxonomy, sections=self.sections, all_sections=self.all_sections, link=self.link, kb=self.kb
        )


_PIPELINES: dict[PipelineSpec, Any] = {}


def get_pipeline(spec: PipelineSpec):
    if spec not in _PIPELINES:
        _PIPELINES[spec] = spec.build()
    return _PIPELINES[spec]


def mention_records(doc, report_id: str | None = None) -> list[dict]:
    """Evidence records: one per mention, with the sentence, spans, trigger and concept."""
    out = []
    ents = doc.ents
    if not ents:
        return out
    sent_starts = [t.i for t in doc if t.is_sent_start]
    import bisect

    for ent in ents:
        k = bisect.bisect_right(sent_starts, ent.start) - 1
        s_start = sent_starts[k]
        s_end = sent_starts[k + 1] if k + 1 < len(sent_starts) else len(doc)
        sent = doc[s_start:s_end]
        trig = ent._.trigger
        labels = list(ent._.labels)
        assertion = ent._.assertion or "present"
        out.append(
            {
                "report_id": report_id,
                "label": labels[0] if labels else None,
                "labels": labels,
                "observation": ent._.observation,
                "assertion": assertion,
                "value": mention_value(ent),
                "section": ent[0]._.section_category or "unknown",
                "sentence": sent.text.strip(),
                "sentence_start": sent.start_char,
                "start": ent.start_char,
                "end": ent.end_char,
                "text": ent.text,
                "trigger": trig.text if trig is not None else None,
                "trigger_start": trig.start_char if trig is not None else None,
                "trigger_end": trig.end_char if trig is not None else None,
                "cui": ent._.cui,
                "preferred_name": ent._.preferred_name,
                "score": None if ent._.link_score is None else round(float(ent._.link_score), 4),
                "cui_status": ent._.cui_status,
            }
        )
    return out


def _process(
    nlp, ids: Sequence[str], texts: Sequence[str], evidence: bool
) -> tuple[list[str], list[dict], list[dict], list[Reject]]:
    out_ids, rows, ev, rejects = [], [], [], []
    for rid, text in zip(ids, texts):
        if len(text) > MAX_CHARS:
            rejects.append(Reject(rid, f"report is longer than {MAX_CHARS} characters", "RL110"))
            continue
        try:
            doc = nlp(text)
            row = doc._.report_labels
            recs = mention_records(doc, rid) if evidence else []
        except ReportLabError:
            raise
        except Exception as err:  # one bad record must not kill the batch: it is rejected with a reason
            log.warning("record %r failed in the pipeline (%s); written to rejects", rid, type(err).__name__)
            rejects.append(Reject(rid, f"pipeline error ({type(err).__name__})", "RL111"))
            continue
        out_ids.append(rid)
        rows.append(row)
        ev.extend(recs)
    return out_ids, rows, ev, rejects


def label_texts(
    texts: Sequence[str],
    taxonomy: str = "chexpert",
    *,
    ids: Sequence[str] | None = None,
    evidence: bool = True,
    all_sections: bool = False,
    link: bool = False,
    kb: str | None = None,
) -> list[ReportResult]:
    """Label report texts in order. Raises on a text that is not a string."""
    spec = PipelineSpec(str(taxonomy), all_sections, None, link, None if kb is None else str(kb))
    nlp = get_pipeline(spec)
    ids = list(ids) if ids is not None else [str(i) for i in range(len(texts))]
    results = []
    for rid, text in zip(ids, texts):
        if not isinstance(text, str):
            raise TypeError(f"text of record {rid!r} is a {type(text).__name__}, not a string")
        doc = nlp(text)
        results.append(ReportResult(dict(doc._.report_labels), mention_records(doc, rid) if evidence else []))
    return results


@contextlib.contextmanager
def batch_gc():
    """Fewer garbage-collector passes while labeling in bulk (~8% faster).

    spaCy Docs are freed by reference counting; the cyclic collector only has to scan the long-lived
    pipeline over and over. Freeze what exists, collect young objects less often, restore after.
    """
    old = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


# ---------------------------------------------------------------- worker pool
_WORKER_NLP = None


def _worker_init(spec: PipelineSpec) -> None:
    global _WORKER_NLP
    import logging as _logging

    _logging.getLogger("PyRuSH").setLevel(_logging.WARNING)
    _WORKER_NLP = get_pipeline(spec)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def _worker_run(args):
    ids, texts, evidence = args
    return _process(_WORKER_NLP, ids, texts, evidence)


class _Runner:
    """Runs tasks in-process (workers=1) or in a process pool, yielding ``(key, result)`` in order.

    A task is ``(key, ids, texts)``; ``key`` travels with it untouched (the archive runner uses it
    to know when a chunk is complete).
    """

    def __init__(self, spec: PipelineSpec, workers: int, evidence: bool):
        self.spec, self.workers, self.evidence = spec, _check_workers(workers), evidence
        self.pool = None
        if self.workers == 1:
            self.nlp = get_pipeline(spec)
        else:
            # build once in the parent so forked workers inherit it (no per-worker load time)
            get_pipeline(spec)
            ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
            self.pool = ctx.Pool(self.workers, initializer=_worker_init, initargs=(spec,))

    def run(self, tasks: Iterable[tuple[Any, list[str], list[str]]]):
        if self.pool is None:
            for key, ids, texts in tasks:
                yield key, _process(self.nlp, ids, texts, self.evidence)
            return
        pending: deque = deque()
        for key, ids, texts in tasks:
            pending.append((key, self.pool.apply_async(_worker_run, ((ids, texts, self.evidence),))))
            while len(pending) >= self.workers * 3:
                k, res = pending.popleft()
                yield k, res.get()
        while pending:
            k, res = pending.popleft()
            yield k, res.get()

    def close(self):
        if self.pool is not None:
            self.pool.close()
            self.pool.join()

    def terminate(self):
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


def _check_workers(workers: Any) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ArgumentError(f"workers must be a whole number of at least 1, got {workers!r}")
    return workers


def _split(ids: list[str], texts: list[str], size: int):
    for i in range(0, len(ids), size):
        yield ids[i : i + size], texts[i : i + size]


def _tasks(ids: list[str], texts: list[str], size: int):
    for k, (i, t) in enumerate(_split(ids, texts, size)):
        yield k, i, t


def label_dataframe(
    df: pd.DataFrame,
    id_column: str = "report_id",
    text_column: str = "report",
    taxonomy: str = "chexpert",
    *,
    workers: int = 1,
    evidence: bool = True,
    all_sections: bool = False,
    link: bool = False,
    kb: str | None = None,
) -> LabelRun:
    """Label every row of ``df``; bad rows become rejects (id + reason), never exceptions."""
    from .errors import ColumnError

    if not isinstance(df, pd.DataFrame):
        raise ArgumentError(f"label_dataframe needs a pandas DataFrame, got a {type(df).__name__}")
    _check_workers(workers)
    for col in (id_column, text_column):
        if col not in df.columns:
            raise ColumnError(
                f"DataFrame has no column {col!r}; columns are: {', '.join(map(str, df.columns))}"
            )
    tax = load_taxonomy(str(taxonomy))
    spec = PipelineSpec(str(taxonomy), all_sections, None, link, None if kb is None else str(kb))
    all_ids, all_texts = df[id_column].tolist(), df[text_column].tolist()
    prepared = prepare_records(all_ids, all_texts, list(df.index), set())  # control characters replaced
    rejects = prepared.rejects
    ids = [str(all_ids[i]) for i in prepared.keep]
    texts = prepared.texts
    runner = _Runner(spec, workers, evidence)
    out_ids, rows, ev = [], [], []
    with batch_gc():
        try:
            for _key, (o_ids, o_rows, o_ev, o_rej) in runner.run(_tasks(ids, texts, 256)):
                out_ids += o_ids
                rows += o_rows
                ev += o_ev
                rejects += o_rej
        finally:
            runner.close()
    return LabelRun(label_frame(id_column, out_ids, rows, tax.label_names), ev, rejects)


@dataclass
class RunSummary:
    rows_in: int = 0
    rows_out: int = 0
    rejects: int = 0
    mentions: int = 0
    seconds: float = 0.0
    output: str = ""
    evidence: str | None = None
    rejects_path: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def reports_per_second(self) -> float:
        return self.rows_out / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rejects": self.rejects,
            "mentions": self.mentions,
            "seconds": round(self.seconds, 3),
            "reports_per_second": round(self.reports_per_second, 1),
            "output": self.output,
            "evidence": self.evidence,
            "rejects_path": self.rejects_path,
            "notes": self.notes,
        }


def label_archive(
    input_path: str | Path,
    output_path: str | Path,
    *,
    taxonomy: str = "chexpert",
    id_column: str | None = None,
    text_column: str | None = None,
    evidence_path: str | Path | None = None,
    rejects_path: str | Path | None = None,
    workers: int = 1,
    chunk_size: int = 2000,
    all_sections: bool = False,
    link: bool | None = None,
    kb: str | Path | None = None,
    resume: bool = False,
    encoding: str = "auto",
    strip_markup: str = "none",
    on_progress: Callable[[int], None] | None = None,
) -> RunSummary:
    """Stream ``input_path`` through the rule labeler into ``output_path`` (CSV/TSV/Parquet/JSONL).

    Linking runs when ``link`` is true, or by default whenever evidence is written or a ``kb`` is given.
    Outputs appear at their final names only when the run ends cleanly; an interrupted run leaves
    ``<output>.partial/``, which ``resume=True`` continues (see :mod:`reportlab_nlp.batch.staging`).
    """
    from .batch import OutputSpec, StagedRun, fingerprint_input, guard_paths, tree_hash
    from .resources import data_root

    t0 = time.perf_counter()
    _check_workers(workers)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ArgumentError(f"chunk_size must be a whole number of at least 1, got {chunk_size!r}")
    tax = load_taxonomy(str(taxonomy))
    src = ReportSource(input_path, id_column, text_column, encoding=encoding, strip_markup=strip_markup)
    if link is None:
        link = evidence_path is not None or kb is not None
    rejects_path = Path(rejects_path) if rejects_path else default_rejects_path(output_path)
    guard_paths(
        {"input": input_path, "--kb": kb, "--taxonomy": taxonomy if Path(str(taxonomy)).exists() else None},
        {"-o": output_path, "--evidence": evidence_path, "--rejects": rejects_path},
    )
    spec = PipelineSpec(str(taxonomy), all_sections, None, bool(link), None if kb is None else str(kb))
    outputs = [
        OutputSpec(
            "labels", Path(output_path), "table", (src.id_column, *tax.label_names), tuple(tax.label_names)
        ),
        OutputSpec("rejects", rejects_path, "rejects", id_column=src.id_column),
    ]
    if evidence_path is not None:
        outputs.append(OutputSpec("evidence", Path(evidence_path), "jsonl"))
    rule_roots = [data_root("rules"), data_root("ontologies")]
    fingerprint = {
        "input": fingerprint_input(input_path),
        "options": {
            "engine": "rules",
            "taxonomy": str(taxonomy),
            "id_column": src.id_column,
            "text_column": src.text_column,
            "chunk_size": chunk_size,
            "all_sections": all_sections,
            "link": bool(link),
            "kb": None if kb is None else os.path.realpath(kb),
            "encoding": encoding,
            "strip_markup": strip_markup,
            "outputs": {o.name: os.path.realpath(o.path) for o in outputs},
        },
        "rules": tree_hash(
            *rule_roots,
            *([Path(str(taxonomy))] if Path(str(taxonomy)).exists() else []),
            *([Path(kb)] if kb else []),
        ),
        "version": _version(),
    }
    staged = StagedRun(output_path, outputs, fingerprint, resume=resume)
    counters = {
        "rows_in": 0,
        "rows_out": 0,
        "rejects": 0,
        "mentions": 0,
        "control_chars": 0,
        "stripped": 0,
        **staged.counters,
    }
    summary = RunSummary(
        output=str(output_path),
        evidence=str(evidence_path) if evidence_path else None,
        notes=[*src.notes, *staged.notes],
    )
    runner = _Runner(spec, workers, evidence_path is not None)
    per_task = max(16, min(256, chunk_size // max(1, runner.workers * 2)))
    chunks: dict[int, dict] = {}

    def tasks():
        for index, chunk in enumerate(src.chunks(chunk_size)):
            if index < staged.completed:
                continue  # done before the interruption (read again only to keep duplicate-id checks)
            ids = chunk.frame[src.id_column].tolist()
            texts = chunk.frame[src.text_column].tolist()
            pieces = list(_split(ids, texts, per_task)) or [([], [])]
            maps = {rid: m for rid, m in zip(ids, chunk.offset_maps) if m is not None}
            chunks[index] = {
                "n_in": chunk.n_in,
                "rejects": list(chunk.rejects),
                "left": len(pieces),
                "frames": [],
                "evidence": [],
                "maps": maps,
                "control_chars": chunk.control_chars,
            }
            if on_progress and chunk.rejects:
                on_progress(len(chunk.rejects))
            for p_ids, p_texts in pieces:
                yield index, p_ids, p_texts

    clean = False
    try:
        with batch_gc():
            for index, (o_ids, o_rows, o_ev, o_rej) in runner.run(tasks()):
                acc = chunks[index]
                acc["frames"].append(label_frame(src.id_column, o_ids, o_rows, tax.label_names))
                acc["evidence"].extend(o_ev)
                acc["rejects"].extend(o_rej)
                acc["left"] -= 1
                if on_progress:
                    on_progress(len(o_ids) + len(o_rej))
                if acc["left"]:
                    continue
                del chunks[index]
                frame = pd.concat(acc["frames"], ignore_index=True)
                counters["rows_in"] += acc["n_in"]
                counters["rows_out"] += len(frame)
                counters["rejects"] += len(acc["rejects"])
                counters["mentions"] += len(acc["evidence"])
                counters["control_chars"] += acc["control_chars"]
                counters["stripped"] += len(acc["maps"])
                if acc["maps"]:
                    source_offsets(acc["evidence"], acc["maps"])
                staged.commit(
                    index, {"labels": frame, "evidence": acc["evidence"], "rejects": acc["rejects"]}, counters
                )
        clean = True
    finally:
        if clean:
            runner.close()
        else:
            runner.terminate()
    if counters["rows_in"] != counters["rows_out"] + counters["rejects"]:
        raise ReportLabError(
            f"internal accounting error: {counters['rows_in']} rows in, {counters['rows_out']} out, "
            f"{counters['rejects']} rejected",
            code="RL900",
        )
    staged.finish()
    summary.rows_in, summary.rows_out = counters["rows_in"], counters["rows_out"]
    summary.rejects, summary.mentions = counters["rejects"], counters["mentions"]
    summary.rejects_path = str(rejects_path) if counters["rejects"] else None
    if counters["control_chars"]:
        summary.notes.append(
            f"{counters['control_chars']} control character(s) (NUL and others) replaced by "
            "spaces or newlines; offsets are unchanged"
        )
    if counters["stripped"]:
        summary.notes.append(
            f"markup stripped from {counters['stripped']} report(s); their evidence offsets "
            'point into the text given ("offsets": "source") or, for RTF, into the '
            'stripped text ("offsets": "stripped")'
        )
    summary.seconds = time.perf_counter() - t0
    return summary


OFFSET_FIELDS = (("start", "end"), ("trigger_start", "trigger_end"))


def source_offsets(records: list[dict], maps: dict) -> None:
    """Point the evidence offsets of reports whose markup was stripped back into the text given.

    Each such record gets ``"offsets": "source"``; where the stripper knows no positions (RTF) the
    offsets stay in the stripped text and the record says ``"offsets": "stripped"``. The
    ``sentence``/``text`` fields always hold the stripped text.
    """
    for rec in records:
        m = maps.get(rec.get("report_id"))
        if m is None:
            continue
        if not m.exact:
            rec["offsets"] = "stripped"
            continue
        for a, b in OFFSET_FIELDS:
            if rec.get(a) is not None and rec.get(b) is not None:
                rec[a], rec[b] = m.to_source(rec[a], rec[b])
        if rec.get("sentence_start") is not None:
            rec["sentence_start"] = m.to_source(rec["sentence_start"], rec["sentence_start"])[0]
        rec["offsets"] = "source"


def _version() -> str:
    from . import __version__

    return __version__
