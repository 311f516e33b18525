"""The section header rules (``rules/sections.yml``) as a plain mapping, without spaCy.

Read by the rule pipeline's section stage (:mod:`reportlab_nlp.sections`) and by the model's
input scope (:mod:`reportlab_nlp.model.scope`), so both split reports with one rules file.
"""

from __future__ import annotations

from pathlib import Path

from .errors import RulesError
from .resources import load_yaml, resolve

DEFAULT_SECTION_RULES = "sections.yml"


def load_section_rules(path: str | Path | None = None) -> dict:
    """``{"labeled": [categories], "sections": {category: [header phrases]}}``."""
    p = resolve("rules", path or DEFAULT_SECTION_RULES)
    raw = load_yaml(p)
    if not isinstance(raw, dict) or not isinstance(raw.get("sections"), dict):
        raise RulesError(f"section rules {p} need a 'sections' mapping of category -> header phrases")
    return {
        "labeled": list(raw.get("labeled") or ["findings", "impression", "unknown"]),
        "sections": {str(k): [str(x) for x in v] for k, v in raw["sections"].items()},
    }


def header_words(phrase: str) -> list[str]:
    """The words of a header phrase; "/" is a word of its own ("findings/impression")."""
    return phrase.replace("/", " / ").split()
