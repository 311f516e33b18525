"""Parsing, validation and evidence verification of one answer.

An answer is accepted only if it is one JSON object that satisfies
:meth:`PromptSpec.json_schema` (checked with ``jsonschema``): every label of the prompt exactly
once, nothing else, values 1/0/-1/null, evidence a string or null. Otherwise it is invalid and
nothing of it is used.

A quote is kept as evidence only if it is a non-blank substring of the report (its first
occurrence gives the offsets); any other quote counts as no evidence (the value stays, the
quote is dropped and counted). Problems are described with label names and counts only: the
answer's own strings may be report text and never reach a message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from .prompt import PromptSpec


@dataclass(frozen=True)
class Cell:
    value: float | None
    evidence: str | None = None
    start: int | None = None
    end: int | None = None


@dataclass
class Answer:
    cells: dict[str, Cell] | None  # None: invalid
    problem: str | None = None
    unverified_quotes: int = 0


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise _Duplicate()
    return dict(pairs)


@lru_cache(maxsize=32)
def _validator(schema_json: str):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json))


def _strip_fence(text: str) -> str:
    t = text.strip()
    if t.startswith("```") and t.endswith("```") and len(t) >= 6:
        t = t[3:-3]
        if t.startswith("json"):
            t = t[4:]
    return t.strip()


def _describe(err, labels: list[str], obj) -> str:
    """A message about a schema violation naming only prompt labels and field names."""
    path = list(err.absolute_path)
    if not path:
        if err.validator == "required" and isinstance(obj, dict):
            missing = [n for n in labels if n not in obj]
            return f"label(s) missing: {', '.join(missing)}"
        if err.validator == "additionalProperties" and isinstance(obj, dict):
            extra = sum(1 for k in obj if k not in labels)
            return f"{extra} key(s) that are not labels of the prompt"
        return "the answer is not a JSON object"
    label = path[0] if path[0] in labels else "?"
    if len(path) == 1:
        return f"label {label!r}: not an object with exactly 'value' and 'evidence'"
    if path[1] == "value":
        return f"label {label!r}: value is not 1, 0, -1 or null"
    return f"label {label!r}: evidence is not a string or null"


def parse_answer(text: str | None, prompt: PromptSpec, report: str) -> Answer:
    """Validate one answer against the prompt's schema and verify its quotes against ``report``."""
    if text is None or not text.strip():
        return Answer(None, "the answer is empty")
    try:
        obj = json.loads(_strip_fence(text), object_pairs_hook=_no_duplicates)
    except _Duplicate:
        return Answer(None, "a key is repeated")
    except (json.JSONDecodeError, RecursionError):
        return Answer(None, "the answer is not JSON (or is cut short)")
    validator = _validator(json.dumps(prompt.json_schema(), sort_keys=True))
    errors = sorted(
        validator.iter_errors(obj), key=lambda e: (len(list(e.absolute_path)), str(list(e.absolute_path)))
    )
    if errors:
        return Answer(None, _describe(errors[0], prompt.label_names, obj))
    cells: dict[str, Cell] = {}
    unverified = 0
    for name in prompt.label_names:
        raw_v, quote = obj[name]["value"], obj[name]["evidence"]
        value = None if raw_v is None else float(raw_v)
        if value is None:
            cells[name] = Cell(None)
            continue
        if isinstance(quote, str) and quote.strip() and quote in report:
            start = report.find(quote)
            cells[name] = Cell(value, quote, start, start + len(quote))
        else:
            unverified += quote is not None
            cells[name] = Cell(value)
    return Answer(cells, None, unverified)
