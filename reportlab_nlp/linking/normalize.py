"""String normalisation shared by the KB side and the mention side of linking.

Every alias and every mention goes through the same functions, so a spelling rule that is
imperfect (``diabetes`` -> ``diabete``) still matches itself. Keys, from strict to loose:

* ``norm``: lower case, punctuation to spaces, whitespace collapsed;
* ``singular``: ``norm`` with each token singularised (plurals match singulars; the package's
  one English inflector, :mod:`reportlab_nlp.inflection`);
* ``bag``: the sorted set of singular tokens without function words (``stopwords`` of
  ``rules/linking/words.yml``; word-order variants:
  "fracture of the rib" ~ "rib fracture", "effusion, pleural" ~ "pleural effusion").
"""

from __future__ import annotations

import re

from ..inflection import english
from ..resources import load_word_lists

# the word lists of linking (stopwords, modifiers, generic heads): data, with a schema
LINKING_WORDS = "linking/words.yml"

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
STOPWORDS: frozenset[str] = frozenset(load_word_lists(LINKING_WORDS, ("stopwords",))["stopwords"])


def norm(text: str) -> str:
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def singular_token(tok: str) -> str:
    return english().singular(tok)


def singular(normed: str) -> str:
    return " ".join(singular_token(t) for t in normed.split())


def bag(normed: str, drop: frozenset[str] = frozenset()) -> str:
    toks = {singular_token(t) for t in normed.split() if t not in STOPWORDS}
    toks = {t for t in toks if t not in drop}
    return " ".join(sorted(toks))
