"""PHI written the terse way of ICU and nursing notes (issue 11, third round).

Initials as names ("per MK", "d/w LT (resident)", "P.L. aware", "per jd rn"), a first name that is
also an everyday word after a relative ("wife Joy", "daughter rose"), "SURNAME, FIRST" lines, lower-case
hospital abbreviations after a transfer cue ("from mgh"), a capitalised street name without a house
number ("on Main St") and telephone extensions ("x1234"). The word lists are data:
``rules/deid/note_words.yml`` (schema at its top, validated here: RL202).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .lexicon import Lexicon
from .nursing_rules import NursingRules
from .word_index import cue_matches, lead_firsts
from .word_lists import cue_alt, load_word_lists, parse_word_lists

# (start, end, category, rule, priority)
NoteSpan = tuple[int, int, str, str, int]


@dataclass(frozen=True)
class NoteWords:
    """Each field holds the lower-case words of the key of the same name in ``note_words.yml``."""

    initials_cues: frozenset[str]
    initials_roles: frozenset[str]
    not_initials: frozenset[str]
    dotted_not_initials: frozenset[str]
    relative_words: frozenset[str]
    relative_followers_not_name: frozenset[str]
    transfer_cues: frozenset[str]
    transfer_not_facility: frozenset[str]
    street_suffixes_bare: frozenset[str]
    street_cues: frozenset[str]


def parse_note_words(doc: object, where: str) -> NoteWords:
    """Validate a parsed ``note_words.yml`` document; RL202 names ``where`` and the key."""
    return parse_word_lists(doc, where, NoteWords)


def load_note_words(path: str | Path | None = None) -> NoteWords:
    """The shipped word lists, or those of ``path`` (same schema)."""
    return load_word_lists(NoteWords, "note_words.yml", path)


class NoteRules:
    """Spans ``(start, end, category, rule, priority)`` of the terse-note phenomena."""

    def __init__(self, lex: Lexicon, words: NoteWords | None = None):
        self.lex = lex
        self.w = w = words or load_note_words()
        clinical_abbr = {a.lower() for a in lex.patterns.get("clinical_abbreviations", ())}
        self._not_initials = w.not_initials | clinical_abbr
        self._cue_first = frozenset(c.split()[0].split("/")[0] for c in w.initials_cues)
        # on the lower-cased text
        # the cue ends a word ("per MK", "d/w'd LT", "w/MK"), never inside one ("PERRL" is no "per RL")
        self.re_initials_cue = re.compile(
            r"\b" + cue_alt(w.initials_cues) + r"(?:(?<=/)|(?![a-z0-9]))[ \t]*:?[ \t]*"
        )
        # on the text, at the end of a cue
        self.re_caps_initials = re.compile(r"(?P<v>[A-Z]{2,3}|(?:[A-Z]\.){2,3})(?![\w'’-])(?!\.[A-Za-z])")
        self.re_low_initials = re.compile(
            r"(?P<v>[a-z]{2,3})[ \t]*,?[ \t]+(?:" + cue_alt(w.initials_roles) + r")(?![\w-])"
        )
        # dotted initials as the subject of a clause ("P.L. aware", "M.T. to draw")
        # (the clause start before them is checked in Python: a pattern that starts with letters scans fast)
        self.re_dotted_subject = re.compile(r"(?P<v>[A-Z]\.(?:[A-Z]\.){1,2})(?=[ \t]+[a-z])")
        self.re_relative = re.compile(
            r"\b" + cue_alt(w.relative_words) + r"[ \t]*[,:(]?[ \t]*(?P<v>[a-z][a-z'’]*[a-z])(?![\w/'’-])"
        )
        # "SMITH, ANNA" at a line start or before an id / DOB; "Lastname, Firstname" alone on a line
        self.re_surname_caps = re.compile(
            r"(?:^[ \t]*|(?<=[ \t]))(?P<l>[A-Z][A-Z'’-]+)[ \t]*,[ \t]*(?P<f>[A-Z][A-Z'’-]+)"
            r"(?:[ \t]+[A-Z]\.?)?"
            r"(?=[ \t]*(?:$|\d|\(|DOB\b|MRN\b|MR#|#|,))",
            re.M,
        )
        self.re_surname_line = re.compile(
            r"^[ \t]*(?P<l>[A-Z][a-z]+(?:-[A-Z][a-z]+)?)[ \t]*,[ \t]*(?P<f>[A-Z][a-z]+)"
            r"(?:[ \t]+[A-Z]\.?)?[ \t]*$",
            re.M,
        )
        self.re_transfer = re.compile(
            r"\b" + cue_alt(w.transfer_cues) + r"[ \t]+(?P<v>[a-z]{2,5})(?![\w/'’-])"
        )
        self._transfer_first = frozenset(c.split()[0] for c in w.transfer_cues)
        # every cue opens with its first word: both cue scans are tried where one stands (word_index)
        self._initials_at = lead_firsts(w.initials_cues)
        self._transfer_at = lead_firsts(w.transfer_cues)
        suf = "|".join(sorted((s.capitalize() for s in w.street_suffixes_bare), key=len, reverse=True))
        self.re_street_bare = re.compile(
            r"(?i:(?<![\w])"
            + cue_alt(w.street_cues)
            + r")[ \t]+(?P<v>(?:[A-Z][a-z]+[ \t]+){1,2}(?:"
            + suf
            + r")\b\.?)(?![ \t]*[A-Z][a-z])"
        )
        self._street_first = frozenset(c.split()[0] for c in w.street_cues)
        self._street_needles = tuple(" " + x.capitalize() for x in w.street_suffixes_bare)
        # cheap pre-checks of "SURNAME, FIRST": two capitals before a comma; a comma before a last word
        self.re_caps_comma = re.compile(r"[A-Z]{2}[ \t]*,")
        self.re_line_comma = re.compile(r",[ \t]*[A-Z][a-z]+(?:[ \t]+[A-Z]\.?)?[ \t]*$", re.M)
        self.nursing = NursingRules(lex, w.relative_words, w.not_initials)
        self.re_extension = re.compile(
            r"x(?P<v>\d{4,5})(?![\w/]|[.,]\d|[ \t]*(?:mg|mcg|ml|cc|units?|magnification|mag)\b)"
        )

    # -------------------------------------------------------------- helpers
    def _is_initials(self, v: str) -> bool:
        if "." in v:
            return v.lower() not in self.w.dotted_not_initials
        return v.lower() not in self._not_initials and v.lower() not in self.lex.clinical

    # -------------------------------------------------------------- rules
    def spans(self, text: str, low: str, words: frozenset[str]) -> Iterator[NoteSpan]:
        yield from self._initials(text, low, words)
        relatives = list(self._relatives(text, low, words))
        yield from relatives
        yield from self.nursing.spans(text, low, words, [text[r[0] : r[1]] for r in relatives])
        yield from self._surname_first(text)
        yield from self._transfer_abbr(text, low, words)
        yield from self._street_bare(text, words)
        for m in self.re_extension.finditer(low):
            if m.start() == 0 or not (low[m.start() - 1].isalnum() or low[m.start() - 1] in "._"):
                yield m.start("v"), m.end("v"), "PHONE", "extension", 80
        for m in self.re_dotted_subject.finditer(text):
            b = m.start()
            if b and (text[b - 1].isalnum() or text[b - 1] in "._"):
                continue
            before = text[max(0, b - 4) : b].rstrip(" \t")
            if (not before or before[-1] in ".;:!?\n") and self._is_initials(m.group("v")):
                yield m.start("v"), m.end("v"), "NAME", "initials_subject", 60

    def _initials(self, text: str, low: str, words: frozenset[str]) -> Iterator[NoteSpan]:
        if not (words & self._cue_first or "d/w" in low):
            return
        for m in cue_matches(self.re_initials_cue, low, words, self._initials_at):
            if m.start() and low[m.start() - 1] == "/":
                continue
            c = self.re_caps_initials.match(text, m.end())
            if c and self._is_initials(c.group("v")):
                yield c.start("v"), c.end("v"), "NAME", "initials_cued", 61
                continue
            lo = self.re_low_initials.match(low, m.end())
            if lo and text[lo.start("v") : lo.end("v")].islower():
                v = lo.group("v")
                lex = self.lex
                if not (
                    v in self._not_initials
                    or v in self.w.initials_roles
                    or v in lex.english
                    or v in lex.clinical
                    or v in lex.allow
                    or v in lex.stop
                ):
                    yield lo.start("v"), lo.end("v"), "NAME", "initials_role", 61

    def _relatives(self, text: str, low: str, words: frozenset[str]) -> Iterator[NoteSpan]:
        if not words & self.w.relative_words:
            return
        lex = self.lex
        for m in self.re_relative.finditer(low):
            v = m.group("v")
            if (
                v in lex.first_names
                and v not in self.w.relative_followers_not_name
                and v not in lex.stop
                and v not in lex.allow
                and v not in self.w.relative_words
            ):
                yield m.start("v"), m.end("v"), "NAME", "relative_first_name", 59

    def _surname_first(self, text: str) -> Iterator[NoteSpan]:
        if "," not in text:
            return
        lex = self.lex
        for rx, hint in (
            (self.re_surname_caps, self.re_caps_comma),
            (self.re_surname_line, self.re_line_comma),
        ):
            for m in rx.finditer(text) if hint.search(text) else ():
                f, last = m.group("f").lower(), m.group("l").lower()
                if f not in lex.census_first and f not in lex.first_names:
                    continue
                if any(x in lex.clinical or x in lex.allow or x in lex.stop for x in (f, last)):
                    continue
                if last in lex.ordinary and last not in lex.names:
                    continue
                yield m.start("l"), m.end(), "NAME", "surname_first", 63

    def _transfer_abbr(self, text: str, low: str, words: frozenset[str]) -> Iterator[NoteSpan]:
        if not words & self._transfer_first:
            return
        lex = self.lex
        for m in cue_matches(self.re_transfer, low, words, self._transfer_at):
            if m.start() and low[m.start() - 1] == "/":
                continue
            v = m.group("v")
            if not text[m.start("v") : m.end("v")].islower():
                continue  # capitals: place_rules' facility abbreviations
            if (
                v in self.w.transfer_not_facility
                or v in self._not_initials
                or v in lex.english  # "ordinary" (wordfreq) holds abbreviations such as "bmc": not used
                or v in lex.clinical
                or v in lex.allow
                or v in lex.stop
                or v in lex.names
                or (v in lex.places and len(v) > 3)  # "osh" (outside hospital) is also a town
            ):
                continue
            yield m.start("v"), m.end("v"), "FACILITY", "transfer_abbreviation", 58

    def _street_bare(self, text: str, words: frozenset[str]) -> Iterator[NoteSpan]:
        if not words & self._street_first or not any(n in text for n in self._street_needles):
            return
        for m in self.re_street_bare.finditer(text):
            first = m.group("v").split()[0].lower()
            if self.lex.is_blocked(first):
                continue
            yield m.start("v"), m.end("v"), "ADDRESS", "street_bare", 52
