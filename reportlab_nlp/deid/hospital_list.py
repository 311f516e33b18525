"""Facility names from the CMS Hospital General Information list (``rules/deid/hospitals_cms.txt``).

Two signals, both case-insensitive (issue 11):

* **exact name**: a whole list name of two or more words ("yukon kuskokwim delta reg hospital"),
  matched after normalising "saint"/"st.", "mount"/"mt.", "ctr"/"center", "med"/"medical" and
  apostrophes; only names with a distinctive word (one that is no generic facility word, ordinary
  English or clinical vocabulary) count, so "memorial hospital" alone is no match.
* **head word**: a distinctive word of a list name followed by facility words ("crestwood
  hospital", "Piedmont Med Ctr"), or after a transfer cue ("transferred from crestwood").

The list is derived by ``scripts/derive_hospital_list.py``; its source and licence (US public
domain) are in ``rules/deid/SOURCES.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..resources import data_path
from .lexicon import Lexicon, WordMemo
from .word_lists import DetectorWords

TOKEN = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
ALIASES = {
    "saint": "st",
    "mount": "mt",
    "centre": "center",
    "ctr": "center",
    "cntr": "center",
    "med": "medical",
    "hosp": "hospital",
    "regl": "regional",
    "reg": "regional",
}
MAX_WORDS = 8
#: characters around a distinctive word that are scanned (more than MAX_WORDS words of a name)
WINDOW = 160
#: words that start a facility name before a distinctive word ("st. joseph's", "san francisco")
LEADING = frozenset({"st", "mt", "san", "santa", "los", "las", "fort", "ft", "new", "beth"})


def norm_token(tok: str) -> str:
    if "'" not in tok and "’" not in tok:
        return ALIASES.get(tok, tok)
    t = tok.replace("’", "'")
    if t.endswith("'s"):
        t = t[:-2] + "s"
    t = t.replace("'", "")
    return ALIASES.get(t, t)


@dataclass(frozen=True)
class HospitalNames:
    by_first: dict[str, tuple[tuple[str, ...], ...]]  # first token -> names (longest first)
    heads: frozenset[str]  # distinctive words of the names


_CACHE: dict[tuple[int, int], HospitalNames] = {}


def load_hospital_names(lex: Lexicon, words: DetectorWords) -> HospitalNames:
    """The shipped list, compiled once per (lexicon, word lists)."""
    key = (id(lex), id(words))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _compile(lex, words)
    return _CACHE[key]


def _compile(lex: Lexicon, words: DetectorWords) -> HospitalNames:
    generic = {norm_token(w) for w in words.facility_generic_words}

    def distinctive(t: str) -> bool:
        return (
            len(t) >= 4
            and not t.isdigit()
            and t not in generic
            and t not in lex.ordinary
            and t not in lex.clinical
            and t not in lex.stop
            and t not in lex.allow
        )

    by_first: dict[str, set[tuple[str, ...]]] = {}
    heads: set[str] = set()
    path = data_path("rules", "deid", "hospitals_cms.txt")
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        toks = tuple(norm_token(t) for t in TOKEN.findall(line))
        if not toks:
            continue
        dist = [t for t in toks if distinctive(t)]
        heads.update(dist)
        if len(toks) >= 2 and dist and len(toks) <= MAX_WORDS:
            by_first.setdefault(toks[0], set()).add(toks)
    return HospitalNames(
        by_first={k: tuple(sorted(v, key=len, reverse=True)) for k, v in by_first.items()},
        heads=frozenset(heads),
    )


class HospitalRules:
    """Spans of facility names that the CMS list knows."""

    def __init__(self, lex: Lexicon, words: DetectorWords):
        self.names = load_hospital_names(lex, words)
        self.places = lex.places
        self.after = frozenset(norm_token(w) for w in words.facility_words_after)
        cues = sorted({c.lower() for c in words.facility_head_cues}, key=len, reverse=True)
        self.re_cue_before = re.compile(
            r"(?<![\w/])(?:" + "|".join(re.escape(c) for c in cues) + r")[ \t]+(?:the[ \t]+)?$"
        )
        # every listed name holds a distinctive word: a text without one needs no further look.
        # The pre-check sees the detector's [a-z]+ words ("lukes" is "luke" + "s" there).
        keys = {p for h in self.names.heads for p in re.findall(r"[a-z]+", h)}
        keys |= {k[:-1] for k in keys if k.endswith("s")}
        self._keys = frozenset(keys)
        # the tokens at which _span_at can find a span: a listed name's first token or a distinctive word
        self._starts = frozenset(self.names.by_first) | self.names.heads
        # every span holds a token that normalises to a distinctive word; in a text without an apostrophe
        # that token is the word itself (no alias is distinctive), so all its [a-z]+ parts are words of the
        # text: by its longest part, the parts of each distinctive word (None: the check does not hold)
        self._head_parts: dict[str, list[frozenset[str]]] | None = {}
        for h in self.names.heads:
            parts = re.findall(r"[a-z]+", h)
            if not parts or h in ALIASES.values():
                self._head_parts = None
                break
            self._head_parts.setdefault(max(parts, key=len), []).append(frozenset(parts))
        self._head_part_keys = frozenset(self._head_parts or ())
        self._norm = WordMemo(norm_token)  # token -> norm_token(token)

    def spans(self, low: str, words: frozenset[str]) -> Iterator[tuple[int, int, str]]:
        """``(start, end, rule)`` on the lower-cased text; ``words`` its [a-z]+ words (a pre-check)."""
        present = words & self._keys
        if not present or not self._head_possible(low, words):
            return
        norm = self._norm
        for wb, we in self._windows(low, present):
            toks = [(m.start(), m.end(), norm[m.group()]) for m in TOKEN.finditer(low, wb, we)]
            yield from self._scan(low, toks)

    def _head_possible(self, low: str, words: frozenset[str]) -> bool:
        """False when no token of the text can be a distinctive word (then no span is found)."""
        by_part = self._head_parts
        if by_part is None or "'" in low or "’" in low:
            return True
        return any(parts <= words for p in words & self._head_part_keys for parts in by_part[p])

    @staticmethod
    def _windows(low: str, present: frozenset[str]) -> list[tuple[int, int]]:
        """Stretches of the text around the distinctive words present (a listed name spans at most
        MAX_WORDS words before and after its distinctive word), merged, cut at blanks."""
        n = len(low)
        found = []
        for w in present:
            i = low.find(w)
            while i >= 0:
                found.append((max(0, i - WINDOW), min(n, i + len(w) + WINDOW)))
                i = low.find(w, i + len(w))
        found.sort()
        merged: list[tuple[int, int]] = []
        for b, e in found:
            while b > 0 and not low[b - 1].isspace():
                b -= 1
            while e < n and not low[e].isspace():
                e += 1
            if merged and b <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((b, e))
        return merged

    def _scan(self, low: str, toks: list[tuple[int, int, str]]) -> Iterator[tuple[int, int, str]]:
        # only a token that starts a listed name or is a distinctive word can start a span: the others
        # are passed over without a look (most of a window)
        starts = self._starts
        done = 0  # the tokens before ``done`` belong to a span found
        for i in [k for k, tok in enumerate(toks) if tok[2] in starts]:
            if i < done:
                continue
            found = self._span_at(low, toks, i)
            if found is not None:
                yield found[0]
                done = found[1]

    def _span_at(
        self, low: str, toks: list[tuple[int, int, str]], i: int
    ) -> tuple[tuple[int, int, str], int] | None:
        """The span that starts at (or, for a head word, around) token ``i`` and the index of the
        token after it, or None."""
        n = len(toks)
        by_first, heads = self.names.by_first, self.names.heads
        t = toks[i][2]
        for name in by_first.get(t, ()):
            k = len(name)
            if (
                i + k <= n
                and all(toks[i + j][2] == name[j] for j in range(1, k))
                and self._joined(low, toks, i, i + k)
            ):
                return (toks[i][0], toks[i + k - 1][1], "hospital_list_name"), i + k
        if t in heads:
            lo = i  # distinctive words before it join it ("johns hopkins")
            while (
                lo > 0
                and (toks[lo - 1][2] in heads or toks[lo - 1][2] in LEADING)
                and self._joined(low, toks, lo - 1, i + 1)
            ):
                lo -= 1
            j = i + 1
            while (
                j < n
                and j - i <= 4
                and (toks[j][2] in self.after or toks[j][2] in heads)
                and self._joined(low, toks, j - 1, j + 1)
            ):
                j += 1
            while j > i + 1 and toks[j - 1][2] not in self.after and toks[j - 1][2] not in heads:
                j -= 1
            if any(toks[k][2] in self.after for k in range(i + 1, j)):
                return (toks[lo][0], toks[j - 1][1], "hospital_list_head"), j
            if (
                not (j == lo + 1 and t in self.places)  # a town alone is the place rules' call
                and self.re_cue_before.search(low, max(0, toks[lo][0] - 24), toks[lo][0])
            ):
                return (toks[lo][0], toks[j - 1][1], "hospital_list_cued"), j
        return None

    @staticmethod
    def _joined(low: str, toks, a: int, b: int) -> bool:
        """The tokens a..b-1 stand on one line, separated only by spaces and light punctuation."""
        for j in range(a, b - 1):
            gap = low[toks[j][1] : toks[j + 1][0]]
            if len(gap) > 3 or "\n" in gap or any(c not in " \t.-'&/" for c in gap):
                return False
        return True
