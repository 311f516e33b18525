"""What the model reads: the labeled sections of a report, found without spaCy.

The rule labeler labels only the sections listed as ``labeled`` in ``rules/sections.yml``
(FINDINGS, IMPRESSION, header-less text, report bodies). The model is trained and run on the
same text, so an INDICATION such as "rule out pneumonia" never reaches it: the encoder does not
have to learn from a few hundred weak labels that the indication does not count.

The section detector of the rule pipeline (:mod:`reportlab_nlp.sections`) runs on spaCy tokens;
that costs about 1.5 ms per report, more than a GPU spends on the report itself. This module
compiles the *same rules file* into one regular expression with the same header grammar:

* a header starts a line (only white space before it on its line);
* ``Phrase:`` in any case, ``PHRASE`` in capitals without a colon, or ``Phrase`` alone on its
  line; of headers starting at the same place the longest wins;
* text before the first header is ``unknown``.

``tests/test_model_scope.py`` checks that both detectors cut the same sections.
The section rules are stored in the model's ``label_schema.json`` so a model always reads the
scope it was trained on, whatever the installed rules say later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..section_rules import header_words

SCOPES = ("labeled_sections", "all")


def _phrase_regex(phrase: str, *, upper: bool) -> str:
    """A header phrase as a regex: its words (as ``header_words`` splits them) separated by blanks."""
    words = header_words(phrase)
    parts = [re.escape(w.upper() if upper else w) for w in words]
    return r"[ \t]*".join(parts) if "/" in words else r"[ \t]+".join(parts)


@dataclass(frozen=True)
class SectionScope:
    """A compiled section splitter for one rules mapping (``{"labeled": [...], "sections": {...}}``)."""

    labeled: tuple[str, ...]
    pattern: re.Pattern[str]
    groups: dict[str, str]

    @classmethod
    def from_rules(cls, rules: dict) -> SectionScope:
        alternatives: list[tuple[int, str, str]] = []
        groups: dict[str, str] = {}
        for k, (category, phrases) in enumerate(rules["sections"].items()):
            for i, phrase in enumerate(phrases):
                n_words = len(header_words(phrase))
                any_case = _phrase_regex(phrase, upper=False)
                caps = _phrase_regex(phrase, upper=True)
                # the three forms of a header, as spaCy tokens see them: "Phrase:" in any case;
                # "PHRASE" in capitals (case-sensitive, a whole word); "Phrase" followed by a
                # whitespace token (a line break, a tab, or two or more blanks)
                body = rf"(?:(?i:{any_case})[ \t]*:|(?-i:{caps})(?!\w)|(?i:{any_case})(?=[^\S ]| \s))"
                name = f"h{k}_{i}"
                groups[name] = category
                alternatives.append((n_words * 1000 + len(phrase), name, body))
        # longest header first, so "findings and impression" wins over "findings"
        alternatives.sort(key=lambda a: -a[0])
        alt = "|".join(f"(?P<{name}>{body})" for _, name, body in alternatives)
        pattern = re.compile(rf"^[^\S\n]*(?:{alt})", re.MULTILINE)
        return cls(tuple(rules["labeled"]), pattern, groups)

    def sections(self, text: str) -> list[tuple[str, int, int]]:
        """(category, body start, body end) for every section; header text itself excluded."""
        out: list[tuple[str, int, int]] = []
        category, start = "unknown", 0
        for m in self.pattern.finditer(text):
            out.append((category, start, m.start()))
            category, start = self.groups[m.lastgroup], m.end()
        out.append((category, start, len(text)))
        return [(c, s, e) for c, s, e in out if text[s:e].strip()]

    def labeled_text(self, text: str) -> str:
        """The text of the labeled sections, in order, one section per line."""
        keep = [text[s:e].strip() for c, s, e in self.sections(text) if c in self.labeled]
        return "\n".join(keep)


@lru_cache(maxsize=8)
def _compiled(key: str) -> SectionScope:
    import json

    return SectionScope.from_rules(json.loads(key))


def scope_for(rules: dict) -> SectionScope:
    import json

    return _compiled(json.dumps(rules, sort_keys=True))


def default_section_rules() -> dict:
    """The shipped section rules (``rules/sections.yml``) as a plain mapping."""
    from ..section_rules import load_section_rules

    return load_section_rules()


def reader(input_scope: str, section_rules: dict | None) -> SectionScope | None:
    """The compiled scope for a model's settings (None: the model reads whole reports)."""
    if input_scope not in SCOPES:
        raise ValueError(f"unknown input scope {input_scope!r}")
    if input_scope == "all":
        return None
    return scope_for(section_rules if section_rules is not None else default_section_rules())


def model_inputs(texts: Sequence[str], input_scope: str, section_rules: dict | None) -> list[str]:
    """The text the model reads for each report (see the module docstring)."""
    scope = reader(input_scope, section_rules)
    return list(texts) if scope is None else [scope.labeled_text(t) for t in texts]
