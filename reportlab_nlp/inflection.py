"""English noun inflection: the one inflector of the package.

Both directions use the same rules and the same irregular table (``rules/english/inflection.yml``):

* :meth:`Inflector.plural_forms` -- a word and its plurals, for the last word of a mention
  pattern (``effusion`` -> ``effusions``; ``opacity`` -> ``opacities``; ``apex`` -> ``apexes``,
  ``apices``);
* :meth:`Inflector.singular` -- a token made singular, for the keys of concept linking
  (``opacities`` -> ``opacity``; ``apices`` -> ``apex``; ``atelectasis`` stays).

The suffix rules are deliberately simple: an imperfect rule (``diabetes`` -> ``diabete``) is
harmless where both sides of a comparison go through it, and the irregular table fixes the
words that matter in radiology reports.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from .resources import load_word_lists

INFLECTION_FILE = "english/inflection.yml"


@dataclass(frozen=True)
class Inflector:
    """Suffix rules plus an irregular table (plural -> singular)."""

    irregular: Mapping[str, str]
    keep_endings: tuple[str, ...]
    _plurals: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        plurals: dict[str, list[str]] = {}
        for plural, singular in self.irregular.items():
            plurals.setdefault(singular, []).append(plural)
        object.__setattr__(self, "_plurals", {s: tuple(p) for s, p in plurals.items()})

    def plural_forms(self, word: str) -> list[str]:
        """``word`` (lower-cased) first, then its regular plural and any irregular ones."""
        w = word.lower()
        out = [w]
        if w.isalpha() and len(w) > 2:
            if w.endswith("y") and w[-2] not in "aeiou":
                out.append(w[:-1] + "ies")
            elif w.endswith(("s", "x", "z", "ch", "sh")):
                out.append(w + "es")
            else:
                out.append(w + "s")
        out += [p for p in self._plurals.get(w, ()) if p not in out]
        return out

    def singular(self, token: str) -> str:
        """The singular of a lower-case token (unchanged when it is not a plural)."""
        if token in self.irregular:
            return self.irregular[token]
        if len(token) <= 3 or token.isdigit():
            return token
        if token.endswith("ies") and len(token) > 4:
            return token[:-3] + "y"
        if token.endswith(("sses", "xes", "ches", "shes")):
            return token[:-2]
        if token.endswith("s") and not token.endswith(self.keep_endings):
            return token[:-1]
        return token


@functools.cache
def english() -> Inflector:
    """The shipped English inflector (``rules/english/inflection.yml``, schema-checked: RL202)."""
    doc = load_word_lists(INFLECTION_FILE, ("irregular_plurals", "keep_endings"))
    return Inflector(dict(doc["irregular_plurals"]), tuple(doc["keep_endings"]))
