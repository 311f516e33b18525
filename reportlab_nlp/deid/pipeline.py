"""De-identification of strings, DataFrames and report archives (the code behind ``reportlab-nlp deid``).

Fail closed: a record whose processing raises is withheld and goes to the rejects file with
its id and the exception type only; it is never written through unredacted. Logs and the
audit summary carry counts per category, never text.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ArgumentError, ColumnError, E, OutputError, ReportLabError
from ..inputs import Reject, ReportSource
from .detect import CATEGORIES, Detector, Span
from .surrogate import Surrogator, mask_text

log = logging.getLogger(__name__)

MODES = ("mask", "surrogate", "tag")
SPAN_COLUMNS = ("start", "end", "category")
REJECT_CODE = E.RL610


def read_secret(path: str | Path) -> bytes:
    """The surrogate key from a file (its bytes, surrounding whitespace removed)."""
    p = Path(path)
    try:
        data = p.read_bytes().strip()
    except OSError as err:
        raise ReportLabError(f"cannot read secret file {p}: {err.strerror}", code=E.RL611) from None
    if len(data) < 8:
        raise ReportLabError(f"secret file {p} holds fewer than 8 bytes; use a long random key", code=E.RL611)
    return data


class Deidentifier:
    """De-identify report text.

    >>> d = Deidentifier(mode="surrogate", secret=b"a long secret")      # doctest: +SKIP
    >>> d.deidentify("Seen by Dr. Smith on 01/02/2019.", group="patient-1")  # doctest: +SKIP
    'Seen by Dr. Larson on 03/14/2018.'
    """

    def __init__(
        self,
        mode: str = "mask",
        *,
        secret: bytes | str | None = None,
        strict_years: bool = False,
        use_ner: bool = False,
        detector: Detector | None = None,
        times: bool = False,
        strict_ages: bool = False,
        model: str | Path | Any | None = None,
    ):
        if mode not in MODES:
            raise ReportLabError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}", code=E.RL612)
        self.mode = mode
        self.detector = detector or Detector(
            strict_years=strict_years, use_ner=use_ner, times=times, strict_ages=strict_ages
        )
        # the optional model signal (``model``: a directory from ``deid train``, or a loaded signal):
        # its spans join the rules' by union (reportlab_nlp.deid.model_signal)
        self.model_fingerprint: str | None = None
        if model is not None:
            from .model_signal import ModelSignal, RulesAndModel

            signal = model if hasattr(model, "predict") else ModelSignal.load(model)
            self.detector = RulesAndModel(self.detector, signal)
            self.model_fingerprint = self.detector.fingerprint
        self.secret_given = secret is not None
        self.surrogator = Surrogator(secret, self.detector.lex) if mode == "surrogate" else None

    def detect(self, text: str) -> list[Span]:
        return self.detector.detect(text)

    def apply(self, text: str, spans: Sequence[Span], group: str = "") -> str:
        if self.mode == "surrogate":
            return self.surrogator.replace(text, spans, group)
        if self.mode == "mask":
            return mask_text(text, spans)
        return text

    def deidentify(self, text: str, group: str = "") -> str:
        """The de-identified text (``tag`` mode returns the text unchanged)."""
        return self.apply(text, self.detect(text), group)

    def process_frame(
        self, frame: pd.DataFrame, id_column: str, text_column: str, group_column: str | None = None
    ) -> FrameResult:
        """De-identify one DataFrame; every input column is kept, the text column replaced."""
        for col in (id_column, text_column, group_column):
            if col is not None and col not in frame.columns:
                raise ColumnError(
                    f"input has no column {col!r}; columns are: {', '.join(map(str, frame.columns))}"
                )
        new_texts, keep, rejects = [], [], []
        span_rows: list[tuple] = []
        counts: Counter = Counter()
        ids = frame[id_column].tolist()
        texts = frame[text_column].tolist()
        groups = frame[group_column].tolist() if group_column else [None] * len(frame)
        many = getattr(self.detector, "detect_many", None)  # the model signal runs in batches
        found = many(texts) if many is not None else None
        for i, (rid, text, grp) in enumerate(zip(ids, texts, groups)):
            rid = str(rid)
            try:
                if not isinstance(text, str):
                    raise TypeError("text is not a string")
                g = "" if grp is None or (isinstance(grp, float) and grp != grp) else str(grp)
                spans = self.detect(text) if found is None else found[i]
                if isinstance(spans, Exception):
                    raise spans
                new = self.apply(text, spans, g)
            except Exception as err:  # fail closed: withhold the record, say why without text
                rejects.append(
                    Reject(
                        rid, f"de-identification failed ({type(err).__name__}); record withheld", REJECT_CODE
                    )
                )
                continue
            keep.append(i)
            new_texts.append(new)
            for s in spans:
                span_rows.append((rid, s.start, s.end, s.category))
                counts[s.category] += 1
        out = frame.iloc[keep].copy()
        out.reset_index(drop=True, inplace=True)
        if self.mode != "tag":
            out[text_column] = new_texts
        spans_df = pd.DataFrame(span_rows, columns=[id_column, *SPAN_COLUMNS])
        spans_df["start"] = spans_df["start"].astype("int64")
        spans_df["end"] = spans_df["end"].astype("int64")
        return FrameResult(out, spans_df, rejects, counts)


@dataclass
class FrameResult:
    frame: pd.DataFrame
    spans: pd.DataFrame
    rejects: list[Reject]
    counts: Counter


@dataclass
class Audit:
    """Per-run summary: counts only, nothing identifying."""

    mode: str
    records_in: int = 0
    records_out: int = 0
    records_rejected: int = 0
    spans_by_category: dict = field(default_factory=dict)
    strict_years: bool = False
    ner: bool = False
    secret: str = "none"

    @property
    def spans_total(self) -> int:
        return int(sum(self.spans_by_category.values()))

    def as_dict(self) -> dict:
        return {
            "mode": self.mode,
            "records_in": self.records_in,
            "records_out": self.records_out,
            "records_rejected": self.records_rejected,
            "spans_total": self.spans_total,
            "spans_by_category": {c: int(self.spans_by_category.get(c, 0)) for c in CATEGORIES},
            "strict_years": self.strict_years,
            "ner": self.ner,
            "secret": self.secret,
        }


class DeidEngine:
    """The de-identifier as an archive engine (:mod:`reportlab_nlp.batch`).

    Outputs per piece of work: ``output`` (the de-identified rows, every input column kept; in
    ``tag`` mode the spans) and ``spans``. The :class:`Deidentifier` is built by :meth:`setup`,
    once per process or Ray actor; the engine itself pickles small. Surrogate mode without a
    secret draws one random key here, on the driver, so every worker replaces alike.
    """

    name = "deid"
    splittable = True

    def __init__(
        self,
        mode: str = "mask",
        *,
        secret: bytes | None = None,
        group_column: str | None = None,
        deidentifier: Deidentifier | None = None,
        **options,
    ):
        if mode not in MODES:
            raise ReportLabError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}", code=E.RL612)
        self.mode = mode
        self.secret_given = secret is not None
        if mode == "surrogate" and secret is None and deidentifier is None:
            import secrets as _secrets

            secret = _secrets.token_bytes(32)
        self.secret = secret
        self.group_column = group_column
        self.deid_options = dict(options)
        self._given = deidentifier
        self._deid: Deidentifier | None = deidentifier

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if self._given is None:
            state["_deid"] = None  # rebuilt by setup() in the worker
        return state

    def setup(self) -> None:
        if self._deid is None:
            self._deid = Deidentifier(self.mode, secret=self.secret, **self.deid_options)

    def process(self, work):
        from ..batch import Result

        self.setup()
        res = self._deid.process_frame(work.frame, work.id_column, work.text_column, self.group_column)
        _spans_to_source_maps(res.spans, work.ids, work.offset_maps, work.id_column)
        main = res.spans if self.mode == "tag" else res.frame
        return Result(
            {"output": main, "spans": res.spans}, res.rejects, len(res.frame), {"spans": dict(res.counts)}
        )

    def options(self) -> dict:
        return {
            "mode": self.mode,
            "group_column": self.group_column,
            "strict_years": bool(self.deid_options.get("strict_years", False)),
            "ner": bool(self.deid_options.get("use_ner", False)),
            **{
                k: v
                for k, v in sorted(self.deid_options.items())
                if k not in ("strict_years", "use_ner", "model")
            },
            "model": self._model_fingerprint(),
            "secret": (
                hashlib.sha256(b"reportlab-nlp/" + self.secret).hexdigest()[:16]
                if self.secret_given and self.secret
                else None
            ),
        }

    def _model_fingerprint(self) -> str | None:
        """The model signal's hash (a directory's files, or a model object's ``fingerprint``)."""
        model = self.deid_options.get("model")
        if model is None:
            return None
        if isinstance(model, (str, Path)):
            from .model_signal import model_fingerprint, read_config

            read_config(model)  # RL620-RL622 for an unusable directory, before anything is written
            return model_fingerprint(model)
        return str(getattr(model, "fingerprint", type(model).__name__))

    def rules_hash(self) -> str:
        from ..batch import tree_hash
        from ..resources import data_root

        return tree_hash(data_root("rules") / "deid")


def _spans_to_source_maps(spans: pd.DataFrame, ids: list, offset_maps: list, idc: str) -> None:
    """Spans of a report whose HTML was stripped point into the text given (RTF: into the stripped text)."""
    maps = {str(rid): m for rid, m in zip(ids, offset_maps) if m is not None and m.exact}
    if not maps or not len(spans):
        return
    for i, (rid, start, end) in enumerate(
        zip(spans[idc].tolist(), spans["start"].tolist(), spans["end"].tolist())
    ):
        m = maps.get(str(rid))
        if m is not None:
            spans.iat[i, spans.columns.get_loc("start")], spans.iat[i, spans.columns.get_loc("end")] = (
                m.to_source(int(start), int(end))
            )


def deidentify_archive(
    input_path: str | Path,
    output_path: str | Path,
    *,
    mode: str = "mask",
    spans_path: str | Path | None = None,
    group_column: str | None = None,
    secret: bytes | None = None,
    id_column: str | None = None,
    text_column: str | None = None,
    strict_years: bool = False,
    use_ner: bool = False,
    rejects_path: str | Path | None = None,
    audit_path: str | Path | None = None,
    chunk_size: int = 1000,
    resume: bool = False,
    secret_path: str | Path | None = None,
    encoding: str = "auto",
    strip_markup: str = "none",
    on_chunk=None,
    deidentifier: Deidentifier | None = None,
    times: bool = False,
    strict_ages: bool = False,
    model: Any = None,
    executor: Any = "local",
    workers: int = 1,
    ray_address: str | None = None,
    **deid_options: Any,
) -> Audit:
    """Stream an archive through the de-identifier; rows in = rows out + rejects.

    Outputs appear at their final names only when the run ends cleanly; ``resume=True`` continues
    an interrupted run (surrogate mode needs the same ``secret`` to give the same replacements).
    ``executor``: ``"local"`` (this process, or ``workers`` processes), ``"ray"`` (``workers`` Ray
    actors at ``ray_address``) or an executor object; rows stay in input order. Further keyword
    options go to :class:`Deidentifier` (and into the resume fingerprint).
    """
    from ..batch import guard_paths, make_executor, run_archive, sinks
    from ..errors import ResumeError
    from ..outputs import default_rejects_path

    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ArgumentError(f"chunk_size must be a whole number of at least 1, got {chunk_size!r}")
    if mode not in MODES:
        raise ReportLabError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}", code=E.RL612)
    src = ReportSource(
        input_path,
        id_column,
        text_column,
        required_columns=[group_column] if group_column else (),
        encoding=encoding,
        strip_markup=strip_markup,
    )
    if spans_path is not None and Path(spans_path).suffix.lower() not in (".csv",):
        raise OutputError(f"--spans must be a .csv file, got {Path(spans_path).name}")
    rj_path = Path(rejects_path) if rejects_path else default_rejects_path(output_path)
    guard_paths(
        {"input": input_path, "--secret-file": secret_path},
        {"-o": output_path, "--spans": spans_path, "--rejects": rj_path, "--audit": audit_path},
    )
    if mode == "surrogate" and secret is None:
        if resume:
            raise ResumeError(
                "--resume in surrogate mode needs --secret-file: without the run's key the "
                "replacements of the resumed part would differ",
                code=E.RL304,
            )
        log.warning("no secret given: surrogates use a random key and will differ between runs")
    engine = DeidEngine(
        mode,
        secret=secret,
        group_column=group_column,
        deidentifier=deidentifier,
        strict_years=strict_years,
        use_ner=use_ner,
        times=times,
        strict_ages=strict_ages,
        **({"model": model} if model is not None else {}),
        **deid_options,
    )
    audit = Audit(
        mode=mode,
        strict_years=strict_years,
        ner=use_ner,
        secret=("file" if secret is not None else "random") if mode == "surrogate" else "none",
    )
    idc = src.id_column
    span_cols = (idc, *SPAN_COLUMNS)
    outputs: list = [
        sinks.table("output", output_path, span_cols if mode == "tag" else tuple(src.columns)),
        sinks.rejects(rj_path, idc),
    ]
    if spans_path is not None:
        outputs.append(sinks.spans(spans_path, idc))

    def audit_of(summary) -> dict:
        audit.records_in, audit.records_out = summary.rows_in, summary.rows_out
        audit.records_rejected = summary.rejects
        audit.spans_by_category = dict(summary.counters.get("spans", {}))
        return audit.as_dict()

    if audit_path:
        outputs.append(sinks.audit(audit_path, audit_of))
    runner = (
        executor
        if executor is not None and not isinstance(executor, str)
        else make_executor(executor or "local", workers=workers, ray_address=ray_address)
    )
    summary = run_archive(
        src,
        engine,
        outputs,
        chunk_size=chunk_size,
        executor=runner,
        on_progress=on_chunk,
        resume=resume,
        primary=output_path,
        options={"encoding": encoding, "strip_markup": strip_markup},
    )
    audit_of(summary)
    log.info(
        "deid: %d records in, %d out, %d rejected, %d spans",
        audit.records_in,
        audit.records_out,
        audit.records_rejected,
        audit.spans_total,
    )
    return audit
