"""The prompted labeler (``label --engine llm``): an instruction-tuned decoder answers in JSON.

* :mod:`.prompt` -- the prompt as data (``rules/prompts/chexpert.yml``), its rendering and the
  JSON Schema of a valid answer;
* :mod:`.grammar` -- constrained decoding for transformers ``generate``: a logits processor that
  walks the answer's grammar (taxonomy labels in order, values 1/0/-1/null, evidence quotes that
  are substrings of the report);
* :mod:`.answers` -- parsing, schema validation and evidence verification of an answer;
* :mod:`.backends` -- transformers ``generate`` (CPU/GPU) and vLLM structured outputs (GPU);
* :mod:`.engine` -- one retry, then a coded reject: a value is never guessed;
* :mod:`.labeling` -- ``label_archive_with_llm`` (``--engine llm`` and ``--engine hybrid``).

Nothing here imports spaCy; torch and transformers load when a backend is built.
"""

from __future__ import annotations

_LAZY = {
    "PromptSpec": ("reportlab_nlp.model.llm.prompt", "PromptSpec"),
    "load_prompt": ("reportlab_nlp.model.llm.prompt", "load_prompt"),
    "LlmLabeler": ("reportlab_nlp.model.llm.engine", "LlmLabeler"),
    "label_archive_with_llm": ("reportlab_nlp.model.llm.labeling", "label_archive_with_llm"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'reportlab_nlp.model.llm' has no attribute {name!r}")


__all__ = list(_LAZY)
