"""Regex forms that ``re`` scans fast, with the same matches as the plain forms (a speed aid only).

``re`` looks at a pattern's first element: when it is a literal, a character class or a choice of
literals, a search jumps from one such character to the next; when it is a look-behind or ``\\b``, it
tries a full match at every position of the text, which is two to three times slower on report text.
A left-edge check can be moved past the first character of the match, where it sees the character
before the match and that first character: ``(?<![\\w/])(?:nurse|wife)`` is the same pattern as
``(?:n(?<![\\w/].)urse|w(?<![\\w/].)ife)``.

It pays only where the first characters are rare in the text (capitals, digits, a few letters): a list
of lower-case cues run on the lower-cased text is faster with the look-behind first, which fails at
once inside every word (measured on the synthetic benchmark: about twice as slow in the fast form).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PLAIN_FIRST = re.compile(r"[^\W_]")  # a letter or digit: a literal in any regex
_QUANTIFIER_NEXT = ("?", "*", "+", "{")


def edge_first(alternative: str, before: str) -> str:
    """The regex ``(?<!before)alternative`` with the look-behind after the alternative's first character
    when that is a plain letter or digit, else unchanged. ``before`` is one character class; ``\\w``
    stands for ``\\b`` here (a word boundary before a letter or digit is ``(?<!\\w)``), and an
    alternative that opens with another character keeps a plain ``\\b`` then."""
    if _PLAIN_FIRST.fullmatch(alternative[:1]) and alternative[1:2] not in _QUANTIFIER_NEXT:
        return alternative[0] + "(?<!" + before + ".)" + alternative[1:]
    return (r"\b" if before == r"\w" else "(?<!" + before + ")") + alternative


def edge_alt(alternatives: Iterable[str], before: str) -> str:
    """``(?<!before)(?:a|b|...)`` in the fast form of :func:`edge_first` (order kept)."""
    return "(?:" + "|".join(edge_first(a, before) for a in alternatives) + ")"


def literal_alt(words: Iterable[str], before: str) -> str:
    """``(?<!before)`` and a choice of the literal ``words``, longest first, in the fast form."""
    items = sorted(set(words), key=len, reverse=True)
    return edge_alt((re.escape(w) for w in items), before)
