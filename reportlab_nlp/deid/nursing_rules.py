"""PHI of ICU nursing notes that the terse-note rules miss (issue 11, nursing notes).

Each rule is one phenomenon of nursing notes written in their terse style:

* a year alone after an event or a procedure ("CABG x3 2004", "explanted 2012") or at the end of a
  parenthesis ("(anoxic injury 2016)"); clock times ("@2000", "1900-0700") and volumes are no years;
* an m/d date without a year after an event word ("EGD 2/3", "admitted 9/28", "from Baystate 1/2"),
  where a bare "2/3" would otherwise be read as a ratio;
* first names in a list after a plural relative ("sons Mark and Anthony"), a relative's first name that is
  also a common word when a list or a parenthesis follows ("son will and dtr rose", "wife hope (HCP)"),
  and the capitalised recurrence of a relative's name ("wife Rose ... Rose tearful");
* initials before a role word ("J.S. RN") or in parentheses after one ("per RT (MK)");
* an age over 89 written as an ordinal birthday ("her 93rd birthday");
* a day ordinal alone after a scheduling preposition ("scheduled for the 14th");
* a person after a clergy title ("Fr. Michael", "Rabbi Klein");
* specimen and accession identifiers ("specimen # BB-19-004417", "S19-22817");
* residential facilities ("Harbor House", "Maplewood Manor") after a place cue.

Round 2 (half B of the nursing notes):

* a lower-case token after a relative or a staff role that is a name by what follows it ("son will
  called", "dtr hope)", "np hill aware", "wife sunita"), and its recurrence at a clause start before a verb;
* lower-case months ("until jan 15"), m/d after a weekday ("sat 4/2"), a year alone in parentheses
  ("colon ca (2008)"), a holiday after a temporal preposition ("since Christmas");
* hospital nicknames ("at Children's"), lower-case abbreviations before a department ("by bmc financial
  counselor"), towns that also name a device ("pt from Salem"), a town after a street address;
* identifiers after a "#" cue ("ref # ME-22-04193"), hyphenated extensions ("x6-4471"), ages over 89
  reached ("lived to 102").

Round 3 (half C1 of the nursing notes):

* a two-letter state code after a capitalised town ("Rochester NH", "(Keene NH)"; not "Head CT", not a
  credential after a name, "Amina Farouk MD");
* a lower-case month alone after a temporal preposition ("was there in jan", "since october");
* staff signatures: an initial and a surname before a role word on a dash-led or role-ended line
  ("- j. wood rn", "-- s.meadow, rn");
* a single word after "at"/"to" in a sentence with a transfer cue ("report called to X RN at Kindred",
  "d/c to Whittier", "detox at gosnold").

The word lists are data: ``rules/deid/nursing_words.yml`` (schema at its top, validated here: RL202).
The false-positive side of nursing notes is :mod:`reportlab_nlp.deid.note_filter`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..resources import data_path, load_yaml
from .lexicon import Lexicon
from .word_index import cue_matches, lead_firsts
from .word_lists import cue_alt, parse_word_lists

# (start, end, category, rule, priority)
NursingSpan = tuple[int, int, str, str, int]


@dataclass(frozen=True)
class NursingWords:
    """Each field holds the lower-case words of the key of the same name in ``nursing_words.yml``."""

    year_event_cues: frozenset[str]
    md_event_cues: frozenset[str]
    relatives_plural: frozenset[str]
    initials_role_words: frozenset[str]
    clergy_titles: frozenset[str]
    residence_heads: frozenset[str]
    residence_cues: frozenset[str]
    residence_not_first: frozenset[str]
    specimen_cues: frozenset[str]
    vent_cues: frozenset[str]
    nursing_vocabulary: frozenset[str]
    scale_eponyms: frozenset[str]
    eponyms: frozenset[str]
    eponym_heads_nursing: frozenset[str]
    vocabulary_first_names: frozenset[str]
    after_not_person: frozenset[str]
    name_role_cues: frozenset[str]
    name_confirming_followers: frozenset[str]
    holidays: frozenset[str]
    holiday_cues: frozenset[str]
    device_towns: frozenset[str]
    vital_cues: frozenset[str]
    times_of_day: frozenset[str]
    hash_id_cues: frozenset[str]
    facility_context_after: frozenset[str]
    month_alone_cues: frozenset[str]
    transfer_cues: frozenset[str]
    lower_facility_cues: frozenset[str]


def parse_nursing_words(doc: object, where: str) -> NursingWords:
    """Validate a parsed ``nursing_words.yml`` document; RL202 names ``where`` and the key."""
    return parse_word_lists(doc, where, NursingWords)


def load_nursing_words(path: str | Path | None = None) -> NursingWords:
    """The shipped word lists, or those of ``path`` (same schema)."""
    p = Path(path) if path is not None else data_path("rules", "deid", "nursing_words.yml")
    return _load(str(p))


@functools.lru_cache(maxsize=4)
def _load(path: str) -> NursingWords:
    return parse_nursing_words(load_yaml(path), Path(path).name)


_YEAR = r"(?:19[3-9]\d|20[0-3]\d)"
# what may follow a year: no unit, no clock range, no decimal
_YEAR_END = (
    r"(?![\d:/.,]\d|[ \t]*-[ \t]*\d|[ \t]*(?:hrs?|hours|h|ml|cc|mg|mcg|units?|u|kcal|cal|calories|l|%)\b)"
)
_FIRST_WORD = re.compile(r"[a-z]+")
# cheap pre-checks: a year-like number, an m/d number, a day ordinal
_YEAR_HINT = re.compile(r"(?:19[3-9]|20[0-3])\d")
_MD_HINT = re.compile(r"\d/\d")
_ORDINAL_HINT = re.compile(r"\d(?:st|nd|rd|th)\b")
# "(anoxic injury 2016)": words only before the year in the parenthesis, one of 4+ letters
_PAREN_HISTORY = re.compile(r"[ \t]*[a-z][a-z/&' -]*[a-z]{4}[a-z/&' -]*[ \t]+")
# "(last dose 2000)", "(hung at 2015)": a clock time
_PAREN_CLOCK = re.compile(
    r"@|\b(?:at|since|until|till|by|given|dose|last|prn|started|hung|due|from|to|q\d+h?|shift|rate)\b"
)


_MONTH_WORDS = (
    "january|february|march|april|june|july|august|september|october|november|december"
    "|jan|feb|apr|jun|jul|aug|sep|sept|oct|nov"
)
# "may", "mar", "dec" are also a modal, "mar" (medication record) and "dec" (decreased): a year must follow
_MONTH_AMBIGUOUS = "may|mar|dec"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR_ANY = r"(?:(?:19|20)\d{2}|['’]\d{2})"
_UNIT_AFTER = r"(?![ \t]*(?:mg|mcg|ml|cc|units?|l\b|lpm|%|hrs?\b|min|mm|cm|kg|lb|meq|g\b))"
_WEEKDAYS = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day)?\.?"
# an unknown word taken as a name: 4+ letters, a vowel, no apostrophe ("sunita", not "pt's", "hrly")
_UNKNOWN_NAME = re.compile(r"(?=[a-z]*[aeiou])[a-z]{4,}")
_MONTH_SET = frozenset(_MONTH_WORDS.split("|")) | {"may", "mar", "dec"}
_WEEKDAY_SET = frozenset(
    "mon tue tues wed thu thur thurs fri sat sun".split()
    + "monday tuesday wednesday thursday friday saturday sunday".split()
)
_APOSTROPHE_S = re.compile(r"['’]s(?![\w-])")
_POSSESSIVE_HEAD = re.compile(r"(?<![\w.])(?:St\.?[ \t]+)?(?P<b>[A-Z][A-Za-z]*)$")
_NEXT_LOWER = re.compile(r"[ \t]+([a-z]+)")
_POSSESSIVE_CUES = frozenset({"at", "from", "to"})
_POSSESSIVE_CUE_BEFORE = re.compile(r"\b(?:at|from|transferred[ \t]+to|sent[ \t]+to)[ \t]+$")
_PREPOSITIONS = frozenset({"at", "from", "with", "w", "here", "present"})
_MD = r"(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])"
# state codes that are also words or abbreviations ("Relapsing MS", "Kayexalate OK"): a known town only
_AMBIGUOUS_CODES = frozenset(
    "ms ok hi oh co de ne al ga wa md pa in or me id la mi ma nc sc ct tx ca".split()
)
_NEXT_CAP = re.compile(r"[ \t]+[A-Z][a-z]")  # a capitalised word next: a longer name, other rules' work


class NursingRules:
    """Spans ``(start, end, category, rule, priority)`` of the nursing-note phenomena."""

    def __init__(
        self,
        lex: Lexicon,
        relative_words: frozenset[str],
        not_initials: frozenset[str] = frozenset(),
        words: NursingWords | None = None,
    ):
        self.lex = lex
        self.w = w = words or load_nursing_words()
        self.relative_words = relative_words
        abbr = frozenset(a.lower() for a in lex.patterns.get("clinical_abbreviations", ()))
        self._not_initials = not_initials | abbr | w.initials_role_words | w.nursing_vocabulary
        # a year first (rare in most texts), then its event cue right before it
        self.re_year = re.compile(r"(?<![\w/@.-])(?P<y>" + _YEAR + r")\b" + _YEAR_END)
        self.re_event_before = re.compile(
            r"(?<![\w/])" + cue_alt(w.year_event_cues) + r"(?:[ \t]+x[ \t]*\d)?[ \t]*[,:]?[ \t]+$"
        )
        self._event_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.year_event_cues)
        # an m/d number first (rare), then its event cue in the 60 characters before it
        self.re_md = re.compile(
            r"(?<![\w/])(?P<v>(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01]))"
            r"(?![\w/]|\.\d|[ \t]*(?:strength|murmur|pain))"
        )
        self.re_md_event_before = re.compile(
            r"(?<![\w/])(?i:" + cue_alt(w.md_event_cues) + r"(?:[ \t]+(?:on|from|to|at|in|for))?)"
            r"(?:[ \t]+[A-Z][A-Za-z'’-]+){0,3}[ \t]*:?[ \t]+$"
        )
        self._md_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.md_event_cues)
        name = r"[A-Za-z][a-z'’]*[a-z]"
        self.re_plural_list = re.compile(
            r"\b" + cue_alt(w.relatives_plural) + r"[ \t]*[,:(]?[ \t]*(?P<a>" + name + r")"
            r"(?:[ \t]*,[ \t]*(?P<b>" + name + r"))?[ \t]*(?:,[ \t]*)?(?:and|&)[ \t]+(?P<c>" + name + r")\b"
        )
        self.re_relative_coord = re.compile(
            r"\b" + cue_alt(relative_words) + r"[ \t]+(?P<v>[a-z][a-z'’]*[a-z])(?=[ \t]*(?:and|&)[ \t]+"
            r"|[ \t]*\()"
        )
        # capitals are case-sensitive, the role word is not; texts without a role word skip both
        self.re_initials_before_role = re.compile(
            # ((?<![\w.])(?:[A-Z]\.){2,3}|[A-Z]{2,3}) with its left edge after the first capital: fast_re)
            r"(?P<v>[A-Z](?<![\w.].)(?:\.(?:[A-Z]\.){1,2}|[A-Z]{1,2}))[ \t]+(?i:"
            + cue_alt(w.initials_role_words)
            + r")"
            r"(?![\w])"
        )
        # "(MK)" first (a literal "(" scans fast), then the role word right before it
        self.re_initials_paren = re.compile(r"\([ \t]*(?P<v>(?:[A-Z]\.){2,3}|[A-Z]{2,3})[ \t]*\)")
        self.re_role_before = re.compile(r"(?i:\b" + cue_alt(w.initials_role_words) + r")[ \t]*$")
        self._role_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.initials_role_words)
        self.re_birthday = re.compile(
            r"\b(?P<v>9\d|1[01]\d)(?:st|nd|rd|th)[ \t]+b(?:irth)?day\b"
            r"|\bturn(?:s|ed|ing)?[ \t]+(?P<t>9\d|1[01]\d)(?![\w.%/-])"
            r"(?![ \t]*(?:mg|mcg|ml|cc|units?|%|degrees))"
        )
        self.re_day_ordinal = re.compile(
            r"\b(?:for|on|until|till|til|by|before|after|since|from)[ \t]+the[ \t]+"
            r"(?P<v>(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th))\b"
            r"(?=[ \t]*(?:[.,;:)!?]|$|\n|-|–|and\b|or\b|at\b|w/|with\b|but\b|so\b|when\b|if\b|as\b))",
            re.M,
        )
        self.re_clergy = re.compile(
            r"(?<![\w.])(?:" + "|".join(re.escape(t.capitalize()) for t in sorted(w.clergy_titles)) + r")\.?"
            r"[ \t]+(?P<v>[A-Z][a-z'’-]+(?:[ \t]+[A-Z][a-z'’-]+)?)"
        )
        # an identifier shape first, then a specimen cue up to 40 characters before it
        self.re_specimen_id = re.compile(
            r"(?<![\w-])(?P<v>[A-Z]{1,3}-?\d{2}-\d{3,8}|[A-Z]{1,3}\d{6,10})(?![\w-])"
        )
        self.re_specimen_before = re.compile(r"(?i:\b" + cue_alt(w.specimen_cues) + r")\b[^\n]{0,40}$")
        self._specimen_last = frozenset(
            _FIRST_WORD.findall(c)[-1] for c in w.specimen_cues
        )  # "bank", not "blood"
        # ((?<![\w-])[A-Z]{1,2}..., its left edge after the first capital: fast_re)
        self.re_accession_shape = re.compile(r"(?P<v>[A-Z](?<![\w-].)[A-Z]?\d{2}-\d{4,8})(?![\w-])")
        # a residential head first ("Manor"), then the cue and the capitalised words before it
        heads = "|".join(re.escape(h.capitalize()) for h in sorted(w.residence_heads))
        self.re_residence_head = re.compile(r"(?<=[ \t])(?:" + heads + r")(?![\w])")
        self._residence_at = lead_firsts(w.residence_heads)  # tried where a head word stands (word_index)
        self.re_residence_before = re.compile(
            r"(?i:(?<![\w])" + cue_alt(w.residence_cues) + r")[ \t]+(?P<v>(?:[A-Z][a-z'’]+[ \t]+){1,3})$"
        )

        # a lower-case month before a day or a year, or after a day ("until jan 15", "jan 2021", "3 feb")
        self.re_month_low = re.compile(
            r"(?<![\w/])(?:(?:"
            + _MONTH_WORDS
            + r")\.?[ \t]+(?P<d>"
            + _DAY
            + r"(?:,?[ \t]+"
            + _YEAR_ANY
            + r")?|"
            + _YEAR_ANY
            + r")|(?:"
            + _MONTH_AMBIGUOUS
            + r")\.?[ \t]+(?P<y>(?:"
            + _DAY
            + r",?[ \t]+)?"
            + _YEAR_ANY
            + r")|"
            + _DAY
            + r"[ \t-]+(?:"
            + _MONTH_WORDS
            + r")(?:\.?,?[ \t]+"
            + _YEAR_ANY
            + r")?)(?![\w/:-]|\.\d|[ \t]*-[ \t]*\d)"
            + _UNIT_AFTER
        )
        # an m/d date after a weekday ("fly in sat 4/2", "Tues, 11/3")
        self.re_weekday_md = re.compile(
            r"(?<![\w])" + _WEEKDAYS + r",?[ \t]+(?P<v>" + _MD + r")(?![\w/]|\.\d)"
        )
        # a year alone in parentheses after a diagnosis or procedure ("colon ca (2008)", "s/p r aka (2019)")
        self.re_paren_year_alone = re.compile(r"\([ \t]*(?P<v>" + _YEAR + r")[ \t]*\)")
        # a holiday after a temporal preposition ("since Christmas", "over Thanksgiving")
        self.re_holiday = re.compile(
            r"\b" + cue_alt(w.holiday_cues) + r"[ \t]+(?P<v>" + cue_alt(w.holidays) + r")(?![\w'’-])"
        )
        # the longest word of each holiday ("memorial", not "day"): a pre-check on the note's words
        self._holiday_first = frozenset(max(_FIRST_WORD.findall(h), key=len) for h in w.holidays)
        # a town that also names a device, after a place cue and not before its device word
        self._device_towns = {t.split()[0]: " ".join(t.split()[1:]) for t in w.device_towns}
        towns = "|".join(re.escape(t.capitalize()) for t in sorted(self._device_towns))
        self.re_device_town = re.compile(
            r"\b(?:from|in|to|near|of|lives[ \t]+in|moved[ \t]+(?:to|from))[ \t]+(?P<v>"
            + towns
            + r")(?![\w-])"
        )
        # a town after a street address ("1402 Esplanade Ave, New Orleans")
        suffixes = sorted({x.rstrip(".") for x in lex.street_suffixes}, key=len, reverse=True)
        self._street_suffix_words = frozenset(x.lower() for x in suffixes)
        # a comma and a capitalised town first (a literal scans fast), then the street before the comma
        self.re_comma_town = re.compile(r",[ \t]*(?P<v>[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+){0,2})(?![\w'’-])")
        self.re_street_before = re.compile(
            r"(?<![\w])\d{1,6}[ \t]+(?:[A-Z][A-Za-z'’-]+[ \t]+){1,3}(?:"
            + "|".join(map(re.escape, suffixes))
            + r")\.?[ \t]*$"
        )
        # an identifier with letters and digits after a "#" cue ("ref # ME-22-04193")
        self.re_hash_id = re.compile(
            r"\b" + cue_alt(w.hash_id_cues) + r"[ \t]*(?:#|no\.?|number)[ \t]*:?[ \t]*"
            r"(?P<v>(?=[a-z0-9-]*\d)[a-z0-9][a-z0-9-]{3,}[a-z0-9])(?![\w-])"
        )
        self.re_vital_before = re.compile(r"\b" + cue_alt(w.vital_cues) + r"\b[^.;\n]{0,20}$")
        # a lower-case hospital abbreviation before one of its departments ("needed by bmc financial")
        self.re_abbr_department = re.compile(
            r"\b(?:by|per|with|w/|from|at|to)[ \t]+(?P<v>[a-z]{2,5})[ \t]+"
            + cue_alt(w.facility_context_after)
            + r"(?![\w'’-])"
        )
        self._department_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.facility_context_after)
        self._hash_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.hash_id_cues)
        # a phone extension with a hyphen ("x6-4471", "ext 4-2210")
        self.re_ext_hyphen = re.compile(
            r"x[ \t]?(?P<v>\d{1,2}-\d{4})(?![\w-])|xt\.[ \t]?(?P<w>\d{1,2}-\d{4})(?![\w-])"
        )
        # an age over 89 after "lived to", "made it to", "celebrated"
        self.re_age_reached = re.compile(
            r"\b(?:lived[ \t]+to(?:[ \t]+(?:be|age))?|made[ \t]+it[ \t]+to|celebrated(?:[ \t]+(?:his|her))?|"
            r"reached(?:[ \t]+age)?)[ \t]+(?P<v>9\d|1[01]\d)(?:th)?(?![\w%/-]|\.\d)"
            r"(?![ \t]*(?:mg|mcg|ml|cc|units?|%|degrees|years[ \t]+of|yrs[ \t]+of))"
        )
        # a lower-case token after a relative or a staff role ("dtr hope)", "np hill aware", "wife sunita")
        cues = set(relative_words) | w.name_role_cues
        self.re_cue_name = re.compile(
            r"(?<![\w/-])"
            + cue_alt(cues)
            + r"(?:[ \t]*[,:]?[ \t]+(?P<p>\(?)|[ \t]*(?P<q>\())[ \t]*(?P<v>[a-z][a-z'’]*[a-z])(?![\w/'’-])"
            r"(?P<a>[ \t]*(?:\)|,|;|&|and\b|[a-z/]+))?"
        )
        self._cue_first = frozenset(_FIRST_WORD.findall(c)[0] for c in cues)
        self._cue_at = lead_firsts(cues)  # tried where a cue's first word stands (word_index)
        self._role_cues = w.name_role_cues

        # round 3 -----------------------------------------------------------
        # a real two-letter state code (a literal scan), then a capitalised town right before it
        codes = sorted({a for a in lex.states_abbr if len(a) == 2 and a.isalpha()})
        self._state_codes = frozenset(c.lower() for c in codes)
        self._state_upper = frozenset(codes)
        # any two capitals alone (one character class scans faster than 50 alternatives), then the set
        self.re_state_code = re.compile(r"(?<![\w'’./-])(?P<v>[A-Z]{2})(?![\w'’/-])")
        self.re_town_before = re.compile(
            r"(?<![\w'’.-])(?P<t>[A-Z][a-z]{2,}(?:[ \t]+[A-Z][a-z]+){0,2}),?[ \t]+$"
        )
        # a lower-case month alone after a temporal preposition ("was there in jan", "since march")
        alone = "|".join(m for m in _MONTH_WORDS.split("|"))
        self._month_alone_at = lead_firsts(w.month_alone_cues)
        self.re_month_alone = re.compile(
            r"(?<![\w/])" + cue_alt(w.month_alone_cues) + r"[ \t]+(?P<v>(?:" + alone + r"))\.?"
            r"(?![\w'’/-]|[ \t]*\d|\.\w)"
        )
        # a staff signature: an initial and a surname before a credential, after a dash at a line start
        # or with the credential ending the line ("- j. wood rn", "-- m.smith, rn", "K. Osei RN")
        roles = cue_alt(w.initials_role_words)
        sig = r"[A-Za-z]\.[ \t]?[A-Za-z][a-z'’-]*[a-z])[ \t]*,?[ \t]+(?i:" + roles + r")\.?"
        self.re_signature = re.compile(
            r"^[ \t]*-{1,3}[ \t]*(?P<v>" + sig + r"(?![\w])|(?<![\w.])(?P<v2>" + sig + r"[ \t]*$", re.M
        )
        # a single word after "at"/"to" in a sentence with a transfer cue ("d/c to Spaulding")
        self.re_at_to_word = re.compile(r"(?<![\w/])(?:at|to)[ \t]+(?P<v>[A-Za-z][a-z'’]*[a-z])(?![\w'’/-])")
        self.re_transfer_cue = re.compile(r"(?<![\w/])" + cue_alt(w.transfer_cues) + r"(?![\w])")
        self._transfer_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.transfer_cues)
        self.re_lower_facility_cue = re.compile(r"(?<![\w/])" + cue_alt(w.lower_facility_cues) + r"[ \t]+$")
        self.re_role_after = re.compile(r"[ \t]+(?i:" + roles + r")(?![\w])")

    # -------------------------------------------------------------- rules
    def spans(
        self, text: str, low: str, words: frozenset[str], relative_names: Iterable[str] = ()
    ) -> Iterator[NursingSpan]:
        events = bool(words & self._event_first)
        if (events or ")" in text) and _YEAR_HINT.search(text):
            for m in self.re_year.finditer(low):
                b, e = m.start("y"), m.end("y")
                if events and self.re_event_before.search(low, max(0, b - 40), b):
                    yield b, e, "DATE", "event_year", 68
                elif low[e : e + 1] == ")":
                    inner = low[max(0, b - 40) : b].rsplit("(", 1)
                    if (
                        len(inner) == 2
                        and _PAREN_HISTORY.fullmatch(inner[1])
                        and not _PAREN_CLOCK.search(inner[1])
                    ):
                        yield b, e, "DATE", "paren_year", 68
        if "/" in text and words & self._md_first and _MD_HINT.search(text):
            for m in self.re_md.finditer(text):
                if self.re_md_event_before.search(text, max(0, m.start() - 60), m.start()):
                    yield m.start("v"), m.end("v"), "DATE", "md_event", 75
        yield from self._relatives(text, low, words, relative_names)
        yield from self._initials(text, words)
        yield from self._dates_round2(text, low, words)
        yield from self._places_ids_ages(text, low, words)
        yield from self._round3(text, low, words)
        for m in (
            self.re_birthday.finditer(low) if ("birthday" in low or "bday" in low or "turn" in low) else ()
        ):
            g = "v" if m.group("v") else "t"
            yield m.start(g), m.end(g), "AGE", "birthday_age", 73
        if " the " in low and _ORDINAL_HINT.search(low):
            for m in self.re_day_ordinal.finditer(low):
                yield m.start("v"), m.end("v"), "DATE", "day_ordinal", 66
        for m in self.re_clergy.finditer(text) if words & self.w.clergy_titles else ():
            kept = []
            for tok in m.group("v").split():
                lw = tok.lower().rstrip("'’s") if tok.endswith(("'s", "’s")) else tok.lower()
                if (
                    self.lex.is_blocked(lw)
                    or lw in self.lex.clinical
                    or (lw in self.lex.ordinary and lw not in self.lex.names)
                ):
                    break
                kept.append(tok)
            if kept:
                b = m.start("v")
                yield b, b + len(" ".join(kept)), "NAME", "clergy_title", 62
        if words & self._specimen_last:
            for m in self.re_specimen_id.finditer(text):
                b = m.start("v")
                if self.re_specimen_before.search(text, max(0, b - 60), b):
                    yield b, m.end("v"), "ID", "specimen_id", 64
        for m in self.re_accession_shape.finditer(text) if "-" in text else ():
            yield m.start("v"), m.end("v"), "ID", "accession_shape", 63
        for h in cue_matches(self.re_residence_head, low, words, self._residence_at, text):
            r = self.re_residence_before.search(text, max(0, h.start() - 80), h.start())
            if not r:
                continue
            first = r.group("v").split()[0].lower()
            if first in self.w.residence_not_first or first in self.lex.stop:
                continue
            yield r.start("v"), h.end(), "FACILITY", "residence", 62

    def _relatives(
        self, text: str, low: str, words: frozenset[str], relative_names: Iterable[str]
    ) -> Iterator[NursingSpan]:
        lex = self.lex
        found = [n.lower() for n in relative_names]
        if words & self.w.relatives_plural:
            for m in self.re_plural_list.finditer(low):
                for g in ("a", "b", "c"):
                    v = m.group(g)
                    if v and v in lex.first_names and v not in lex.stop and v not in self.relative_words:
                        found.append(v)
                        yield m.start(g), m.end(g), "NAME", "relative_list", 59
        if words & self.relative_words:
            for m in self.re_relative_coord.finditer(low):
                v = m.group("v")
                if (  # a modal is no name before "and" or "(" ("son will and dtr rose"): no stop-word test
                    v in lex.first_names and v not in self.relative_words and v not in self.w.relatives_plural
                ):
                    found.append(v)
                    yield m.start("v"), m.end("v"), "NAME", "relative_coordinated", 59
        if words & self._cue_first:
            cued = self._cue_names(low, words)
            found.extend(low[b:e] for b, e, *_ in cued)
            yield from cued
        # a relative's first name again, capitalised ("wife Rose ... Rose tearful")
        for name in {n for n in found if len(n) >= 3 and n not in lex.stop}:  # not "Will continue"
            cap = name[0].upper() + name[1:]
            i = text.find(cap)
            while i >= 0:
                e = i + len(cap)
                before = text[i - 1] if i else " "
                after = text[e] if e < len(text) else " "
                if not (before.isalnum() or before in "_'’-") and not (after.isalnum() or after in "_-"):
                    yield i, e, "NAME", "relative_repeat", 58
                i = text.find(cap, e)
        # any name of a cue again at a clause start before a verb ("hope states", "June will bring")
        for name in set(found):
            if len(name) < 3:
                continue
            i = low.find(name)
            while i >= 0:
                e = i + len(name)
                head = low[max(0, i - 3) : i].rstrip(" \t")
                nxt = _FIRST_WORD.match(low, e + 1) if low[e : e + 1] == " " else None
                if (
                    (not head or head[-1] in ".;:\n")
                    and nxt
                    and nxt.group() in self.w.name_confirming_followers
                    and nxt.group() not in _PREPOSITIONS  # "bill from outside pharmacy"
                    and not (e < len(low) and (low[e].isalnum() or low[e] in "'’"))
                ):
                    yield i, e, "NAME", "relative_repeat_clause", 58
                i = low.find(name, e)

    def _cue_names(self, low: str, words: frozenset[str]) -> list[NursingSpan]:
        """Lower-case tokens after a relative or a staff role that are names by what follows them.

        An unknown token after a relative is a name ("wife sunita"); a known name that is also a word
        or a modal needs a confirming follower ("son will called", "dtr hope)", "np hill aware")."""
        lex, w = self.lex, self.w
        spans: list[NursingSpan] = []
        for m in cue_matches(self.re_cue_name, low, words, self._cue_at):
            v = m.group("v")
            cue = low[m.start() : m.start("v")].rstrip(" \t(,:")
            role = cue in self._role_cues
            if (
                v in self.relative_words
                or v in self._role_cues
                or v in w.nursing_vocabulary
                or v in w.relatives_plural
                or v in self._not_initials
                or (v in lex.clinical and not (v in lex.stop and v in lex.first_names))  # "will" is clinical
                or v in lex.allow
                or (v in w.name_confirming_followers and v not in lex.first_names)
            ):
                continue
            a = (m.group("a") or "").strip()
            if a in (")", ",", ";") and (m.group("p") or m.group("q")) and a != ")":
                a = ""
            confirmed = a in (")", ",", ";", "&", "and") or a in w.name_confirming_followers
            if v in lex.stop:
                ok = v in lex.first_names and confirmed and a not in ("and", "&", ",", ";", "is", "was")
            elif lex.is_unknown(v) and _UNKNOWN_NAME.fullmatch(v) and not role:
                ok = True  # "wife sunita at bedside"
            else:
                ok = confirmed and (v in lex.names if role else v in lex.first_names)
            if ok:
                spans.append((m.start("v"), m.end("v"), "NAME", "cue_name_nursing", 59))
        return spans

    def _dates_round2(self, text: str, low: str, words: frozenset[str]) -> Iterator[NursingSpan]:
        """Lower-case months, m/d after a weekday, a year alone in parentheses, holidays."""
        months = words & _MONTH_SET  # a lower-case month in the text itself, not only "Jan"
        for m in self.re_month_low.finditer(text) if any(x in text for x in months) else ():
            yield m.start(), m.end(), "DATE", "month_lower", 70
        if "/" in text and words & _WEEKDAY_SET:
            for m in self.re_weekday_md.finditer(low):  # lower-case patterns on the lower-cased text
                yield m.start("v"), m.end("v"), "DATE", "weekday_md", 72
        if "(" in text and _YEAR_HINT.search(text):
            for m in self.re_paren_year_alone.finditer(text):
                b = m.start()
                line = low[max(0, low.rfind("\n", 0, b) + 1, b - 24) : b]
                after_word = line[-1:] in (" ", "\t") and (line[-2:-1].isalpha() or line[-2:-1] == ".")
                if after_word and not _PAREN_CLOCK.search(line):
                    yield m.start("v"), m.end("v"), "DATE", "paren_year_alone", 68
        if words & self._holiday_first:
            for m in self.re_holiday.finditer(low):
                yield m.start("v"), m.end("v"), "DATE", "holiday", 66

    def _places_ids_ages(self, text: str, low: str, words: frozenset[str]) -> Iterator[NursingSpan]:
        """Hospital nicknames, device towns as towns, a town after a street, "#" identifiers,
        hyphenated extensions, ages reached."""
        lex = self.lex
        if ("'s" in text or "’s" in text) and words & _POSSESSIVE_CUES:
            # a capitalised possessive nickname of a hospital after a cue ("at Children's", "from St. E's")
            for m in _APOSTROPHE_S.finditer(text):  # few in a note: look back from each
                i = m.start()
                h = _POSSESSIVE_HEAD.search(text, max(0, i - 30), i)
                if not h or not _POSSESSIVE_CUE_BEFORE.search(low, max(0, h.start() - 20), h.start()):
                    continue
                b = h.group("b").lower()
                if b in self.relative_words or b in self.w.nursing_vocabulary or b in lex.stop or b == "pt":
                    continue
                n = _NEXT_LOWER.match(text, m.end())
                if n and n.group(1) not in lex.stop:
                    continue  # "at Mary's house": a possessive before its noun
                yield h.start(), m.end(), "HOSPITAL", "hospital_possessive", 60
        for m in self.re_device_town.finditer(text) if words & self._device_towns.keys() else ():
            head = self._device_towns[m.group("v").lower()]
            if not low.startswith(head, m.end() + 1):
                yield m.start("v"), m.end("v"), "CITY", "device_town", 58
        for m in self.re_abbr_department.finditer(low) if words & self._department_first else ():
            v = m.group("v")
            if text[m.start("v") : m.end("v")].islower() and not (
                v in self._not_initials
                or v in self.w.nursing_vocabulary
                or v in lex.english
                or v in lex.clinical
                or v in lex.allow
                or v in lex.stop
                or v in lex.names
            ):
                yield m.start("v"), m.end("v"), "HOSPITAL", "abbreviation_department", 58
        if "," in text and words & self._street_suffix_words:
            for m in self.re_comma_town.finditer(text):
                if not self.re_street_before.search(text, max(0, m.start() - 60), m.start()):
                    continue
                v = m.group("v")
                if v.lower() in lex.places or not all(lex.is_vocabulary(t) for t in v.split()):
                    yield m.start("v"), m.end("v"), "CITY", "street_city", 60
        if "#" in text or "no" in words or "number" in words:
            for m in self.re_hash_id.finditer(low) if words & self._hash_first else ():
                yield m.start("v"), m.end("v"), "ID", "hash_id", 64
        for m in self.re_ext_hyphen.finditer(low) if "-" in low else ():
            b = m.start() - (1 if m.group("w") else 0)  # "x6-4471", "ext. 6-4471"
            if low[b - 1 : b] == "e" and m.group("w"):
                b -= 1
            elif m.group("w"):
                continue
            if b == 0 or not (low[b - 1].isalnum() or low[b - 1] in "._"):
                g = "w" if m.group("w") else "v"
                yield m.start(g), m.end(g), "PHONE", "extension_hyphen", 80
        if "lived" in low or "made it" in low or "celebrat" in low or "reached" in low:
            for m in self.re_age_reached.finditer(low):
                if self.re_vital_before.search(low, max(0, m.start() - 24), m.start()):
                    continue  # "sbp made it to 95"
                yield m.start("v"), m.end("v"), "AGE", "age_reached", 73

    def _initials(self, text: str, words: frozenset[str]) -> Iterator[NursingSpan]:
        if not words & self._role_first:
            return
        for m in self.re_initials_before_role.finditer(text):
            v = m.group("v")
            if "." in v or self._initials_ok(v, strict=True):
                yield m.start("v"), m.end("v"), "NAME", "initials_role_nursing", 64
        for m in self.re_initials_paren.finditer(text) if "(" in text else ():
            v = m.group("v")
            if self.re_role_before.search(text, max(0, m.start() - 20), m.start()) and (
                "." in v or self._initials_ok(v, strict=False)
            ):
                yield m.start("v"), m.end("v"), "NAME", "initials_role_nursing", 64

    def _initials_ok(self, v: str, strict: bool) -> bool:
        """Two or three capitals that are no abbreviation; ``strict`` also refuses English words
        (before a role word; in parentheses after one, "(AK)" is a person)."""
        lv = v.lower()
        lex = self.lex
        if lv in self._not_initials or lv in lex.clinical or lv in lex.allow:
            return False
        return not strict or not (lv in lex.english or lv in lex.stop)

    def _round3(self, text: str, low: str, words: frozenset[str]) -> Iterator[NursingSpan]:
        """A state code after a town, a lower-case month alone, staff signatures, a one-word facility
        after a transfer (half C1 of the nursing notes)."""
        lex, w = self.lex, self.w
        if words & self._state_codes:
            # (only where a code stands as a word: two capitals alone, which no match overlaps; word_index)
            for m in cue_matches(self.re_state_code, low, words, self._state_codes, text):
                if m.group("v") not in self._state_upper:
                    continue
                b = m.start("v")
                t = self.re_town_before.search(text, max(0, b - 40), b)
                if not t:
                    continue
                town = t.group("t").split()
                last = town[-1].lower()
                if last in w.nursing_vocabulary or last in lex.clinical or last in lex.stop:
                    continue  # "Head CT", "Chest CT"
                code = m.group("v").lower()
                known = " ".join(town).lower() in lex.places or last in lex.places
                if code in w.initials_role_words:  # "Ahmed Haddad MD", "Jane Kowalski PA"
                    ok = known and last not in lex.names
                elif known:
                    ok = True
                elif "," in text[t.start("t") : b]:  # "Lyme, CT": a comma, a town no everyday word
                    ok = last not in lex.frequent
                else:  # an unknown town: no word, no name, and a code that is no word either
                    ok = (
                        not lex.is_vocabulary(last) and last not in lex.names and code not in _AMBIGUOUS_CODES
                    )
                if ok:
                    yield t.start("t"), t.end("t"), "CITY", "town_state", 62
                    yield b, m.end("v"), "STATE", "town_state", 62
        months = words & _MONTH_SET
        if months - {"may", "mar", "dec"} and words & w.month_alone_cues:
            for m in cue_matches(self.re_month_alone, low, words, self._month_alone_at):
                if text[m.start("v") : m.end("v")].islower():
                    yield m.start("v"), m.end("v"), "DATE", "month_alone", 66
        if "." in text and words & self._role_first:
            for m in self._signature_lines(text):
                g = "v" if m.group("v") else "v2"
                b, e = m.span(g)
                sur = text[b:e].split(".", 1)[1].strip().lower()
                if sur in self._not_initials or sur in self.relative_words or len(sur) < 2:
                    continue
                yield b, e, "NAME", "signature_nursing", 64
        if words & self._transfer_first and (" at " in low or " to " in low):
            for m in self.re_at_to_word.finditer(text):
                b, e = m.span("v")
                v = m.group("v")
                lv = v.lower()
                if (
                    lv in w.nursing_vocabulary
                    or lv in self.relative_words
                    or lv in lex.stop
                    or lv in lex.clinical
                    or lv in lex.allow
                    or lv in lex.frequent
                    or lv in _MONTH_SET
                    or lv in _WEEKDAY_SET
                    or self.re_role_after.match(text, e)
                    or _NEXT_CAP.match(text, e)
                ):
                    continue
                if v[0].isupper():
                    if lv in lex.ordinary and lv not in lex.names:
                        continue
                    s0 = max(low.rfind(".", 0, b), low.rfind("\n", 0, b), low.rfind(";", 0, b)) + 1
                    ends = [i for i in (low.find(".", e), low.find("\n", e), low.find(";", e)) if i >= 0]
                    if not self.re_transfer_cue.search(low, s0, min(ends) if ends else len(low)):
                        continue
                elif not (
                    v.islower()
                    and (lex.is_unknown(lv) or not (lv in lex.ordinary or lv in lex.english))
                    and self.re_lower_facility_cue.search(low, max(0, b - 30), b)
                ):
                    continue
                yield b, e, "HOSPITAL", "transfer_facility", 60

    def _signature_lines(self, text: str) -> Iterator[re.Match[str]]:
        """Signature matches, tried only on lines that start with a dash or end with a role word."""
        i = 0
        for line in text.split("\n"):
            j = i + len(line)
            head = line.lstrip(" \t")
            tail = line.rstrip(" \t.").rsplit(None, 1)
            if head.startswith("-") or (tail and tail[-1].lower() in self.w.initials_role_words):
                yield from self.re_signature.finditer(text, i, j)
            i = j + 1
