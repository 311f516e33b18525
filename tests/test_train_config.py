"""``TrainConfig``: the training settings as one typed, checked value, saved with the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportlab_nlp.errors import ArgumentError, ModelError
from reportlab_nlp.model.train_config import TRAIN_CONFIG_FILE, TrainConfig, load_train_config


def test_defaults_are_the_cli_defaults():
    cfg = TrainConfig()
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.head_lr, cfg.max_length, cfg.window_overlap) == (
        6,
        16,
        1e-4,
        3e-3,
        256,
        64,
    )
    assert (cfg.pooling, cfg.input_scope, cfg.lora_r, cfg.seed, cfg.augment_swaps) == (
        "attention",
        "labeled_sections",
        None,
        13,
        150,
    )


def test_save_and_load_round_trip(tmp_path):
    cfg = TrainConfig(encoder=Path("/models/minilm"), epochs=3, lora_r=8, finetune_gold=tmp_path / "g.csv")
    assert cfg.encoder == "/models/minilm" and cfg.finetune_gold == str(tmp_path / "g.csv")
    path = cfg.save(tmp_path)
    assert path == tmp_path / TRAIN_CONFIG_FILE
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format_version"] == 1 and doc["config"]["epochs"] == 3 and doc["config"]["lora_r"] == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == [TRAIN_CONFIG_FILE]  # no temp file left
    assert load_train_config(tmp_path) == cfg


def test_overrides_change_only_the_named_settings():
    cfg = TrainConfig(epochs=3).with_overrides(seed=5, pooling="mean")
    assert cfg == TrainConfig(epochs=3, seed=5, pooling="mean")
    with pytest.raises(ArgumentError) as err:
        TrainConfig().with_overrides(epoch=3)
    assert err.value.code == "RL020" and "epoch" in err.value.message


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"epochs": 0}, "--epochs must be at least 1"),
        ({"batch_size": 0}, "--batch-size must be at least 1"),
        ({"val_fraction": 1.0}, "--val-fraction must be in [0, 1)"),
        ({"pooling": "max"}, "--pooling must be one of attention, mean, cls, last"),
        ({"input_scope": "impression"}, "--input-scope must be one of"),
        ({"augment_swaps": -1}, "--augment-swaps and --oversample-rare must be 0 or more"),
        ({"lora_r": -1}, "--lora-r must be 0 (off) or more"),
    ],
)
def test_validate_names_the_bad_setting(settings, message):
    with pytest.raises(ModelError) as err:
        TrainConfig(**settings).validate()
    assert err.value.code == "RL400" and err.value.message.startswith(message)


def test_a_bad_saved_config_is_a_coded_error(tmp_path):
    with pytest.raises(ModelError, match=r"\[RL400\] .* has no train_config.json"):
        load_train_config(tmp_path)
    (tmp_path / TRAIN_CONFIG_FILE).write_text('{"format_version": 1, "config": {"epochz": 2}}')
    with pytest.raises(ModelError, match=r"unknown setting\(s\) epochz"):
        load_train_config(tmp_path)
    (tmp_path / TRAIN_CONFIG_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="cannot be read"):
        load_train_config(tmp_path)
    (tmp_path / TRAIN_CONFIG_FILE).write_text('{"format_version": 9, "config": {}}')
    with pytest.raises(ModelError, match="newer than this release"):
        load_train_config(tmp_path)
