"""The optional model signal of the de-identifier: a transformer token classifier (BIO tags).

A model directory (written by ``reportlab-nlp deid train``, :mod:`.training`) holds a Hugging Face
``AutoModelForTokenClassification`` (``config.json`` + ``model.safetensors``), its fast tokenizer and
``deid_model.json`` (format, label list, encoder, window settings, training settings, data hash).

Inference (:meth:`ModelSignal.predict`) runs on the CPU in length-bucketed batches. A text longer
than the window is cut into overlapping token windows (:func:`reportlab_nlp.model.windows.split_windows`);
each token takes the tag of the window in which it lies farthest from an edge. A word takes the tag of
its first sub-word token; a span is a ``B-X`` word plus the ``I-X`` words that follow it (an ``I-X``
after ``O`` or after another category opens a span too).

**Union with the rules** (:func:`union_spans`, used by :class:`RulesAndModel`):

1. Model spans lose any part inside a pre-redacted token ("XXXX", "___", "[**...**]") and leading or
   trailing whitespace/punctuation; ``TIME`` spans are dropped unless the rules flag times.
2. Rule and model spans that overlap form a group (overlap is transitive).
3. A group without model spans is the rule spans unchanged; a group without rule spans becomes one span
   over the group with the category of its longest model span (the first one on a tie).
4. A group with exactly one rule span becomes one span over the whole group, with the *rule's* category.
5. A group with two or more rule spans keeps those rule spans unchanged; the characters only the model
   flagged become spans of their own with the model's category.

Nothing the rules find is ever dropped: the union only adds. All of this is deterministic.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import E, ReportLabError
from .detect import CATEGORIES, PRE_REDACTED, Detector, Span

log = logging.getLogger(__name__)

CONFIG_FILE = "deid_model.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT_NAME = "reportlab-nlp-deid-model"
FORMAT_VERSION = 1
MODEL_RULE = "model"
_EDGE = re.compile(r"^[\s.,;:!?()\[\]{}\"'`-]+|[\s.,;:!?()\[\]{}\"'`-]+$")


class DeidModelError(ReportLabError):
    """A de-identification model directory or training input cannot be used (RL620-RL625)."""

    code = E.RL620


def bio_labels(categories: Sequence[str] = CATEGORIES) -> list[str]:
    """``O`` then ``B-X``, ``I-X`` for every category, in the given order."""
    return ["O"] + [f"{p}-{c}" for c in categories for p in ("B", "I")]


@dataclass
class DeidModelConfig:
    """What ``deid_model.json`` holds."""

    labels: list[str]
    encoder: str
    max_length: int = 128
    window_overlap: int = 32
    training: dict = field(default_factory=dict)
    data_hash: str = ""
    format: str = FORMAT_NAME
    version: int = FORMAT_VERSION

    @property
    def window_tokens(self) -> int:
        """Content tokens per window (the window less [CLS] and [SEP])."""
        return self.max_length - 2

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> DeidModelConfig:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


def read_config(model_dir: str | Path) -> DeidModelConfig:
    """The config of a model directory, checked; coded errors name the directory, never text."""
    p = Path(model_dir)
    if not p.is_dir():
        raise DeidModelError(f"de-id model {p} is not a directory", code=E.RL620)
    cfg_path = p / CONFIG_FILE
    if not cfg_path.is_file():
        raise DeidModelError(
            f"de-id model {p} has no {CONFIG_FILE}",
            code=E.RL621,
            hint="train one with `reportlab-nlp deid train -o DIR`",
        )
    try:
        raw = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DeidModelError(
            f"{cfg_path} cannot be read as JSON ({type(err).__name__})", code=E.RL621
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
        raise DeidModelError(f"{cfg_path} is not a {FORMAT_NAME} config", code=E.RL621)
    if int(raw.get("version", 0)) > FORMAT_VERSION:
        raise DeidModelError(
            f"{cfg_path} has format version {raw.get('version')}; this release reads up to {FORMAT_VERSION}",
            code=E.RL621,
        )
    try:
        cfg = DeidModelConfig.from_json(raw)
    except TypeError:
        raise DeidModelError(f"{cfg_path} lacks required fields (labels, encoder)", code=E.RL621) from None
    bad = [lab for lab in cfg.labels if lab != "O" and (lab[:2] not in ("B-", "I-") or len(lab) < 3)]
    if not cfg.labels or cfg.labels[0] != "O" or bad:
        raise DeidModelError(f"{cfg_path}: the label list must be 'O' then B-/I- tags", code=E.RL621)
    if cfg.max_length < 8 or not 0 <= cfg.window_overlap < cfg.window_tokens:
        raise DeidModelError(f"{cfg_path}: max_length/window_overlap out of range", code=E.RL621)
    if not (p / WEIGHTS_FILE).is_file():
        raise DeidModelError(f"de-id model {p} has no {WEIGHTS_FILE}", code=E.RL622)
    return cfg


def model_fingerprint(model_dir: str | Path) -> str:
    """sha256 (first 16 hex digits) of the config and the weights: the model's identity for ``--resume``."""
    p = Path(model_dir)
    h = hashlib.sha256()
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        h.update(name.encode())
        with open(p / name, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def decode_tags(tags: Sequence[str], word_ids: Sequence[int | None], offsets) -> list[tuple[int, int, str]]:
    """Character spans ``(start, end, category)`` from per-token BIO tags.

    A word takes the tag of its first token; ``B-X`` opens a span, ``I-X`` continues an open ``X`` span
    (or opens one), ``O`` closes it.
    """
    words: list[tuple[int, int, str]] = []  # (start, end, tag) per word, in order
    last_word = None
    for k, w in enumerate(word_ids):
        if w is None:
            continue
        b, e = int(offsets[k][0]), int(offsets[k][1])
        if w != last_word:
            words.append((b, e, tags[k]))
            last_word = w
        else:
            wb, _, wt = words[-1]
            words[-1] = (wb, e, wt)
    spans: list[tuple[int, int, str]] = []
    cur: list | None = None
    for b, e, tag in words:
        if tag == "O":
            if cur:
                spans.append(tuple(cur))
            cur = None
            continue
        kind, cat = tag[0], tag[2:]
        if kind == "I" and cur is not None and cur[2] == cat:
            cur[1] = e
            continue
        if cur:
            spans.append(tuple(cur))
        cur = [b, e, cat]
    if cur:
        spans.append(tuple(cur))
    return spans


def _token_windows(n: int, window: int, overlap: int) -> list[list[int]]:
    from ..model.windows import split_windows

    return split_windows(list(range(n)), window, overlap) if n else []


class ModelSignal:
    """A loaded de-id token classifier. ``predict(texts)`` -> one list of :class:`Span` per text."""

    def __init__(self, model, tokenizer, config: DeidModelConfig, *, batch_size: int = 16, fingerprint=""):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.config = config
        self.batch_size = batch_size
        self.fingerprint = fingerprint
        self.id2label = list(config.labels)

    @classmethod
    def load(cls, model_dir: str | Path, *, batch_size: int = 16) -> ModelSignal:
        """Load a model directory on the CPU; never downloads. Bad directories raise RL620-RL622."""
        p = Path(model_dir)
        cfg = read_config(p)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from ..model.modeling import _quiet_transformers

        _quiet_transformers()
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(p, local_files_only=True)
        except (OSError, ValueError, TypeError) as err:
            raise DeidModelError(
                f"de-id model {p} has no usable tokenizer ({type(err).__name__})", code=E.RL622
            ) from None
        if not getattr(tokenizer, "is_fast", False):
            raise DeidModelError(
                f"de-id model {p}: a fast tokenizer (tokenizer.json) is needed", code=E.RL622
            )
        try:
            model = AutoModelForTokenClassification.from_pretrained(p, local_files_only=True)
        except (OSError, ValueError, KeyError, RuntimeError) as err:
            raise DeidModelError(
                f"de-id model {p}: weights cannot be loaded ({type(err).__name__})", code=E.RL622
            ) from None
        if int(model.config.num_labels) != len(cfg.labels):
            raise DeidModelError(
                f"de-id model {p}: the classifier has {model.config.num_labels} outputs but "
                f"{CONFIG_FILE} lists {len(cfg.labels)} labels",
                code=E.RL622,
            )
        return cls(model, tokenizer, cfg, batch_size=batch_size, fingerprint=model_fingerprint(p))

    @property
    def categories(self) -> list[str]:
        return sorted({lab[2:] for lab in self.id2label if lab != "O"})

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        """Model spans of every text (batched, windowed, CPU, no gradients)."""
        import numpy as np
        import torch

        from ..model.modeling import special_token_ids
        from ..model.windows import length_buckets, pad_batch

        texts = list(texts)
        if not texts:
            return []
        enc = self.tokenizer(
            texts,
            add_special_tokens=False,
            truncation=False,
            return_offsets_mapping=True,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        start_id, end_id, pad_id = special_token_ids(self.tokenizer)
        W, ov = self.config.window_tokens, self.config.window_overlap
        windows: list[list[int]] = []  # token ids with [CLS]/[SEP]
        where: list[tuple[int, list[int]]] = []  # (text index, token indices)
        for i, ids in enumerate(enc["input_ids"]):
            for idx in _token_windows(len(ids), W, ov):
                windows.append([start_id, *(ids[j] for j in idx), end_id])
                where.append((i, idx))
        best_tag = [np.zeros(len(ids), dtype=np.int64) for ids in enc["input_ids"]]
        best_score = [np.full(len(ids), -1, dtype=np.int64) for ids in enc["input_ids"]]
        if windows:
            lengths = np.fromiter((len(w) for w in windows), dtype=np.int64, count=len(windows))
            with torch.inference_mode():
                for batch in length_buckets(lengths, self.batch_size):
                    ids, mask = pad_batch([windows[b] for b in batch], pad_id)
                    logits = self.model(
                        input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)
                    ).logits
                    pred = logits.argmax(-1).numpy()
                    for row, b in enumerate(batch):
                        i, idx = where[b]
                        n = len(idx)
                        for k, j in enumerate(idx):
                            score = min(k, n - 1 - k)  # distance from the window's nearer edge
                            if score > best_score[i][j]:
                                best_score[i][j] = score
                                best_tag[i][j] = pred[row, k + 1]
        out: list[list[Span]] = []
        for i in range(len(texts)):
            tags = [self.id2label[t] for t in best_tag[i]]
            spans = decode_tags(tags, enc.word_ids(i), enc["offset_mapping"][i])
            out.append([Span(b, e, c, MODEL_RULE) for b, e, c in spans])
        return out


# ----------------------------------------------------------------------------- union with the rules
def _clean_model_spans(text: str, spans: Sequence[Span], times: bool) -> list[Span]:
    redacted = [(m.start(), m.end()) for m in PRE_REDACTED.finditer(text)] if text else []
    out: list[Span] = []
    for s in spans:
        if s.category == "TIME" and not times:
            continue
        pieces = [(s.start, s.end)]
        for rb, re_ in redacted:
            nxt = []
            for b, e in pieces:
                if re_ <= b or e <= rb:
                    nxt.append((b, e))
                    continue
                if b < rb:
                    nxt.append((b, rb))
                if re_ < e:
                    nxt.append((re_, e))
            pieces = nxt
        for b, e in pieces:
            out.extend(_trimmed(text, b, e, s.category, s.rule or MODEL_RULE))
    return out


def _trimmed(text: str, b: int, e: int, category: str, rule: str) -> list[Span]:
    seg = text[b:e]
    m = _EDGE.search(seg)
    while m and seg:
        if m.start() == 0:
            b += m.end()
        else:
            e -= m.end() - m.start()
        seg = text[b:e]
        m = _EDGE.search(seg)
    return [Span(b, e, category, rule)] if e > b else []


def union_spans(
    text: str, rule_spans: Sequence[Span], model_spans: Sequence[Span], *, times: bool = False
) -> list[Span]:
    """Rule spans ∪ model spans by the rule in this module's docstring; sorted, non-overlapping."""
    model = _clean_model_spans(text, model_spans, times)
    if not model:
        return sorted(rule_spans)
    tagged = sorted([(s.start, s.end, 0, s) for s in rule_spans] + [(s.start, s.end, 1, s) for s in model])
    groups: list[list[tuple]] = []
    end = -1
    for item in tagged:
        if groups and item[0] < end:
            groups[-1].append(item)
            end = max(end, item[1])
        else:
            groups.append([item])
            end = item[1]
    out: list[Span] = []
    for g in groups:
        rules = [it[3] for it in g if it[2] == 0]
        models = [it[3] for it in g if it[2] == 1]
        lo, hi = min(it[0] for it in g), max(it[1] for it in g)
        if not models:
            out.extend(rules)
        elif not rules:
            longest = max(models, key=lambda s: (s.end - s.start, -s.start))
            out.append(Span(lo, hi, longest.category, MODEL_RULE))
        elif len(rules) == 1:
            r = rules[0]
            out.append(
                Span(
                    lo,
                    hi,
                    r.category,
                    r.rule + "+model" if (lo, hi) != (r.start, r.end) else r.rule,
                    r.priority,
                )
            )
        else:
            out.extend(rules)
            covered = bytearray(hi - lo)
            for r in rules:
                covered[r.start - lo : r.end - lo] = b"\x01" * (r.end - r.start)
            for m in models:
                k = m.start
                while k < m.end:
                    if covered[k - lo]:
                        k += 1
                        continue
                    j = k
                    while j < m.end and not covered[j - lo]:
                        j += 1
                    for piece in _trimmed(text, k, j, m.category, MODEL_RULE):
                        out.append(piece)
                        covered[piece.start - lo : piece.end - lo] = b"\x01" * (piece.end - piece.start)
                    k = j
    out.sort()
    return out


class RulesAndModel:
    """A detector: the rule :class:`~.detect.Detector` ∪ a model signal (see :func:`union_spans`).

    ``signal`` is anything with ``predict(texts) -> list[list[Span]]`` (a :class:`ModelSignal`, or a
    stub in tests) and a ``fingerprint`` string.
    """

    def __init__(self, rules: Detector, signal: Any):
        self.rules = rules
        self.signal = signal

    @property
    def lex(self):
        return self.rules.lex

    @property
    def fingerprint(self) -> str:
        return str(getattr(self.signal, "fingerprint", ""))

    def detect(self, text: str) -> list[Span]:
        if not isinstance(text, str):
            raise TypeError("text must be a string")
        return union_spans(
            text, self.rules.detect(text), self.signal.predict([text])[0], times=self.rules.times
        )

    def detect_many(self, texts: Sequence[Any]) -> list[list[Span] | Exception]:
        """Spans of every text (model in batches); a failing record yields its exception, not a raise."""
        strings = [t if isinstance(t, str) else "" for t in texts]
        try:
            predicted: list = self.signal.predict(strings)
        except Exception:  # one bad record must not sink the batch: redo it text by text
            predicted = []
            for t in strings:
                try:
                    predicted.append(self.signal.predict([t])[0])
                except Exception as err:
                    predicted.append(err)
        out: list[list[Span] | Exception] = []
        for t, pred in zip(texts, predicted):
            if not isinstance(t, str):
                out.append(TypeError("text is not a string"))
            elif isinstance(pred, Exception):
                out.append(pred)
            else:
                try:
                    out.append(union_spans(t, self.rules.detect(t), pred, times=self.rules.times))
                except Exception as err:
                    out.append(err)
        return out


__all__ = [
    "CONFIG_FILE",
    "DeidModelConfig",
    "DeidModelError",
    "ModelSignal",
    "RulesAndModel",
    "bio_labels",
    "decode_tags",
    "model_fingerprint",
    "read_config",
    "union_spans",
]
