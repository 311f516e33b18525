"""The transformer labeler: a CheXbert-style encoder with one 4-way head per label.

* :mod:`.modeling` -- the model, its ``label_schema.json``, save/load (offline);
* :mod:`.windows` -- tokenisation into overlapping windows, length buckets, window pooling;
* :mod:`.training` -- ``train_model`` (weak labels, class weights, early stopping, resume, gold stage);
* :mod:`.inference` -- ``Predictor`` (GPU bf16/fp16, CPU fp32 / int8 / ONNX Runtime);
* :mod:`.labeling` -- ``label_archive_with_model`` (``label --engine model|hybrid``);
* :mod:`.llm` -- the prompted labeler (``label --engine llm``, constrained JSON answers).

The encoder is a BERT-family model or a decoder (Gemma-3 / MedGemma text, Llama, Qwen) with LoRA
adapters (:mod:`peft`). Nothing here imports spaCy, so the model code runs where only torch and
transformers are installed (``benchmarks/bench_gpu.py``).

Importing this package is cheap; torch loads when a model is built or loaded.
"""

from __future__ import annotations

_LAZY = {
    "train_model": ("reportlab_nlp.model.training", "train_model"),
    "Predictor": ("reportlab_nlp.model.inference", "Predictor"),
    "label_archive_with_model": ("reportlab_nlp.model.labeling", "label_archive_with_model"),
    "load_labeler": ("reportlab_nlp.model.modeling", "load_labeler"),
    "save_labeler": ("reportlab_nlp.model.modeling", "save_labeler"),
    "LabelerSpec": ("reportlab_nlp.model.modeling", "LabelerSpec"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'reportlab_nlp.model' has no attribute {name!r}")


__all__ = list(_LAZY)
