"""The prompt as data: labels, definitions, value meanings and few-shot examples.

A prompt file (``rules/prompts/chexpert.yml`` or a user's YAML) is read once into a
:class:`PromptSpec`. Its labels are checked against the taxonomy it names and put in the
taxonomy's order (the order of the output table and of the JSON answer). Few-shot evidence must
be copied exactly from its example report.

The answer is one JSON object: ``{"<label>": {"value": 1|0|-1|null, "evidence": "<quote>"|null}, ...}``
with every label, in order. :meth:`PromptSpec.json_schema` is that contract as JSON Schema
(validated with ``jsonschema``; also what vLLM's structured outputs receive).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import E, ModelError, RulesError
from ...resources import load_yaml, resolve

DEFAULT_PROMPT = "prompts/chexpert"
VALUE_TOKENS = ("1", "0", "-1", "null")  # the JSON spellings of the four values
VALUE_OF_TOKEN: dict[str, float | None] = {"1": 1.0, "0": 0.0, "-1": -1.0, "null": None}


class PromptError(ModelError):
    """A prompt file is unusable (RL430-RL432)."""

    code = E.RL430


@dataclass
class FewShot:
    report: str
    labels: dict[str, tuple[float | None, str | None]]


@dataclass
class PromptSpec:
    name: str
    taxonomy: str
    label_names: list[str]
    definitions: dict[str, str]
    values: dict[str, str]
    instructions: str
    examples: list[FewShot] = field(default_factory=list)
    max_quote_chars: int = 200
    source: str = ""
    no_finding: str | None = None
    finding_labels: list[str] = field(default_factory=list)

    # -- the answer contract ------------------------------------------------------------------
    def json_schema(self) -> dict:
        """JSON Schema of a valid answer: every label once, value in 1/0/-1/null, evidence string or null."""
        cell = {
            "type": "object",
            "properties": {"value": {"enum": [1, 0, -1, None]}, "evidence": {"type": ["string", "null"]}},
            "required": ["value", "evidence"],
            "additionalProperties": False,
        }
        return {
            "type": "object",
            "properties": dict.fromkeys(self.label_names, cell),
            "required": list(self.label_names),
            "additionalProperties": False,
        }

    def answer_json(self, labels: dict[str, tuple[float | None, str | None]]) -> str:
        """An answer in the exact layout the constrained decoder writes (used for few-shot examples)."""
        parts = []
        for n in self.label_names:
            value, quote = labels.get(n, (None, None))
            v = "null" if value is None else str(int(value))
            q = "null" if quote is None else json.dumps(quote, ensure_ascii=False)
            parts.append(f'{json.dumps(n)}: {{"value": {v}, "evidence": {q}}}')
        return "{" + ", ".join(parts) + "}"

    # -- rendering ------------------------------------------------------------------------------
    def user_message(self, report: str) -> str:
        lines = [self.instructions.strip(), "", "Values:"]
        lines += [f"- {k}: {v}" for k, v in self.values.items()]
        lines += ["", "Labels:"]
        lines += [f"- {n}: {self.definitions[n]}" for n in self.label_names]
        for i, ex in enumerate(self.examples, 1):
            lines += [
                "",
                f"Example {i} report:",
                ex.report.strip(),
                f"Example {i} answer:",
                self.answer_json(ex.labels),
            ]
        lines += ["", "Report:", report, "", "Answer:"]
        return "\n".join(lines)

    def render(self, tokenizer, report: str) -> str:
        """The full prompt text: the tokenizer's chat template when it has one, else plain text."""
        msg = self.user_message(report)
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(
                [{"role": "user", "content": msg}], tokenize=False, add_generation_prompt=True
            )
        return msg + "\n"


def _value(raw: Any, where: str) -> float | None:
    token = "null" if raw is None else str(raw).strip()
    if token.endswith(".0"):
        token = token[:-2]
    if token not in VALUE_OF_TOKEN:
        raise PromptError(f"{where}: value {raw!r} is not one of 1, 0, -1, null")
    return VALUE_OF_TOKEN[token]


def load_prompt(name_or_path: str | Path | None = None) -> PromptSpec:
    """Read and check a prompt file (default ``rules/prompts/chexpert.yml``)."""
    from ...schema import load_taxonomy

    try:
        path = resolve("rules", str(name_or_path or DEFAULT_PROMPT))
        raw = load_yaml(path)
    except RulesError as err:
        raise PromptError(f"prompt {name_or_path}: {err.message}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("labels"), list) or not raw["labels"]:
        raise PromptError(f"prompt {path.name} has no list of labels")
    try:
        tax = load_taxonomy(str(raw.get("taxonomy", "chexpert")))
    except RulesError as err:
        raise PromptError(f"prompt {path.name}: its taxonomy cannot be loaded ({err.code})") from None
    definitions: dict[str, str] = {}
    for i, item in enumerate(raw["labels"]):
        if not isinstance(item, dict) or not item.get("name"):
            raise PromptError(f"prompt {path.name}: label {i + 1} has no name")
        name = str(item["name"])
        if name not in tax.label_names:
            raise PromptError(
                f"prompt {path.name}: label {name!r} is not a label of taxonomy {tax.name}", code=E.RL431
            )
        definitions[name] = str(item.get("definition") or name).strip()
    names = [n for n in tax.label_names if n in definitions]
    values = {str(k): str(v) for k, v in (raw.get("values") or {}).items()}
    spec = PromptSpec(
        name=str(raw.get("name", path.stem)),
        taxonomy=str(raw.get("taxonomy", "chexpert")),
        label_names=names,
        definitions=definitions,
        values=values,
        instructions=str(raw.get("instructions") or "").strip(),
        max_quote_chars=int(raw.get("max_quote_chars", 200)),
        source=str(path),
        no_finding=tax.no_finding if tax.no_finding in names else None,
        finding_labels=[
            l.name for l in tax.labels if l.counts_as_finding and l.name in names and l.name != tax.no_finding
        ],
    )
    if spec.max_quote_chars < 8:
        raise PromptError(f"prompt {path.name}: max_quote_chars must be at least 8")
    for k, ex in enumerate(raw.get("examples") or [], 1):
        if not isinstance(ex, dict) or not isinstance(ex.get("report"), str):
            raise PromptError(f"prompt {path.name}: example {k} has no report text")
        labels: dict[str, tuple[float | None, str | None]] = {}
        for name, cell in (ex.get("labels") or {}).items():
            if name not in definitions:
                raise PromptError(
                    f"prompt {path.name}: example {k} uses label {name!r}, which the prompt does not define",
                    code=E.RL431,
                )
            if not isinstance(cell, (list, tuple)) or len(cell) != 2:
                raise PromptError(f"prompt {path.name}: example {k}, {name}: expected [value, evidence]")
            value, quote = _value(cell[0], f"prompt {path.name}: example {k}, {name}"), cell[1]
            if quote is not None and str(quote) not in ex["report"]:
                raise PromptError(
                    f"prompt {path.name}: example {k}, {name}: "
                    "the evidence is not copied from the example report",
                    code=E.RL432,
                )
            labels[str(name)] = (value, None if quote is None else str(quote))
        spec.examples.append(FewShot(ex["report"], labels))
    return spec
