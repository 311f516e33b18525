"""One scan per text of its lower-case words and where they start, shared by the cue-led rules.

A cue-led pattern (``(?<![\\w/])(?:wife|spoke with|...)...`` run on the lower-cased text) can only
match where one of its cues starts. When every cue opens with a letter, the pattern's left edge
refuses a letter before the match, and the cue's first word is followed by a non-letter (a blank or
punctuation inside the cue, or the pattern's own right edge), that first word is a whole ``[a-z]+``
word of the text at the match's start. The detector's one word scan (:class:`WordIndex`) then says
where each such pattern can match (:func:`cue_matches`): the pattern is tried there only with
``pattern.match`` (look-behinds still see the text before), as ``finditer`` would, instead of its own
whole-text scan; a text without any of its first words costs a set intersection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_LOW_WORD = re.compile(r"[a-z]+")


class WordIndex(frozenset[str]):
    """The ``[a-z]+`` words of a lower-cased text (a frozenset, the rules' cheap pre-check) and, in
    ``pos``, the ascending start offsets of each."""

    pos: dict[str, list[int]]

    def __new__(cls, low: str) -> WordIndex:
        pos: dict[str, list[int]] = {}
        for m in _LOW_WORD.finditer(low):
            w = m.group()
            at = pos.get(w)
            if at is None:
                pos[w] = [m.start()]
            else:
                at.append(m.start())
        return _with_pos(pos)

    def __reduce__(self) -> tuple[object, tuple[dict[str, list[int]]]]:
        return _with_pos, (self.pos,)  # (a detector clears its index after each text: none is pickled)


def _with_pos(pos: dict[str, list[int]]) -> WordIndex:
    """The WordIndex whose word offsets are ``pos``."""
    self = frozenset.__new__(WordIndex, pos)
    self.pos = pos
    return self


def lead_firsts(cues: Iterable[str]) -> frozenset[str] | None:
    """The first ``[a-z]+`` word of each lower-case cue, or None when a cue does not open with a letter
    (its pattern then needs a whole-text scan)."""
    firsts = set()
    for c in cues:
        m = _LOW_WORD.match(c.lower())
        if m is None:
            return None
        firsts.add(m.group())
    return frozenset(firsts)


def cue_starts(low: str, words: frozenset[str], firsts: frozenset[str]) -> list[int]:
    """Ascending offsets in ``low`` where a word of ``firsts`` stands as a whole ``[a-z]+`` word."""
    present = words & firsts
    if not present:
        return []
    pos = words.pos if isinstance(words, WordIndex) else WordIndex(low).pos
    if len(present) == 1:
        return pos[next(iter(present))]
    return sorted(p for w in present for p in pos[w])


def matches_at(rx: re.Pattern[str], text: str, starts: list[int]) -> Iterator[re.Match[str]]:
    """``rx.finditer(text)`` for a pattern whose every match starts at one of ``starts`` (ascending):
    ``rx`` is tried at those positions only and, as finditer does, none before the last match's end."""
    end = 0
    match = rx.match
    for p in starts:
        if p >= end:
            m = match(text, p)
            if m is not None:
                end = m.end()
                yield m


def cue_matches(
    rx: re.Pattern[str],
    low: str,
    words: frozenset[str],
    firsts: frozenset[str] | None,
    text: str | None = None,
) -> Iterator[re.Match[str]]:
    """The matches of the cue-led pattern ``rx`` on ``low`` (those of ``rx.finditer(low)``), tried at the
    whole words of ``firsts`` only (``lead_firsts`` of its cues; None: a whole-text scan). With ``text``
    (``low`` before lower-casing, same offsets) ``rx`` runs on ``text``: a pattern whose every match
    lower-cased opens with a word of ``firsts``."""
    s = low if text is None else text
    if firsts is None:
        return rx.finditer(s)
    return matches_at(rx, s, cue_starts(low, words, firsts))
