"""Backends of the prompted labeler: transformers ``generate`` and vLLM.

Both load a local checkpoint folder only (``local_files_only``; ``HF_HUB_OFFLINE=1``): weights are
never downloaded. Greedy decoding throughout, so a run is repeatable.

* :class:`TransformersBackend` -- any device; the answer is constrained token by token by
  :mod:`.grammar` (labels in order, 1/0/-1/null, quotes copied from the report). Prompts are
  left-padded and generated in batches of similar length.
* :class:`VllmBackend` -- CUDA with vLLM installed; vLLM's structured outputs hold the answer to
  :meth:`PromptSpec.json_schema`. Quotes are then verified after generation (:mod:`.answers`).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from ...errors import E, ModelError
from ..modeling import DECODER_ARCH_SUFFIXES, DECODER_MODEL_TYPES
from .engine import REJECT_TOO_LONG, Failure
from .grammar import AnswerGrammar, TokenTable, make_processor
from .prompt import PromptSpec

log = logging.getLogger(__name__)

BACKENDS = ("auto", "transformers", "vllm")
VLLM_MAX_MODEL_LEN = 16384
TOKENS_PER_LABEL = 24  # structure of one label's entry, without the quote, in tokens (generous)


def check_generative_dir(model_dir: str | Path) -> dict:
    """The checkpoint's config.json, if it describes a generative decoder; a coded error otherwise."""
    p = Path(model_dir)
    cfg_path = p / "config.json"
    if not p.is_dir() or not cfg_path.exists():
        raise ModelError(f"--model {p} is not a local model folder (no config.json)", code=E.RL440)
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError) as err:
        raise ModelError(f"{cfg_path} cannot be read ({type(err).__name__})", code=E.RL440) from None
    archs = cfg.get("architectures") or []
    if not (
        any(str(a).endswith(DECODER_ARCH_SUFFIXES) for a in archs)
        or cfg.get("model_type") in DECODER_MODEL_TYPES
    ):
        raise ModelError(
            f"--model {p} is not a generative (decoder) checkpoint; --engine llm needs an instruction-tuned "
            "decoder such as MedGemma-4B-it, Gemma-3, Qwen or Llama",
            code=E.RL440,
        )
    return cfg


def _context_length(config) -> int:
    text = getattr(config, "text_config", None) or config
    return int(getattr(text, "max_position_embeddings", 0) or 8192)


def answer_budget(prompt: PromptSpec) -> int:
    """New tokens enough for any answer of the grammar (quotes at one character per token)."""
    return len(prompt.label_names) * (TOKENS_PER_LABEL + prompt.max_quote_chars) + 8


class TransformersBackend:
    name = "transformers"

    def __init__(
        self,
        model_dir: str | Path,
        prompt: PromptSpec,
        *,
        device: str = "auto",
        batch_size: int = 8,
        max_new_tokens: int | None = None,
        threads: int | None = None,
    ):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        check_generative_dir(model_dir)
        import torch

        from ..device import cap_threads, resolve_device
        from ..modeling import _quiet_transformers

        _quiet_transformers()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = resolve_device(device)
        self.threads = cap_threads(threads) if not self.device.startswith("cuda") else torch.get_num_threads()
        self.prompt = prompt
        self.batch_size = max(1, int(batch_size))
        p = Path(model_dir)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(p, local_files_only=True)
        except (OSError, ValueError, TypeError) as err:
            raise ModelError(
                f"--model {p} has no usable tokenizer ({type(err).__name__})", code=E.RL440
            ) from None
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self.model = AutoModelForCausalLM.from_pretrained(p, local_files_only=True, dtype=dtype)
            except (OSError, ValueError) as err:
                raise ModelError(
                    f"--model {p}: weights cannot be loaded ({type(err).__name__})", code=E.RL440
                ) from None
        self.model.to(self.device).eval()
        gen = self.model.generation_config
        eos = gen.eos_token_id if gen is not None else None
        eos = list(eos) if isinstance(eos, (list, tuple)) else ([eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            eos.append(self.tokenizer.eos_token_id)
        self.eos_ids = sorted({int(e) for e in eos})
        self.context = _context_length(self.model.config)
        self.max_new_tokens = int(max_new_tokens or answer_budget(prompt))
        self.table = TokenTable.for_tokenizer(self.tokenizer)
        self.add_special = not getattr(self.tokenizer, "chat_template", None)

    def _encode(self, reports: Sequence[str]) -> list[list[int]]:
        texts = [self.prompt.render(self.tokenizer, r) for r in reports]
        return self.tokenizer(texts, add_special_tokens=self.add_special)["input_ids"]

    def generate(self, reports: Sequence[str], attempt: int) -> list[str | Failure]:
        import torch

        budget = self.max_new_tokens * (2 if attempt else 1)  # the retry may run longer
        encoded = self._encode(reports)
        out: list[str | Failure] = [""] * len(reports)
        ok = []
        for i, ids in enumerate(encoded):
            if len(ids) + min(budget, 64) > self.context:
                out[i] = Failure(
                    REJECT_TOO_LONG,
                    f"the prompt ({len(ids)} tokens) does not fit the model's {self.context}-token context",
                )
            else:
                ok.append(i)
        ok.sort(key=lambda i: -len(encoded[i]))
        pad = int(self.tokenizer.pad_token_id)
        for s in range(0, len(ok), self.batch_size):
            rows = ok[s : s + self.batch_size]
            longest = max(len(encoded[i]) for i in rows)
            ids = torch.full((len(rows), longest), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), longest), dtype=torch.long)
            for r, i in enumerate(rows):
                seq = encoded[i]
                ids[r, longest - len(seq) :] = torch.tensor(seq, dtype=torch.long)
                mask[r, longest - len(seq) :] = 1
            grammars = [
                AnswerGrammar(self.prompt.label_names, reports[i], self.prompt.max_quote_chars) for i in rows
            ]
            processor = make_processor(grammars, self.table, self.eos_ids)
            new = min(budget, self.context - longest)
            with torch.inference_mode():
                gen = self.model.generate(
                    input_ids=ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    logits_processor=[processor],
                    max_new_tokens=new,
                    do_sample=False,
                    eos_token_id=self.eos_ids,
                    pad_token_id=pad,
                )
            for r, i in enumerate(rows):
                tail = gen[r, longest:].tolist()
                tail = [t for t in tail if t not in self.eos_ids and t != pad]
                out[i] = self.tokenizer.decode(
                    tail, skip_special_tokens=True, clean_up_tokenization_spaces=False
                )
        return out


class VllmBackend:
    """vLLM with structured outputs (JSON Schema) on a GPU. Not exercised by the CPU test suite."""

    name = "vllm"

    def __init__(self, model_dir: str | Path, prompt: PromptSpec, *, max_new_tokens: int | None = None, **_):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        check_generative_dir(model_dir)
        try:
            from vllm import LLM
        except ImportError:
            raise ModelError(
                "--backend vllm needs the vllm package on a CUDA machine", code=E.RL441
            ) from None
        self.prompt = prompt
        # the KV cache is sized for prompt + answer, not the model's full (often 128k) context
        self.llm = LLM(model=str(model_dir), dtype="bfloat16", seed=0, max_model_len=VLLM_MAX_MODEL_LEN)
        self.tokenizer = self.llm.get_tokenizer()
        self.max_new_tokens = int(max_new_tokens or answer_budget(prompt))
        self.device = "cuda"
        self.threads = None

    def _params(self, budget: int):
        from vllm import SamplingParams

        schema = self.prompt.json_schema()
        try:  # vLLM >= 0.10
            from vllm.sampling_params import StructuredOutputsParams

            return SamplingParams(
                temperature=0.0, max_tokens=budget, structured_outputs=StructuredOutputsParams(json=schema)
            )
        except ImportError:
            from vllm.sampling_params import GuidedDecodingParams

            return SamplingParams(
                temperature=0.0, max_tokens=budget, guided_decoding=GuidedDecodingParams(json=schema)
            )

    def generate(self, reports: Sequence[str], attempt: int) -> list[str | Failure]:
        prompts = [self.prompt.render(self.tokenizer, r) for r in reports]
        outs = self.llm.generate(
            prompts, self._params(self.max_new_tokens * (2 if attempt else 1)), use_tqdm=False
        )
        return [o.outputs[0].text for o in outs]


def vllm_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def make_backend(
    model_dir: str | Path,
    prompt: PromptSpec,
    *,
    backend: str = "auto",
    device: str = "auto",
    batch_size: int = 8,
    max_new_tokens: int | None = None,
    threads: int | None = None,
):
    """``auto``: vLLM when it is installed and the device is a GPU, else transformers ``generate``."""
    if backend not in BACKENDS:
        raise ModelError(
            f"unknown LLM backend {backend!r}; expected one of {', '.join(BACKENDS)}", code=E.RL441
        )
    if backend == "auto":
        from ..device import resolve_device

        backend = "vllm" if resolve_device(device).startswith("cuda") and vllm_available() else "transformers"
    if backend == "vllm":
        return VllmBackend(model_dir, prompt, max_new_tokens=max_new_tokens)
    return TransformersBackend(
        model_dir,
        prompt,
        device=device,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        threads=threads,
    )
