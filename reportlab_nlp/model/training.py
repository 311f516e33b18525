"""Training the labeler on weak (rule) labels, with an optional second stage on gold labels.

``train_model`` reads a report archive and a label table in the labeler's output format
(id column + label columns, 1.0 / 0.0 / -1.0 / blank), keeps the reports present in both,
and fine-tunes encoder + heads with:

* a class-weighted cross-entropy per label (weights ``sqrt(N / (4 * count))`` of each class in
  the training split, clipped to [0.1, 10]; label columns a table lacks are ignored);
* a seeded validation split (``val_fraction``) with early stopping on the validation macro F1
  (mean over labels of the F1 macro-averaged over the classes present), ``patience`` epochs;
* AdamW (encoder ``lr``, heads ``head_lr``) with linear warm-up and decay;
* a checkpoint of the full training state after every epoch in ``<out>/checkpoints/last``
  (``resume=True`` continues from it, bit-for-bit on the same machine);
* the best model saved to ``<out>`` whenever validation improves, and a training report
  (``training_report.json`` / ``.md``: per-label F1 on validation) beside it.

Long reports are split into windows and pooled exactly as at inference
(:mod:`reportlab_nlp.model.windows`), so the loss is computed on the pooled prediction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GoldTableError, ModelError
from ..inputs import read_reports
from ..outputs import RejectsWriter, read_label_table
from ..schema import BUILTIN_TAXONOMIES, load_taxonomy
from .augment import rare_class_repeats, sentence_examples, swap_examples
from .device import cap_threads, resolve_device
from .modeling import (
    N_CLASSES,
    LabelerSpec,
    load_labeler,
    new_labeler,
    save_labeler,
    special_token_ids,
    value_classes,
)
from .scope import default_section_rules, model_inputs
from .train_config import TrainConfig
from .windows import (
    encode_reports,
    gather_reports,
    pad_batch,
    pool_windows_torch,
    shuffled_buckets,
    window_index,
)

log = logging.getLogger(__name__)

IGNORE = -100
CKPT_DIR = "checkpoints/last"
CLASS_NAMES = ("blank", "positive", "negative", "uncertain")


@dataclass
class TrainData:
    ids: list[str]
    texts: list[str]
    targets: np.ndarray  # [N, L] class index or IGNORE


def targets_from_table(table, label_names: list[str], ids: list[str]) -> np.ndarray:
    """Class-index targets [N, L] for ``ids`` from a validated label table (absent column -> ignored)."""
    classes = value_classes()
    out = np.full((len(ids), len(label_names)), IGNORE, dtype=np.int64)
    sub = table.loc[ids]
    for j, name in enumerate(label_names):
        if name not in sub.columns:
            continue
        col = sub[name].to_numpy(dtype=float)
        for c, v in enumerate(classes):
            if v is None:
                out[np.isnan(col), j] = c
            else:
                out[col == v, j] = c
    return out


def class_weights(targets: np.ndarray) -> np.ndarray:
    """[L, 4] loss weights: sqrt(N / (4 * count)) per class, clipped to [0.1, 10]; 1 for unseen classes."""
    L = targets.shape[1]
    w = np.ones((L, N_CLASSES), dtype=np.float32)
    for j in range(L):
        col = targets[:, j]
        col = col[col != IGNORE]
        if len(col) == 0:
            continue
        counts = np.bincount(col, minlength=N_CLASSES).astype(float)
        seen = counts > 0
        w[j, seen] = np.clip(np.sqrt(len(col) / (N_CLASSES * counts[seen])), 0.1, 10.0)
    return w


def weighted_loss(logits, targets, weights):
    """Class-weighted cross-entropy over all (report, label) cells; IGNORE cells are skipped."""
    import torch

    logp = torch.log_softmax(logits.float(), dim=-1)  # [B, L, C]
    valid = targets != IGNORE
    t = targets.clamp(min=0)
    nll = -logp.gather(-1, t.unsqueeze(-1)).squeeze(-1)  # [B, L]
    w = weights[torch.arange(weights.shape[0], device=t.device).view(1, -1), t]  # [B, L]
    w = w * valid
    return (w * nll).sum() / w.sum().clamp(min=1e-8)


def per_label_metrics(gold: np.ndarray, pred: np.ndarray, label_names: list[str]) -> dict[str, dict]:
    """Per label: agreement, F1 per class, and F1 macro-averaged over the classes in the gold column."""
    from sklearn.metrics import f1_score

    out: dict[str, dict] = {}
    for j, name in enumerate(label_names):
        g, p = gold[:, j], pred[:, j]
        keep = g != IGNORE
        g, p = g[keep], p[keep]
        if len(g) == 0:
            continue
        present = sorted(set(g.tolist()))
        per_class = f1_score(g, p, labels=list(range(N_CLASSES)), average=None, zero_division=0)
        out[name] = {
            "support": int(len(g)),
            "agreement": float((g == p).mean()),
            "f1_macro": float(f1_score(g, p, labels=present, average="macro", zero_division=0)),
            **{f"f1_{CLASS_NAMES[c]}": float(per_class[c]) for c in range(N_CLASSES)},
            **{f"n_{CLASS_NAMES[c]}": int((g == c).sum()) for c in range(N_CLASSES)},
        }
    return out


def macro_score(metrics: dict[str, dict]) -> float:
    return float(np.mean([m["f1_macro"] for m in metrics.values()])) if metrics else float("nan")


def _fingerprint(ids: list[str], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for i in ids:
        h.update(i.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


class _Trainer:
    def __init__(
        self,
        model,
        tokenizer,
        spec: LabelerSpec,
        device: str,
        batch_size: int,
        show_progress: bool,
        fingerprint: str,
    ):
        import torch

        self.fingerprint = fingerprint
        self.torch = torch
        self.model = model.to(device)
        self.tokenizer = tokenizer
        self.spec = spec
        self.device = device
        self.batch_size = batch_size
        self.show_progress = show_progress
        _, _, self.pad_id = special_token_ids(tokenizer)
        self.cuda = device.startswith("cuda")
        self.amp_dtype = None
        if self.cuda:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

    def _forward(self, enc, index, reports):
        torch = self.torch
        wins, owner = gather_reports(enc, index, reports)
        ids, mask = pad_batch(wins, self.pad_id)
        t_ids = torch.from_numpy(ids).to(self.device, non_blocking=True)
        t_mask = torch.from_numpy(mask).to(self.device, non_blocking=True)
        if self.amp_dtype is not None:
            with torch.autocast("cuda", dtype=self.amp_dtype):
                logits = self.model(t_ids, t_mask)
        else:
            logits = self.model(t_ids, t_mask)
        return pool_windows_torch(logits.float(), torch.from_numpy(owner).to(self.device), len(reports))

    def predict(self, enc, index, reports: np.ndarray) -> np.ndarray:
        torch = self.torch
        self.model.eval()
        preds = []
        order = reports[np.argsort(-enc.n_tokens[reports], kind="stable")]
        with torch.inference_mode():
            for s in range(0, len(order), self.batch_size * 2):
                part = order[s : s + self.batch_size * 2]
                preds.append((part, self._forward(enc, index, part).argmax(-1).cpu().numpy()))
        out = np.zeros((enc.n_reports, len(self.spec.label_names)), dtype=np.int64)
        for part, p in preds:
            out[part] = p
        return out[reports]

    def run_stage(
        self,
        *,
        stage: str,
        enc,
        index,
        targets: np.ndarray,
        train_idx: np.ndarray,
        val_idx: np.ndarray,
        epochs: int,
        lr: float,
        head_lr: float,
        weight_decay: float,
        warmup: float,
        patience: int,
        seed: int,
        out_dir: Path,
        state: dict | None,
        on_epoch_end: Callable | None,
        history: list,
    ) -> dict:
        torch = self.torch
        from transformers import get_linear_schedule_with_warmup

        model = self.model
        weights = torch.from_numpy(class_weights(targets[train_idx])).to(self.device)
        head_params = list(model.heads.parameters())
        head_ids = {id(p) for p in head_params}
        # with LoRA only the adapters (and the heads) require gradients
        enc_params = [p for p in model.parameters() if id(p) not in head_ids and p.requires_grad]
        decay = lambda ps: [p for p in ps if p.ndim > 1]  # noqa: E731
        no_decay = lambda ps: [p for p in ps if p.ndim <= 1]  # noqa: E731
        opt = torch.optim.AdamW(
            [
                {"params": decay(enc_params), "lr": lr, "weight_decay": weight_decay},
                {"params": no_decay(enc_params), "lr": lr, "weight_decay": 0.0},
                {"params": decay(head_params), "lr": head_lr, "weight_decay": weight_decay},
                {"params": no_decay(head_params), "lr": head_lr, "weight_decay": 0.0},
            ]
        )
        steps_per_epoch = max(1, math.ceil(len(train_idx) / self.batch_size))
        total = steps_per_epoch * epochs
        sched = get_linear_schedule_with_warmup(opt, int(total * warmup), total)
        start_epoch, best, bad = 0, -1.0, 0
        if state is not None:
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            torch.set_rng_state(state["torch_rng"])
            if self.cuda and state.get("cuda_rng") is not None:
                torch.cuda.set_rng_state_all(state["cuda_rng"])
            start_epoch, best, bad = state["epoch"] + 1, state["best"], state["bad_epochs"]
        tgt_all = torch.from_numpy(targets).to(self.device)
        lengths = enc.n_tokens[train_idx]
        prog = None
        if self.show_progress:
            from ..progress import progress

            prog = progress()
            prog.start()
        try:
            for epoch in range(start_epoch, epochs):
                if len(val_idx) and bad >= patience:
                    break
                model.train()
                rng = np.random.default_rng([seed, 1 if stage == "gold" else 0, epoch])
                batches = shuffled_buckets(lengths, self.batch_size, rng)
                task = (
                    prog.add_task(f"{stage} epoch {epoch + 1}/{epochs}", total=len(train_idx), rate="")
                    if prog
                    else None
                )
                t0, seen, loss_sum = time.perf_counter(), 0, 0.0
                for b in batches:
                    reports = train_idx[b]
                    logits = self._forward(enc, index, reports)
                    loss = weighted_loss(logits, tgt_all[torch.from_numpy(reports).to(self.device)], weights)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    opt.step()
                    sched.step()
                    seen += len(reports)
                    loss_sum += float(loss.detach()) * len(reports)
                    if prog:
                        prog.update(task, advance=len(reports), rate=f"loss {loss_sum / seen:.4f}")
                train_loss = loss_sum / max(1, seen)
                rec: dict[str, Any] = {
                    "stage": stage,
                    "epoch": epoch + 1,
                    "train_loss": round(train_loss, 5),
                    "seconds": round(time.perf_counter() - t0, 1),
                }
                improved = True
                if len(val_idx):
                    pred = self.predict(enc, index, val_idx)
                    metrics = per_label_metrics(targets[val_idx], pred, self.spec.label_names)
                    score = macro_score(metrics)
                    rec["val_macro_f1"] = round(score, 5)
                    improved = score > best
                    if improved:
                        best, bad = score, 0
                    else:
                        bad += 1
                history.append(rec)
                log.info(
                    "%s epoch %d: train loss %.4f%s",
                    stage,
                    epoch + 1,
                    train_loss,
                    f", validation macro F1 {rec['val_macro_f1']:.4f}" if "val_macro_f1" in rec else "",
                )
                if improved:
                    save_labeler(model, self.tokenizer, out_dir)
                state_out = {
                    "stage": stage,
                    "epoch": epoch,
                    "best": best,
                    "bad_epochs": bad,
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "torch_rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state_all() if self.cuda else None,
                    "history": list(history),
                    "fingerprint": self.fingerprint,
                }
                _save_checkpoint(model, state_out, out_dir)
                if on_epoch_end is not None:
                    on_epoch_end(stage, epoch + 1)
                if len(val_idx) and bad >= patience:
                    log.info(
                        "%s: early stop after epoch %d (no improvement for %d epochs)", stage, epoch + 1, bad
                    )
                    break
        finally:
            if prog:
                prog.stop()
        return {"best_val_macro_f1": best if len(val_idx) else None}


def _trained_state(model) -> dict:
    """What training changes: every weight, or with LoRA the adapters and the heads only."""
    state = model.state_dict()
    if model.spec.lora:
        state = {k: v for k, v in state.items() if "lora_" in k or k.startswith("heads.")}
    return state


def _save_checkpoint(model, state: dict, out_dir: Path) -> None:
    import torch
    from safetensors.torch import save_file

    d = out_dir / CKPT_DIR
    d.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in _trained_state(model).items()}
    save_file(weights, str(d / "model.tmp"))
    torch.save(state, d / "state.tmp")
    (d / "model.tmp").replace(d / "model.safetensors")
    (d / "state.tmp").replace(d / "state.pt")


def _load_checkpoint(model, out_dir: Path) -> dict:
    import torch
    from safetensors.torch import load_file

    d = out_dir / CKPT_DIR
    if not (d / "state.pt").exists() or not (d / "model.safetensors").exists():
        raise ModelError(f"--resume: no checkpoint in {d}")
    weights = load_file(str(d / "model.safetensors"))
    if model.spec.lora:
        missing = set(_trained_state(model)) - set(weights)
        if missing:
            raise ModelError(
                f"--resume: the checkpoint in {d} lacks {len(missing)} adapter weight(s); "
                "start without --resume"
            )
        model.load_state_dict(weights, strict=False)
    else:
        model.load_state_dict(weights)
    return torch.load(d / "state.pt", weights_only=False)


def _restore_best(model, out_dir: Path, device: str):
    """Put the saved (best) weights back into the training model.

    A LoRA labeler reloads its adapter and heads in place (the base weights never change, and a
    second copy of a multi-GB base is not loaded); other labelers are reloaded from ``out_dir``.
    """
    if not model.spec.lora:
        best_model, _, _ = load_labeler(out_dir)
        model.load_state_dict(best_model.state_dict())
        return model.to(device)
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    from .modeling import ADAPTER_DIR, HEADS_FILE

    adapter = load_file(str(out_dir / ADAPTER_DIR / "adapter_model.safetensors"))
    set_peft_model_state_dict(model.encoder, adapter)
    model.heads.load_state_dict(load_file(str(out_dir / HEADS_FILE)))
    return model.to(device)


def _split(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_val = int(round(n * val_fraction))
    if n_val < 1 or n - n_val < 1:
        return np.sort(perm), np.zeros(0, dtype=np.int64)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _load_reports(archive, id_column, text_column, out_dir: Path):
    frame, rejects, src = read_reports(archive, id_column, text_column)
    if rejects:
        with RejectsWriter(out_dir / "train.rejects.csv", src.id_column) as rw:
            rw.write(rejects)
    ids = frame[src.id_column].astype(str).tolist() if len(frame) else []
    texts = frame[src.text_column].tolist() if len(frame) else []
    return ids, texts, rejects, src


def train_model(
    archive: str | Path,
    labels: str | Path,
    output_dir: str | Path,
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    show_progress: bool = True,
    on_epoch_end: Callable[[str, int], None] | None = None,
    **settings: Any,
) -> dict:
    """Train a labeler; returns the training report (also written to ``<out>/training_report.json``).

    ``config`` holds every training setting (:class:`TrainConfig`, saved with the model as
    ``train_config.json``); keyword ``settings`` (``epochs=3``, ``encoder=...``) override its fields.
    ``encoder`` is a local BERT-family encoder or a decoder checkpoint (Gemma-3 / MedGemma text,
    Llama, Qwen, ...). ``lora_r``: LoRA rank (``None``: 16 for decoders, full fine-tuning for
    encoders; 0: no LoRA). On CUDA a LoRA decoder's base weights load in bf16 with gradient
    checkpointing.
    """
    import torch

    cfg = (config or TrainConfig()).with_overrides(**settings).validate()
    encoder, taxonomy, id_column, text_column = cfg.encoder, cfg.taxonomy, cfg.id_column, cfg.text_column
    epochs, batch_size, lr, head_lr = cfg.epochs, cfg.batch_size, cfg.lr, cfg.head_lr
    weight_decay, warmup, patience, seed = cfg.weight_decay, cfg.warmup, cfg.patience, cfg.seed
    max_length, window_overlap, pooling = cfg.max_length, cfg.window_overlap, cfg.pooling
    val_fraction, input_scope, lora_r = cfg.val_fraction, cfg.input_scope, cfg.lora_r
    finetune_gold, finetune_epochs, finetune_lr = cfg.finetune_gold, cfg.finetune_epochs, cfg.finetune_lr
    augment_sentences, oversample_rare, augment_swaps = (
        cfg.augment_sentences,
        cfg.oversample_rare,
        cfg.augment_swaps,
    )
    device, threads = cfg.device, cfg.threads
    t_start = time.perf_counter()
    out = Path(output_dir)
    dev = resolve_device(device)
    n_threads = cap_threads(threads) if not dev.startswith("cuda") else torch.get_num_threads()
    out.mkdir(parents=True, exist_ok=True)

    tax = load_taxonomy(taxonomy)
    table, _ = read_label_table(labels, tax.label_names, aliases=tax.column_aliases())
    label_names = [n for n in tax.label_names if n in table.columns]

    ids, texts, rejects, _src = _load_reports(archive, id_column, text_column, out)
    in_table = set(table.index)
    keep = [i for i, rid in enumerate(ids) if rid in in_table]
    n_unlabeled = len(ids) - len(keep)
    n_labels_without_report = len(in_table - set(ids))
    if not keep:
        raise ModelError(
            f"no report of {Path(archive).name} has a row in {Path(labels).name} (ids must match)"
        )
    ids = [ids[i] for i in keep]
    texts = [texts[i] for i in keep]
    targets = targets_from_table(table, label_names, ids)

    spec = LabelerSpec(
        label_names=label_names,
        taxonomy_name=tax.name,
        taxonomy_source=str(taxonomy),
        no_finding=tax.no_finding if tax.no_finding in label_names else None,
        finding_labels=[
            l.name
            for l in tax.labels
            if l.counts_as_finding and l.name in label_names and l.name != tax.no_finding
        ],
        max_length=max_length,
        window_overlap=window_overlap,
        pooling=pooling,
        input_scope=input_scope,
        section_rules=default_section_rules() if input_scope == "labeled_sections" else None,
    )
    torch.manual_seed(seed)
    cuda = dev.startswith("cuda")
    model, tokenizer = new_labeler(
        encoder,
        spec,
        seed=seed,
        lora_r=lora_r,
        dtype="bf16" if cuda and lora_r != 0 else None,
        gradient_checkpointing=cuda,
    )
    fingerprint = _fingerprint(
        ids,
        json.dumps(
            [
                label_names,
                max_length,
                window_overlap,
                pooling,
                seed,
                val_fraction,
                str(encoder),
                augment_sentences,
                oversample_rare,
                augment_swaps,
                input_scope,
                spec.section_rules,
            ]
            + ([spec.lora] if spec.lora else []),
            sort_keys=True,
        ),
    )

    state = None
    history: list = []
    if resume:
        state = _load_checkpoint(model, out)
        if state.get("fingerprint") not in (None, fingerprint):
            raise ModelError(
                "--resume: the checkpoint was made with other data or settings (reports, labels, encoder, "
                "seed or window); start without --resume"
            )
        history = list(state.get("history", []))
        torch.set_rng_state(state["torch_rng"])

    if str(taxonomy) not in BUILTIN_TAXONOMIES:
        # keep a copy of a user taxonomy with the model (hybrid labeling needs its rules)
        shutil.copyfile(tax.path, out / "taxonomy.yml")
    train_idx, val_idx = _split(len(ids), val_fraction, seed)
    n_train_reports = int(len(train_idx))
    n_reports_used = len(ids)
    n_sentence_examples = 0
    n_swap_examples = 0
    n_oversampled = 0
    swap_counts: dict[str, int] = {}
    if augment_sentences:
        import pandas as pd

        # sentences of the training reports only: none of a validation report leaks into training
        tr = train_idx.tolist()
        s_results: list | None = [] if augment_swaps > 0 else None  # labelled once, reused by the swaps
        s_ids, s_texts, s_table = sentence_examples(
            [ids[i] for i in tr], [texts[i] for i in tr], str(taxonomy), label_names, keep_results=s_results
        )
        n_sentence_examples = len(s_ids)  # distinct sentences
        if s_ids and augment_swaps > 0:
            x_ids, x_texts, x_table, swap_counts = swap_examples(
                s_ids,
                s_texts,
                str(taxonomy),
                label_names,
                min_count=augment_swaps,
                seed=seed,
                results=s_results,
            )
            n_swap_examples = len(x_ids)
            s_ids, s_texts = s_ids + x_ids, s_texts + x_texts
            s_table = pd.concat([s_table, x_table])
        if s_ids:
            s_targets = targets_from_table(s_table, label_names, s_ids)
            reps = (
                rare_class_repeats(s_targets, min_count=oversample_rare)
                if oversample_rare > 0
                else np.ones(len(s_ids), dtype=np.int64)
            )
            s_ids = [f"{rid}#r{k}" if k else rid for rid, r in zip(s_ids, reps) for k in range(r)]
            s_texts = [t for t, r in zip(s_texts, reps) for _ in range(r)]
            s_targets = np.repeat(s_targets, reps, axis=0)
            n_oversampled = int(reps.sum() - len(reps))
            base = len(ids)
            ids = ids + s_ids
            texts = texts + s_texts
            targets = np.concatenate([targets, s_targets])
            train_idx = np.concatenate([train_idx, np.arange(base, base + len(s_ids), dtype=train_idx.dtype)])
    enc = encode_reports(tokenizer, model_inputs(texts, spec.input_scope, spec.section_rules), spec)
    index = window_index(enc)
    trainer = _Trainer(model, tokenizer, spec, dev, batch_size, show_progress, fingerprint)
    _hook = on_epoch_end
    # stage 1: weak labels, then (optionally) stage 2: gold labels
    if state is None or state.get("stage") == "weak":
        trainer.run_stage(
            stage="weak",
            enc=enc,
            index=index,
            targets=targets,
            train_idx=train_idx,
            val_idx=val_idx,
            epochs=epochs,
            lr=lr,
            head_lr=head_lr,
            weight_decay=weight_decay,
            warmup=warmup,
            patience=patience,
            seed=seed,
            out_dir=out,
            state=state,
            on_epoch_end=_hook,
            history=history,
        )
        state = None
    report_stage = "weak"
    gold_info = None
    if finetune_gold is not None:
        # continue from the best weak model
        if (out / "heads.safetensors").exists() and (state is None or state.get("stage") != "gold"):
            trainer.model = _restore_best(trainer.model, out, dev)
        gold, _ = read_label_table(finetune_gold, label_names, aliases=tax.column_aliases())
        pos = {rid: i for i, rid in enumerate(ids)}
        g_idx = np.array(sorted(pos[r] for r in gold.index if r in pos), dtype=np.int64)
        if len(g_idx) == 0:
            raise GoldTableError(
                f"no id of the gold table {Path(finetune_gold).name} is a labeled report of "
                f"{Path(archive).name}"
            )
        g_targets = np.full_like(targets, IGNORE)
        g_targets[g_idx] = targets_from_table(gold, label_names, [ids[i] for i in g_idx])
        gt, gv = _split(len(g_idx), val_fraction, seed + 1)
        trainer.run_stage(
            stage="gold",
            enc=enc,
            index=index,
            targets=g_targets,
            train_idx=g_idx[gt],
            val_idx=g_idx[gv],
            epochs=finetune_epochs,
            lr=finetune_lr or lr / 2,
            head_lr=(finetune_lr or lr / 2) * 10,
            weight_decay=weight_decay,
            warmup=warmup,
            patience=patience,
            seed=seed,
            out_dir=out,
            state=state if state is not None and state.get("stage") == "gold" else None,
            on_epoch_end=_hook,
            history=history,
        )
        report_stage = "gold"
        gold_info = {
            "table": str(finetune_gold),
            "reports": int(len(g_idx)),
            "train": int(len(gt)),
            "validation": int(len(gv)),
            "gold_ids_not_in_archive": int(sum(1 for r in gold.index if r not in pos)),
        }
        val_final, tgt_final = g_idx[gv], g_targets
    else:
        val_final, tgt_final = val_idx, targets

    if not val_final.size:
        # no validation: the last epoch's weights are the model
        save_labeler(trainer.model, tokenizer, out)
    if spec.lora:
        trainer.model = _restore_best(trainer.model, out, dev)
    else:
        best_model, _, _ = load_labeler(out)
        trainer.model = best_model.to(dev)
    metrics = (
        per_label_metrics(tgt_final[val_final], trainer.predict(enc, index, val_final), label_names)
        if len(val_final)
        else {}
    )
    report = {
        "model_dir": str(out),
        "encoder": spec.encoder_source,
        "architecture": spec.architecture,
        "lora": spec.lora,
        "trainable_parameters": int(sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)),
        "taxonomy": tax.name,
        "labels": label_names,
        "reports_in_archive": len(keep) + n_unlabeled + len(rejects),
        "reports_rejected": len(rejects),
        "sentence_examples": n_sentence_examples,  # distinct rule-labeled sentences of the training reports
        "swap_examples": n_swap_examples,  # distinct mention swaps
        "oversampled_repeats": n_oversampled,  # extra copies from --oversample-rare
        "swap_examples_per_value": swap_counts,
        "input_scope": input_scope,
        "reports_without_labels": n_unlabeled,
        "label_rows_without_report": n_labels_without_report,
        "reports_used": n_reports_used,
        "train_reports": n_train_reports,
        "train_examples": int(len(train_idx)),  # reports + sentence examples
        "validation_reports": int(len(val_idx)),
        "windowed_reports": int(sum(1 for i in range(n_reports_used) if enc.windows_per_report[i] > 1)),
        "max_length": max_length,
        "window_overlap": window_overlap,
        "seed": seed,
        "device": dev,
        "threads": n_threads,
        "finetune_gold": gold_info,
        "selected_on": report_stage,
        "history": history,
        "validation_macro_f1": macro_score(metrics) if metrics else None,
        "validation": metrics,
        "seconds": round(time.perf_counter() - t_start, 1),
    }
    cfg.save(out)
    _write_report(out, report)
    return report


def _write_report(out: Path, report: dict) -> None:
    (out / "training_report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Training report",
        "",
        f"- reports used: {report['reports_used']} (train {report['train_reports']}, validation "
        f"{report['validation_reports']})",
        f"- rule-labeled sentences: {report['sentence_examples']}, mention swaps: "
        f"{report['swap_examples']}, oversampled copies: {report['oversampled_repeats']}; input scope: "
        f"{report['input_scope']}",
        f"- windowed (longer than the {report['max_length']}-token window): {report['windowed_reports']}",
        f"- {report['architecture']}: `{report['encoder']}`"
        + (
            f" + LoRA r={report['lora']['r']} ({report['trainable_parameters']} trainable parameters)"
            if report["lora"]
            else ""
        )
        + f"; taxonomy: {report['taxonomy']}; seed {report['seed']}; device {report['device']}",
        "",
        "| stage | epoch | train loss | validation macro F1 |",
        "|---|---|---|---|",
    ]
    for h in report["history"]:
        lines.append(f"| {h['stage']} | {h['epoch']} | {h['train_loss']:.4f} | {h.get('val_macro_f1', '')} |")
    if report["validation"]:
        lines += [
            "",
            f"Validation ({report['selected_on']} labels) of the saved model, macro F1 "
            f"{report['validation_macro_f1']:.4f}:",
            "",
            "| label | support | agreement | F1 macro | F1 positive | F1 negative | F1 uncertain |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, m in report["validation"].items():
            lines.append(
                f"| {name} | {m['support']} | {m['agreement']:.3f} | {m['f1_macro']:.3f} | "
                f"{m['f1_positive']:.3f} | {m['f1_negative']:.3f} | {m['f1_uncertain']:.3f} |"
            )
    else:
        lines += ["", "No validation split (too few reports); the model is the last epoch's."]
    (out / "training_report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
