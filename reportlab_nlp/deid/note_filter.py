"""False positives of nursing notes, removed from the detector's candidates before they are resolved.

A separate step, so that each suppression is one documented class (issue 11, nursing notes):

* **shift times**: a range of two valid clock times ("1900-0700", "0700-1900") is a TIME (off by
  default: no Safe Harbor identifier), never a PHONE;
* **ventilator settings**: an m/d number after a ventilator cue ("PSV 8/5", "pressure support 10/5")
  is a setting, no DATE;
* **clinical words taken by a weak name signal**: a name found only by the lexicon, by position, by a
  verb or role cue or before a credential ("amber", "Dtr", "Endo", "per ORTHO", "Wound RN") whose every
  word is a nursing word (``nursing_vocabulary``, relative words), an eponym used alone ("Kussmaul",
  "Parkland"), a lower-case dictionary word that only the name lists know ("bolus", "pleasant", "gauze":
  they pass the lexicon because wordfreq counts them below the first-name bar), an eponymous scale
  before a small number ("Braden 12", "Hunt-Hess 3"), a letter joined to "&" or "/" ("S&S", "T/F"), or
  a weekday abbreviation next to a date or another weekday ("admitted Sun 7/21", "Sat and Sun");
* **clinical abbreviations taken as places**: an upper-case facility or town candidate after "to" /
  "from" that is a nursing abbreviation ("OSH", "BUE", "LIWS", "APAP", "L&D", "DKA"), or, in a text
  written in capitals, an ordinary word ("TAKE");
* **"via" as a street**: "80 via epicardial", "2315 via ambulance", "4 via Swan-Ganz" are no foreign
  street address: a street named "via" needs a capitalised name that is no vocabulary word.
* **round 2** (half B of the nursing notes): "90s" after a vital sign is a reading, no age ("sats in the
  mid 90s"; "in her 90s" stays); a year after "by"/"at"/"@" in a note that writes clock times is a time
  ("void by 2000" beside "@1400"); "2/2" before a word is "secondary to" ("2/2 hypotension"); a town
  before its device word ("Miami J collar"); a lower-case facility head of nursing words ("cont plan for
  rehab", "cf clinic"); a time of day after a preposition ("at dawn").
* **round 3** (half C1): unit and role words before a credential ("MICU RN note", "Endocrine NP"), drug
  and device short forms ("fent", "mero", "BiPAP", "FiO2", "bair hugger"), "Glasgow coma scale", a side
  and a vessel as a town ("R MCA"), a decimal after "from" as a year ("(from 94.1)"), a course day as a
  date ("day 5/7"), an address line made of a scale or nursing words ("HD 5 today. Hunt-Hess 3").
* **round 4** (half C2): a scale and its grade ("ASIA A"), clinical short forms taken as a name or a
  town ("brady", "NSGY", "TEE", "AKI"), a brand before its device word and the device word itself
  ("Aspen collar", "narcan kit"), everyday words with a nursing word ("Work comp"), a staff word alone
  ("pastor"), a 0-10 score ("pain 2-3/10"), an address line with a vital sign ("2L NC sats 89"), a year
  and a preposition before "St." of a saint ("2018 at st. vincent's"), a facility of descriptive and
  clinical words only ("Outside Hospital", "Heart Failure Clinic").

Strong signals (titles, header fields, relatives, structured identifiers) are never filtered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol, TypeVar

from .lexicon import Lexicon
from .nursing_rules import NursingWords, load_nursing_words
from .word_lists import cue_alt


class SpanLike(Protocol):
    """What the filter reads of a candidate span (``detect.Span``)."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def category(self) -> str: ...

    @property
    def rule(self) -> str: ...


S = TypeVar("S", bound=SpanLike)

#: name rules that are weak evidence on their own (no title, field, relative or structure)
WEAK_NAME_RULES = frozenset(
    {
        "name_lexicon",
        "name_initial",
        "name_unknown_position",
        "name_cue_verb",
        "name_cue_role",
        "name_conjoined",
        "credential",
        "verb",
        "name_repeat",
        "initials_cued",
    }
)
#: place rules that take an upper-case token after a place cue
WEAK_PLACE_RULES = frozenset(
    {
        "facility_abbreviation",
        "place_cue_caps",
        "transfer_abbreviation",
        "place_cue",
        "place_cue_known",
        "place_known",
        "facility_lower",
        "device_town",
    }
)

_CLOCK = r"(?:[01]\d|2[0-3])[0-5]\d"
_SHIFT = re.compile(_CLOCK + r"[ \t]*[-–][ \t]*" + _CLOCK)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’&/-]*")
_UWORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")  # a word in any script ("Poděbrad" is one word)
_SMALL_NUMBER = re.compile(r"(?:['’]s)?[ \t]*(?:score|scale|grade)?[ \t]*[:=]?[ \t]*\d{1,2}(?![\d/])")
_DATE_AFTER = re.compile(r"[ \t]*,?[ \t]*\d{1,2}/\d{1,2}")
_WEEKDAY_BEFORE = re.compile(
    r"(?:\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day)?\.?[ \t]*(?:and|&|,|-|/|or|to)"
    r"|\b(?:on|since|until|till|by|admitted|last|this|next|from|through|thru))[ \t]*$"
)
_FILTERED = frozenset({"AGE", "PHONE", "ID", "DATE", "ADDRESS", "NAME", "FACILITY", "CITY", "HOSPITAL"})
_POSSESSIVE_BEFORE = re.compile(r"\b(?:his|her|their|pt's|patient's)[ \t]+(?:early|mid|late)?[ \t-]*$")
_NEXT_WORD = re.compile(r"[ \t]+([a-z][a-z'’-]+)")
_DATE_PREP_BEFORE = re.compile(r"\b(?:on|since|until|till|by|from|of|dated|thru|through)[ \t]*$")
_CLOCK_CUE_BEFORE = re.compile(r"(?:\b(?:by|until|till|til|at|after|before)|@)[ \t]*$")
_CLOCK_ELSEWHERE = re.compile(
    r"(?:@|\bat[ \t])[ \t]*" + _CLOCK + r"\b|\b" + _CLOCK + r"[ \t]*[-–][ \t]*" + _CLOCK + r"\b"
)
_TIME_PREP_BEFORE = re.compile(r"\b(?:at|by|until|till|before|after|since|around|from)[ \t]+$")
_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")
_DECIMAL_AFTER = re.compile(r"\.\d")
_ANTIBIOTIC_DAY = re.compile(r"\bday[ \t#:]*$")
_SIDES = frozenset({"r", "l", "b", "rt", "lt", "bil", "bilat"})
_WEEKDAY_ABBR = frozenset({"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"})


# a pain score that moved: "pain down to 4/10", "pain improved from 8 to 3/10"
_SCORE_MOVE_BEFORE = re.compile(
    r"\b(?:pain|discomfort|ha|headache|cpot|nrs|vas)\b[^.;\n]{0,24}\b(?:to|at|of|from|now|was)[ \t]+$"
)
# a text that capitalises words at its start, after a sentence end or at a line start writes names with a
# capital too; in an all-lower-case note a lower-case dictionary word may still be a name
_CAPS_NOTE = re.compile(r"(?:^|[.!?][ \t]+|\n)[A-Z][a-z]")
# what follows an acronym in running text: punctuation or a lower-case word (an address goes on with a
# postcode, a state, a country or a line break: "BUNDALAGUAH, VIC\n Australia", "OULU NO.")
_ACRONYM_AFTER = re.compile(r"[ \t]*(?:[.,;:)/]|[a-z])")
_INNER_PREPOSITIONS = frozenset({"from", "for", "to", "at", "in", "into", "via", "by"})
# a temperature before a number read as an age: "room 90F", "temp 99 F"
_TEMPERATURE_BEFORE = re.compile(r"\b(?:room|rm|temp|temperature|tmax|ambient|t)[ \t:=]*(?:of[ \t]+)?$")
# quantity cues that also stand before identifiers or counts ("MRN 55123", "# 40912", "room 12001")
_NOT_LAB_CUES = frozenset(
    {"#", "no", "number", "id", "mrn", "x", "room", "rm", "bed", "ext", "$", "dollars", "cost", "copay"}
    | {"calls", "pages", "steps", "feet", "ft", "miles"}
)
# "4/2-4/9": the range's first end is a date too, so the second is no score
_MD_BEFORE_DASH = re.compile(r"(\d{1,2})/(\d{1,2})[-–]$")
# prepositions of time and change that never stand inside an address line ("250 AT 0130", "2245 TO 4L")
_LINE_PREPOSITIONS = frozenset({"at", "to", "via", "down", "up", "from", "per", "until", "after", "before"})
# a NAME candidate glued to a digit ("PaCO2", "SpO2"): a formula or a unit, no name
_DIGIT_GLUED = re.compile(r"\d")


class NoteFilter:
    """Drop the candidate spans of the classes above; keep every other span unchanged."""

    def __init__(self, lex: Lexicon, relative_words: Iterable[str], words: NursingWords | None = None):
        self.lex = lex
        self.w = w = words or load_nursing_words()
        rel = frozenset(relative_words)
        self.vocabulary = (
            w.nursing_vocabulary | rel | {r + "'s" for r in rel} | w.relatives_plural | w.clinical_short_forms
        )
        # lower-case staff and clergy words taken as a name alone ("wife Leanne and pastor Clyde")
        self._job_words = w.clergy_titles | w.job_name_cues | w.name_role_cues | w.initials_role_words
        # "pain 2-3/10", "pain 6/10": a 0-10 score
        self.re_score_before = re.compile(
            r"\b" + cue_alt(w.score_cues) + r"\b[ \t:=]*(?:\d{1,2}[ \t]*[-–][ \t]*)?$"
        )
        self._generic_words = w.generic_facility_words
        self._line_words = w.nursing_vocabulary | w.scale_eponyms | w.vital_cues
        heads = {h.lower() for h in lex.patterns.get("eponym_heads", ())} | w.eponym_heads_nursing
        self.re_eponym_head = re.compile(r"(?:['’]s)?[ \t]+" + cue_alt(heads) + r"\b", re.I)
        self.re_after_not_person = re.compile(r"[ \t]+" + cue_alt(w.after_not_person) + r"\b", re.I)
        # "St. John's wort", "Lyme titers", "Jehovah's Witness": a head after which a place names no place
        self.re_place_eponym_head = re.compile(
            r"(?:['’]s)?[ \t]+(?i:" + cue_alt(w.place_eponym_heads) + r")\b"
        )
        self.re_lab_before = re.compile(
            r"(?<![\w/])"
            + cue_alt((w.quantity_cues - _NOT_LAB_CUES) | w.vital_cues)
            + r"(?![\w])[ \t:=]*(?:of[ \t]+)?$"
        )
        self.re_vent = re.compile(r"(?<![a-z])" + cue_alt(w.vent_cues) + r"[ \t:=]*$")
        # "sats in the mid 90s": a vital sign (or "mid/high/low" after one) before a decade
        self.re_vital_before = re.compile(r"\b" + cue_alt(w.vital_cues) + r"\b[^.;\n]{0,30}$")
        self._times_of_day = w.times_of_day
        self._device_towns = {t.split()[0]: " ".join(t.split()[1:]) for t in w.device_towns}
        self._street_words = frozenset(x.rstrip(".").lower() for x in lex.street_suffixes)

    def apply(self, text: str, low: str, cands: list[S]) -> list[S]:
        """The candidates that are none of the false-positive classes."""
        caps: list[bool] = []  # computed once, and only when a place candidate needs it
        cats = _FILTERED
        return [s for s in cands if s.category not in cats or not self._drop(text, low, s, caps)]

    # -------------------------------------------------------------- classes
    def _drop(self, text: str, low: str, s: SpanLike, caps: list[bool]) -> bool:
        cat, rule = s.category, s.rule
        if cat == "AGE":
            if _TEMPERATURE_BEFORE.search(low, max(0, s.start - 14), s.start):
                return True  # "room 90F", "temp 99F": degrees Fahrenheit, no age
            return self._decade_reading(low, s)
        if cat == "PHONE":
            if s.rule == "phone_intl" and self._lab_value(low, s):
                return True  # "BG 142-155-188": a series of lab values, no phone number
            return bool(_SHIFT.fullmatch(text, s.start, s.end))
        if cat == "ID":
            return s.rule == "digits5" and self._lab_value(low, s)  # "WBC 12500", "plt 98000"
        if cat == "DATE":
            if rule in ("md", "md_cued", "md_event") and self._due_to(text, low, s):
                return True
            if rule in ("md", "md_cued", "md_event") and self._score(text, low, s):
                return True
            if rule == "year_cued" and self._clock_year(low, s):
                return True
            if rule == "two_digit_year" and _DECIMAL_AFTER.match(text, s.end):
                return True  # "(from 94.1)": a decimal reading
            if rule in ("md", "md_cued") and _ANTIBIOTIC_DAY.search(low, max(0, s.start - 8), s.start):
                v = low[s.start : s.end].split("/")
                if v[0].isdigit() and v[1].isdigit() and int(v[0]) <= int(v[1]) <= 21:
                    return True  # "day 5/7 cefepime": a course day
            return rule in ("md", "md_cued", "md_event") and bool(
                self.re_vent.search(low, max(0, s.start - 20), s.start)
            )
        if cat == "ADDRESS":
            if rule == "address_line" and self._clinical_line(text, s):
                return True
            if rule == "street_any_case" and self._preposition_street(text, s):
                return True
            return rule == "street_foreign" and self._via_not_street(text, s)
        weak = rule in WEAK_NAME_RULES or rule in WEAK_PLACE_RULES
        if weak and cat in ("NAME", "CITY", "FACILITY") and s.start and text[s.start - 1].isalpha():
            return True  # "SIC|U Transplant": no name or place starts inside a word
        if (
            weak
            and cat in ("NAME", "CITY", "FACILITY")
            and (_DIGIT_GLUED.match(text, s.end) or (s.start and text[s.start - 1].isdigit()))
        ):
            return True  # "PaCO2", "SpO2": a formula or a unit glued to a digit
        if cat == "NAME":
            return rule in WEAK_NAME_RULES and self._not_a_name(text, low, s)
        if cat in ("FACILITY", "CITY") and self.re_place_eponym_head.match(text, s.end):
            return True  # "St. John's wort", "Lyme disease": an eponym before its head word
        if cat in ("FACILITY", "CITY", "HOSPITAL"):
            if rule in ("facility", "facility_suffix") and self._generic_facility(text, s):
                return True
            return rule in WEAK_PLACE_RULES and self._not_a_place(text, s, caps)
        return False

    def _decade_reading(self, low: str, s: SpanLike) -> bool:
        """ "sats in the mid 90s", "SBP low 90s": a reading, no age ("in her 90s" stays)."""
        v = low[s.start : s.end]
        if not (len(v) == 3 and v.endswith("s")):
            return False
        before = low[max(0, s.start - 40) : s.start]
        if _POSSESSIVE_BEFORE.search(before):
            return False
        return bool(self.re_vital_before.search(before))

    def _due_to(self, text: str, low: str, s: SpanLike) -> bool:
        """ "PER APS 2/2 HYPOTENSION": "2/2" before a word is "secondary to", no date."""
        if text[s.start : s.end] != "2/2":
            return False
        nxt = _NEXT_WORD.match(low, s.end)
        if not nxt or nxt.group(1) in self.lex.stop:
            return False
        return not _DATE_PREP_BEFORE.search(low, max(0, s.start - 12), s.start)

    def _score(self, text: str, low: str, s: SpanLike) -> bool:
        """ "pain 2-3/10", "pain 6/10", "anxiety 4/10": a 0-10 score, no date."""
        if (
            text[max(0, s.start - 1) : s.start] in ("-", "–")
            and text[max(0, s.start - 2) : s.start - 1].isdigit()
        ):
            prev = _MD_BEFORE_DASH.search(text, max(0, s.start - 8), s.start)
            if prev is None:
                return True  # a range of scores: "2-3/10", "TOF 1-2/4"
            a, b = prev.group(1), prev.group(2)
            c, d = text[s.start : s.end].split("/")[:2]
            if b == d and int(a) <= int(b) and c.isdigit() and int(c) <= int(d):
                return True  # "4/5-5/5", "2/6-3/6": two scores on one scale ("4/2-4/9" stays two dates)
        if not text.endswith("/10", s.start, s.end):
            return False
        return bool(
            self.re_score_before.search(low, max(0, s.start - 24), s.start)
            or _SCORE_MOVE_BEFORE.search(low, max(0, s.start - 32), s.start)
        )

    def _lab_value(self, low: str, s: SpanLike) -> bool:
        """A number right after a lab, vital or volume word ("WBC 12500", "BG 142-155-188", "I/O 12050")."""
        return bool(self.re_lab_before.search(low, max(0, s.start - 14), s.start))

    def _clock_year(self, low: str, s: SpanLike) -> bool:
        """ "due to void by 2000" in a note that writes clock times ("@1400"): a time, no year."""
        v = low[s.start : s.end]
        if not (v.isdigit() and int(v[2:]) < 60):
            return False
        if not _CLOCK_CUE_BEFORE.search(low, max(0, s.start - 12), s.start):
            return False
        return bool(_CLOCK_ELSEWHERE.search(low))

    def _clinical_line(self, text: str, s: SpanLike) -> bool:
        """ "HD 5 today. Hunt-Hess 3", "2h off BiPAP on 3L": an address line with a bedside scale or a
        nursing word and no street word is a clinical phrase."""
        ws = [t.lower() for t in _UWORD.findall(text, s.start, s.end)]
        if any(t in _LINE_PREPOSITIONS for t in ws):
            return True  # "6 beat run VT at 0140", "120S DOWN TO 90S": a time or a change, no address part
        if any(t in self._street_words for t in ws):
            return False
        return any(t in self._line_words for t in ws)

    def _preposition_street(self, text: str, s: SpanLike) -> bool:
        """ "dx'd 2018 at st. vincent's": a year, a preposition and "St." of a saint are no street."""
        ws = [t.lower() for t in _WORD.findall(text, s.start, s.end)]
        return len(ws) >= 2 and all(t in self.lex.stop for t in ws[:-1])

    def _generic_facility(self, text: str, s: SpanLike) -> bool:
        """ "Outside Hospital", "Skilled Nursing Facility", "Heart Failure Clinic": descriptive and clinical
        words before a facility head name no facility."""
        ws = [t.lower() for t in _WORD.findall(text, s.start, s.end)]
        if any(t in self.w.facility_place_words for t in ws):
            return False  # "Central Medical Center"
        return bool(ws) and all(
            t in self._generic_words
            or (t in self.lex.clinical and t not in self.lex.places and t not in self.lex.names)
            for t in ws
        )

    def _via_not_street(self, text: str, s: SpanLike) -> bool:
        m = re.search(r"\bvia[ \t]+(?P<w>[A-Za-z][A-Za-z'’]*)(?P<h>-)?", text[s.start : s.end + 1], re.I)
        if not m:
            return False
        w = m.group("w")
        return not w[0].isupper() or bool(m.group("h")) or self.lex.is_vocabulary(w)

    def _not_a_name(self, text: str, low: str, s: SpanLike) -> bool:
        toks = _WORD.findall(text, s.start, s.end)
        if not toks:
            return False
        lows = [t.lower().rstrip(".") for t in toks]
        if all(t in self.vocabulary for t in lows):
            return True
        lex = self.lex
        if all(
            t in self.vocabulary or (t in lex.ordinary and t not in lex.first_names) for t in lows
        ) and any(t in self.vocabulary for t in lows):
            return True  # "Work comp", "Pressure ulcer wound": everyday words and a nursing word
        if len(toks) == 2 and lows[0] in self.w.scale_eponyms and len(lows[1]) == 1 and lows[1] in "abcde":
            return True  # "ASIA A", "Mallampati B": a scale and its grade
        if all(t.islower() for t in toks) and all(t in self._job_words for t in lows):
            return True  # "pastor", "tech": a staff word alone
        if len(toks) == 1 and s.rule != "name_cue_verb":
            nxt = _NEXT_WORD.match(low, s.end)
            if nxt and nxt.group(1) in self.w.device_heads:
                return True  # "Aspen collar", "Bair boots": a brand before its device word
        if len(toks) == 1 and toks[0].islower() and lows[0] in self.w.device_heads:
            return True  # "narcan kit": the device word itself
        if toks[-1].isupper() and self.re_after_not_person.match(text, s.end):
            return True  # "per DKA protocol", "per VAP bundle"
        if s.rule in ("name_lexicon", "name_unknown_position") and all(
            t in self.w.vocabulary_first_names for t in lows
        ):
            return True  # "dark amber", "rusty sputum": no cue says person
        if self.re_eponym_head.match(text, s.end) and s.rule != "name_cue_verb":
            return True  # "Cushing triad", "Austin Flint murmur"
        if (
            s.rule.startswith("name_cue")
            and len(toks) > 1
            and toks[0].islower()
            and lows[0].endswith("s")
            and lows[0][:-1] in lex.ordinary
            and lows[0] not in lex.first_names
        ):
            return True  # "pt takes naproxen": a verb (3rd person) after a role cue, no surname
        if len(lows[0]) == 1 and (
            text[s.start + 1 : s.start + 2] in ("&", "/") or text[max(0, s.start - 1) : s.start] in ("&", "/")
        ):
            return True  # "S&S", "T/F"
        if len(toks) == 1:
            t, lt = toks[0], lows[0]
            if lt in self.w.eponyms:
                return True
            if lt in self._times_of_day and _TIME_PREP_BEFORE.search(low, max(0, s.start - 10), s.start):
                return True  # "coming in at dawn"
            if lt in self.w.scale_eponyms and _SMALL_NUMBER.match(text, s.end):
                return True
            if t.islower() and s.rule == "name_lexicon" and lt in lex.english and lt not in lex.first_names:
                return True  # "bolus", "pleasant": a dictionary word only the surname lists know
            if t.islower() and s.rule == "name_lexicon" and lt in lex.english and _CAPS_NOTE.search(text):
                return True  # "manual pressure", "said grace": a dictionary word no cue names, in lower case
            if lt in _WEEKDAY_ABBR and (
                _DATE_AFTER.match(text, s.end) or _WEEKDAY_BEFORE.search(low, max(0, s.start - 16), s.start)
            ):
                return True
        # "Hunt-Hess 3": every part of a hyphenated scale name
        joined = "-".join(lows)
        if joined in self.w.scale_eponyms and _SMALL_NUMBER.match(text, s.end):
            return True
        return False

    def _not_a_place(self, text: str, s: SpanLike, caps: list[bool]) -> bool:
        v = text[s.start : s.end]
        lv = v.lower()
        if lv in self.vocabulary:
            return True
        ws = lv.split()
        if len(ws) > 1 and all(t in self.vocabulary or t in _SIDES for t in ws):
            return True  # "R MCA", "L ICA": a side and a vessel
        head = self._device_towns.get(lv)
        if head and text[s.end + 1 : s.end + 1 + len(head)].lower() == head:
            return True  # "Miami J collar", "Salem sump"
        if s.rule == "facility_lower":  # "cont plan for rehab", "cf clinic"; not "hebrew rehab"
            ws = [t.lower() for t in _WORD.findall(v)]
            if any(t in _INNER_PREPOSITIONS for t in ws[1:-1]):
                return True  # "faxed from hospital", "auth for rehab": a phrase ending in a facility word
            return ws[0] in self.vocabulary and all(
                t in self.vocabulary or self.lex.is_vocabulary(t) for t in ws
            )
        if s.rule == "place_known" and (  # a known town without a place cue
            lv in self.w.eponyms
            or (lv in self.w.scale_eponyms and _SMALL_NUMBER.match(text, s.end))
            or self.re_eponym_head.match(text, s.end)
        ):
            return True
        if v.isupper() and v.isalpha() and len(v) <= 4 and s.category == "CITY" and s.rule == "place_known":
            if not caps:
                caps.append(_mostly_upper(text))
            if not caps[0] and _ACRONYM_AFTER.match(text, s.end):
                return True  # "AKI.", "NASH cirrhosis" in a mixed-case note: an acronym, no town
        if not v.isupper() or not all(
            self.lex.is_vocabulary(t) or t.lower() in self.vocabulary or t.lower() in _SIDES
            for t in _WORD.findall(v)
        ):
            return False
        if not caps:
            caps.append(_mostly_upper(text))
        return caps[0]


def _mostly_upper(text: str) -> bool:
    """True for a text written in capitals (most of its letters upper case)."""
    up = len(_UPPER.findall(text))
    return up > 40 and up > 4 * len(_LOWER.findall(text))
