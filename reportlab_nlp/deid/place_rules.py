"""Place and facility signals that hold in lower case and without a shipped hospital list (issue 11).

* **place cue**: after a place cue ("at", "from", "lives in", "transferred to") a run of capitalised
  words with at least one word that is no ordinary English is a place ("at Cedars-Sinai"); a
  known place (cities over 15,000, US counties, countries) is one in any case ("to worcester").
* **place lexicon**: a known place written with capitals that is no ordinary word ("Chicago").
* **saint / mount**: "St. Mary's", "Mt. Sinai", "saint luke's" -- any case.
* **facility abbreviation**: an all-capitals word of 2-6 letters after a transfer cue
  ("transferred from GH", "at BIDMC"), unless it is a clinical abbreviation.
* **facility suffix**: capitalised words or an abbreviation before "General", "Memorial",
  "Medical Center"... ("Mercy General", "UCLA Med Center"), and lower-case ones before
  "hospital" ("st. mary's hospital").

No list of hospitals ships: no package on the reachable registries carries the CMS Hospital
General Information list, so facilities are found by these patterns.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from ..resources import data_path
from .lexicon import Lexicon, WordMemo
from .word_index import WordIndex, cue_matches, lead_firsts

TOKEN = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*(?:['’]s)?")
_SAINT_WORDS = ("st", "saint", "mt", "mount", "ste")
SAINT = re.compile(
    r"(?=(?i:[sm]))(?<![\w.])(?i:" + "|".join(_SAINT_WORDS) + r")(?:\.[ \t]*|[ \t]+)"
    r"(?P<n>[A-Za-z][a-z]+(?:['’]s)?)(?![\w'’])"
)
# tried where one of the words stands (word_index) in an ASCII text ('ſ' and 'K' fold to "s" and "k")
_SAINT_AT = frozenset(_SAINT_WORDS)
_W = r"[^\W\d_][\w'’.-]*"
# "28245 Puruntie 82", "450 Præstevænget 15": a number, one to three words, a number
ADDRESS_LINE = re.compile(
    r"(?P<n1>\d(?<![\w.,/:-].)\d{0,5}[A-Za-z]?)[ \t]+(?P<words>(?:" + _W + r"[ \t]+){0,3}" + _W + r")[ \t]+"
    r"(?P<n2>\d{1,5}[A-Za-z]?)\.?(?![\w/%]|[.,:]\d)"
)
# a street in lower case: "220 w. 4th ave", "14 elm st"
STREET_ANY_CASE = re.compile(
    r"\d(?<![\w.,/-].)\d{0,4}[a-z]?[ \t]+(?:(?:n|s|e|w|north|south|east|west)\.?[ \t]+)?"
    r"(?:(?:\d{1,3}(?:st|nd|rd|th)|[a-z][a-z'’-]+)[ \t]+){1,3}"
    r"(?:st|street|ave|avenue|av|rd|road|blvd|boulevard|dr|drive|ln|lane|ct|court|way|pl|place|ter|terrace|"
    r"pkwy|parkway|hwy|highway|cir|circle|sq|square)\b\.?",
    re.I,
)
# a clock time as the house number ("0200 by Dr."), and "Dr." before a capitalised name: a title
_CLOCK_NUMBER = re.compile(r"(?:[01]\d|2[0-3])[0-5]\d\b")
_TITLE_AFTER_DR = re.compile(r"(?i:dr)\.?[ \t]+[A-Z]")
UNIT = re.compile(
    r"(?=[abfps])(?<![\w-])(?:apt|apartment|suite|ste|flat|psc|p\.?o\.?[ \t]*box|box)\.?[ \t]*#?[ \t]*"
    r"\d{1,6}[A-Za-z]?(?![\w-])",
    re.I,
)
BLOCK_LINE = re.compile(r"[ \t>]*(?P<v>(?:" + _W + r"[ \t,]+){0,3}" + _W + r"(?:[ \t]+\d{3,6})?)[ \t]*$")
UNITS = frozenset(
    "mg mcg ml cc l kg g mm cm units unit u tabs tab tablets caps puffs drops gtts hours hrs hr "
    "min mins minutes days weeks mmhg bpm x times doses meq mmol mEq".lower().split()
)
CAP_RUN = re.compile(
    r"[A-Z](?<![\w'’-].)[^\W\d_]+(?:['’.-][^\W\d_]+)*"
    r"(?:[ \t]+[A-Z][^\W\d_]+(?:['’.-][^\W\d_]+)*){0,3}"
)
WORD_ONLY = re.compile(r"\S+")
#: facility words that make a hospital name of any capitalised word before them after a transfer cue
STRONG_SUFFIXES = frozenset({"General", "Memorial"})
ABBR = r"(?P<a>[A-Z][A-Z&]{1,5}(?:-[A-Z]{1,4})?)(?![\w&])"
# patterns used inside the rules, compiled once (a ``re.match(str, ...)`` call looks its pattern up in
# re's cache each time)
_ABBR = re.compile(ABBR)
_BLOCK_SEP = re.compile(r"[ \t,]+")
_POSSESSIVE_END = re.compile(r"['’]s$")
_FACILITY_NEXT = re.compile(r"[ \t]+(?:hospital|medical|clinic|health)", re.I)
_BLANKS = re.compile(r"[ \t]+")
_ASCII_WORD = re.compile(r"[A-Za-z]+")


@functools.cache
def _hospital_towns() -> frozenset[str]:
    """Towns of the CMS hospital list (``rules/deid/hospital_towns_cms.txt``, US public domain)."""
    path = data_path("rules", "deid", "hospital_towns_cms.txt")
    lines = (ln.split("#", 1)[0].strip().lower() for ln in path.read_text(encoding="utf-8").splitlines())
    return frozenset(ln for ln in lines if len(ln) >= 3)


def _alt(words, flags="") -> str:
    items = sorted(set(words), key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w) for w in items) + ")"


_DOTTED_LETTERS = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]\.?")


class PlaceRules:
    def __init__(self, lex: Lexicon):
        self.lex = lex
        pat = lex.patterns
        self.states = frozenset(x.lower() for x in lex.states)
        # towns with a hospital (CMS list): after a place cue only, many are small and not in GeoNames
        self.towns = _hospital_towns() - lex.allow - lex.stop - lex.clinical
        self.place_first_words = frozenset(p.split()[0] for p in lex.places if p.split())
        # a run of capitalised words -> whether one of its words starts a known place (runs recur)
        self._run_starts_place = WordMemo(self._starts_place)  # (a method, not a lambda: pickles)
        self.clinical_abbr = frozenset(a.upper() for a in pat.get("clinical_abbreviations", ()))
        cues = [c.lower() for c in pat.get("place_cues_any_case", ())]
        self.re_place_cue = re.compile(r"(?<![\w/])" + _alt(cues) + r"[ \t]+(?:the[ \t]+)?")
        abbr_cues = [c.lower() for c in pat.get("facility_abbreviation_cues", ())]
        self.re_abbr_cue = re.compile(r"(?<![\w/])" + _alt(abbr_cues) + r"[ \t]+(?:the[ \t]+)?")
        self.re_cue_before = re.compile(r"(?<![\w/])" + _alt(abbr_cues) + r"[ \t]+(?:the[ \t]+)?$")
        # each cue opens with its first word: the two cue scans are tried where one stands (word_index)
        self._place_cue_at = lead_firsts(cues)
        self._abbr_cue_at = lead_firsts(abbr_cues)
        suf = list(pat.get("facility_suffixes_extra", ())) + list(pat.get("facility_suffixes", ()))
        # cheap pre-checks: a text without any of these words cannot hold the pattern
        self.suffix_words = frozenset(re.findall(r"[A-Za-z]+", " ".join(suf)))
        self.lower_facility_words = frozenset(
            {"hospital", "medical", "med", "clinic", "infirmary", "rehab", "nursing", "health"}
        )
        # the suffix is found first, the words before it in a short window (fast on long texts)
        self.re_suffix = re.compile(r"(?<=[ \t])(?P<suf>" + _alt(suf) + r")(?![\w])")
        # a suffix follows a blank and its first word ends before a blank, a "." or an apostrophe: it is
        # tried where that word stands in the lower-cased text (word_index)
        self._suffix_at = lead_firsts(suf)
        self.re_head_cap = re.compile(r"(?<![\w'’&.-])(?P<head>(?:(?:St\.|Mt\.|[A-Z][\w'’&-]*)[ \t]+){1,4})$")
        self.re_lower_hospital = re.compile(
            r"(?<=[ \t])(?P<suf>hospital|medical center|med center|clinic|infirmary|rehab|nursing home|"
            r"health center)\b"
        )
        self.re_head_lower = re.compile(r"(?<![\w'’.-])(?P<head>(?:[a-z][a-z'’.-]+[ \t]+){1,3})$")

    def _starts_place(self, run: str) -> bool:
        """A word of the run (blank-separated, lower case) starts a known place."""
        return not self.place_first_words.isdisjoint(run.lower().split())

    def _plain(self, w: str) -> str:
        if w.endswith(("'s", "’s")):
            w = w[:-2]
        return w.lower().rstrip(".")

    def _vocab(self, w: str) -> bool:
        """An ordinary dictionary word, a stop word or a clinical word ("Chicago" is none: no
        lower-case dictionary entry, however frequent the word is)."""
        lw = self._plain(w)
        lex = self.lex
        return (
            (lw in lex.ordinary and lw in lex.english)
            or lw in lex.stop
            or lw in lex.allow
            or lw in lex.clinical
        )

    def _common(self, w: str) -> bool:
        """After a place cue a known place is one unless it is an everyday or clinical word."""
        lw = self._plain(w)
        lex = self.lex
        return lw in lex.frequent or lw in lex.stop or lw in lex.allow or lw in lex.clinical

    def _capital_place(self, w: str) -> bool:
        """A capitalised (not all-capitals) known place after a place cue is one even when the
        lower-case word is frequent ("from Boston"; wordfreq counts the city too), unless it is
        clinical, a stop word or allow-listed."""
        if not w[:1].isupper() or w.isupper():
            return False
        lw = self._plain(w)
        lex = self.lex
        return not (lw in lex.stop or lw in lex.allow or lw in lex.clinical)

    def spans(
        self, text: str, low: str, words: frozenset[str] | None = None
    ) -> Iterator[tuple[int, int, str, str, int]]:
        """``(start, end, category, rule, priority)``; ``words``: the [a-z]+ words of ``low`` (the
        detector's WordIndex; found here when not given)."""
        if words is None:
            words = WordIndex(low)
        yield from self._saints(text, low, words)
        yield from self._cued(text, low, words)
        yield from self._abbreviations(text, low, words)
        yield from self._suffixes(text, low, words)
        yield from self._known_places(text)
        yield from self._addresses(text)

    def _addresses(self, text):
        ends = []
        for m in ADDRESS_LINE.finditer(text):
            words = m.group("words").split()
            if any(
                self._plain(w) in UNITS
                or self._plain(w) in self.lex.clinical
                or self._plain(w) in self.lex.allow
                for w in words
            ):
                continue
            if not any(w[0].isupper() and not self._vocab(w) for w in words) and not any(
                w[0].isupper() for w in words[-1:]
            ):
                continue
            yield m.start(), m.end(), "ADDRESS", "address_line", 69
            ends.append(m.end())
        for m in STREET_ANY_CASE.finditer(text):
            words = m.group().split()[1:-1]
            if any(self._plain(w) in UNITS or self._plain(w) in self.lex.clinical for w in words):
                continue
            if any(self._plain(w) in self.lex.stop for w in words) and (
                _CLOCK_NUMBER.match(m.group()) or _TITLE_AFTER_DR.match(text, m.end() - 3)
            ):
                continue  # "2300 by Dr. Chowdhury": a time, a preposition and a title, no street
            yield m.start(), m.end(), "ADDRESS", "street_any_case", 68
            ends.append(m.end())
        for m in UNIT.finditer(text):
            yield m.start(), m.end(), "ADDRESS", "address_unit", 67
            ends.append(m.end())
        # the lines of a postal address block after a street line: town, region, country and code
        for end in ends:
            nl = text.find("\n", end)
            if nl < 0 or (text[end:nl].strip(" \t,.") and not UNIT.fullmatch(text[end:nl].strip(" \t,."))):
                continue
            pos = nl + 1
            for _ in range(4):
                stop = text.find("\n", pos)
                stop = len(text) if stop < 0 else stop
                line = text[pos:stop]
                bm = BLOCK_LINE.fullmatch(line)
                if not bm or not line.strip():
                    break
                words = [w for w in _BLOCK_SEP.split(bm.group("v")) if w and not w.isdigit()]
                if (
                    not words
                    or any(
                        self._plain(w) in self.lex.clinical or self._plain(w) in self.lex.allow for w in words
                    )
                    or not all(w[0].isupper() for w in words)
                ):
                    break
                yield pos + bm.start("v"), pos + bm.end("v"), "CITY", "address_block", 60
                pos = stop + 1
                if pos >= len(text):
                    break

    def _saints(self, text, low, words):
        found = cue_matches(SAINT, low, words, _SAINT_AT, text) if text.isascii() else SAINT.finditer(text)
        for m in found:
            n = m.group("n")
            if (
                n[0].islower()
                and not _POSSESSIVE_END.search(n)
                and not _FACILITY_NEXT.match(text[m.end() : m.end() + 12])
                and not self.re_cue_before.search(text[max(0, m.start() - 24) : m.start()].lower())
            ):
                continue
            if self._plain(n) in self.lex.clinical or self._plain(n) in self.lex.stop:
                continue
            yield m.start(), m.end(), "FACILITY", "saint", 64

    def _cued(self, text, low, words):
        lex = self.lex
        for m in cue_matches(self.re_place_cue, low, words, self._place_cue_at):
            pos = m.end()
            toks = []
            while len(toks) < 4:
                tm = TOKEN.match(text, pos)
                if not tm:
                    break
                toks.append(tm)
                g = _BLANKS.match(text[tm.end() : tm.end() + 3])
                if not g:
                    break
                pos = tm.end() + g.end()
            if not toks:
                continue
            # a known place in any case: longest run of words that the place lexicon has
            words = [t.group() for t in toks]
            for k in range(min(len(words), lex.place_max_words), 0, -1):
                cand = " ".join(words[:k]).lower()
                if cand in self.states:
                    yield toks[0].start(), toks[k - 1].end(), "STATE", "place_cue_state", 58
                    break
                town_only = cand in self.towns and cand not in lex.places
                if (
                    town_only
                    and k == 1
                    and not words[0][:1].isupper()
                    and (cand in lex.english or cand in lex.ordinary)
                ):
                    continue  # a small town that is a dictionary word needs its capital ("from Liberty")
                if (cand in lex.places or town_only) and not (
                    k == 1 and self._common(words[0]) and not self._capital_place(words[0])
                ):
                    yield toks[0].start(), toks[k - 1].end(), "CITY", "place_cue_known", 57
                    break
            else:
                caps = []
                for t in toks:
                    w = t.group()
                    if (
                        not w[0].isupper()
                        or self._plain(w) in lex.stop
                        or self._plain(w) in lex.allow
                        or (w.isupper() and w in self.clinical_abbr)
                        or _DOTTED_LETTERS.fullmatch(w)  # "to O.R.", "via I.V.": abbreviations
                    ):
                        break
                    caps.append(t)
                if (
                    caps
                    and any(not self._vocab(t.group()) for t in caps)
                    and not (len(caps) == 1 and caps[0].group().isupper() and len(caps[0].group()) <= 1)
                ):
                    yield caps[0].start(), caps[-1].end(), "CITY", "place_cue_caps", 52

    def _abbreviations(self, text, low, words):
        for m in cue_matches(self.re_abbr_cue, low, words, self._abbr_cue_at):
            am = _ABBR.match(text, m.end())
            if not am:
                continue
            a = am.group("a")
            if a in self.clinical_abbr or a.lower() in self.lex.allow or a.lower() in self.lex.clinical:
                continue
            yield am.start(), am.end(), "FACILITY", "facility_abbreviation", 63

    def _suffixes(self, text, low, index):
        words = set(_ASCII_WORD.findall(text))
        if words & self.suffix_words:
            yield from self._suffixes_cap(text, low, index)
        if {w.lower() for w in words} & self.lower_facility_words:
            yield from self._suffixes_lower(text)

    def _suffixes_cap(self, text, low, index):
        for sm in cue_matches(self.re_suffix, low, index, self._suffix_at, text):
            w0 = max(0, sm.start() - 80)
            m = self.re_head_cap.search(text, w0, sm.start())
            if not m:
                continue
            words = m.group("head").split()
            head_words = list(words)
            while words and (
                self._plain(words[0]) in self.lex.stop
                or self._plain(words[0]) in self.lex.allow
                or (self._plain(words[0]) in self.lex.clinical and words[0] not in ("St.", "Mt."))
            ):
                words.pop(0)
            cued = False
            if not words or (len(words) == 1 and words[0].isupper() and words[0] in self.clinical_abbr):
                # after a transfer cue, one capitalised word before "General"/"Memorial" names a hospital
                # even when it is a clinical word or abbreviation ("at Mass General", "to LA General")
                last = head_words[-1] if head_words else ""
                hb = m.start("head") + m.group("head").rfind(last)
                if not (
                    sm.group("suf") in STRONG_SUFFIXES
                    and last
                    and self._plain(last) not in self.lex.stop
                    and self.re_cue_before.search(text[max(0, hb - 24) : hb].lower())
                ):
                    continue
                words, cued = [last], True
            start = m.start("head") + m.group("head").rfind(" ".join(words))
            yield start, sm.end(), "FACILITY", "facility_cued_suffix" if cued else "facility_suffix", 65

    def _suffixes_lower(self, text):
        low = text.lower() if not text.islower() else text
        for sm in self.re_lower_hospital.finditer(low):
            m = self.re_head_lower.search(text, max(0, sm.start() - 50), sm.start())
            if not m:
                continue
            words = m.group("head").split()
            for k in range(len(words) - 1, -1, -1):  # a sentence ended inside the head
                if words[k].endswith(".") and words[k].lower() not in ("st.", "mt.", "ft."):
                    words = words[k + 1 :]
                    break
            while (
                words and self._vocab(words[0]) and words[0].lower().rstrip(".") not in ("st", "mt", "saint")
            ):
                words.pop(0)
            if not words or all(self._vocab(w) for w in words):
                continue
            start = m.start("head") + m.group("head").rfind(" ".join(words))
            yield start, sm.end(), "FACILITY", "facility_lower", 64

    def _known_places(self, text):
        lex = self.lex
        starts_place = self._run_starts_place
        for m in CAP_RUN.finditer(text):
            run = m.group()
            # most runs hold no word that starts a known place: skip them before locating their words
            if not starts_place[run]:
                continue
            toks = [(t.start(), t.end()) for t in WORD_ONLY.finditer(run)]
            base = m.start()
            i = 0
            while i < len(toks):
                x, y = toks[i]
                if text[base + x : base + y].lower() not in self.place_first_words:
                    i += 1
                    continue
                for k in range(min(len(toks) - i, lex.place_max_words), 0, -1):
                    b, e = base + toks[i][0], base + toks[i + k - 1][1]
                    cand = text[b:e]
                    if " " in cand or "\t" in cand:
                        cand = " ".join(cand.split())
                    if (
                        cand.lower() in lex.places
                        and not (k == 1 and self._vocab(cand))
                        and not all(self._vocab(text[base + x : base + y]) for x, y in toks[i : i + k])
                    ):
                        yield b, e, "CITY", "place_known", 50
                        i += k
                        break
                else:
                    i += 1
