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

Round 4 (half C2 of the nursing notes):

* facilities without a facility word after a cue: a national chain ("dialysis at fresenius"), a CMS
  list short name ("works at good samaritan") or acronym ("from BMC"; "(BMC)" after a facility name),
  "X Children's" and X again ("followed at hasbro children's ... at hasbro"), one to three capitalised
  words or one rare lower-case word after a strong cue ("resident of Heritage Hall", "respite at
  hearthstone"), and the name before a facility type word ("from Pine Ridge NH");
* staff: lower-case dotted initials after a role ("charge rn j.s."), a name after a job word or before
  "in" ("atty. walsh", "rt dev in"), two or three letters signing a dash-led line ("- kp rn", "- JKM");
* a landmark where a patient was found ("found down near south station"), "Town, ST" after a place cue
  ("driving from Scranton, PA"), a year after a procedure named by its suffix ("thymectomy 2015").

Round 5 (history lists and dash dates, written from nursing-note usage, not from a dev note):

* a two-digit year right after a procedure or a diagnosis in a history list ("appy 76, cabg 98, mi 92.");
  cue words after which a lab value, a dose or a count follows ("ca", "xrt", "chemo") are left out;
* an m-d date with a dash after an event or a date word ("extubated 3-9", "mtg on 12-2", "Date: 7-30"),
  unless a unit, a count noun or a score follows ("on 2-4 L", "since 2-3 days", "3-4 out of 10");
* a year 1960-1999, which cannot be a clock time (19:60 and on), unless a unit follows or a lab, volume or
  vital word is shortly before it ("I/O 1985", "LDH 1968"); any year right before an event ("1984 appy");
* ages over 89 in apposition ("mother (97, ...)"), initials after a relative ("son JS"), stop-word first
  names in a list of relatives anchored by another first name ("children Will, Hope, and June").

The word lists are data: ``rules/deid/nursing_words.yml`` (schema at its top, validated here: RL202).
The false-positive side of nursing notes is :mod:`reportlab_nlp.deid.note_filter`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..resources import data_path
from .lexicon import Lexicon
from .word_index import cue_matches, lead_firsts
from .word_lists import cue_alt, load_word_lists, parse_word_lists

# (start, end, category, rule, priority)
NursingSpan = tuple[int, int, str, str, int]


@dataclass(frozen=True)
class NursingWords:
    """Each field holds the lower-case words of the key of the same name in ``nursing_words.yml``."""

    year_event_cues: frozenset[str]
    md_event_cues: frozenset[str]
    two_digit_year_event_cues: frozenset[str]
    md_dash_cues: frozenset[str]
    quantity_cues: frozenset[str]
    age_person_words: frozenset[str]
    staff_initials_roles: frozenset[str]
    place_eponym_heads: frozenset[str]
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
    facility_name_heads: frozenset[str]
    facility_strong_cues: frozenset[str]
    facility_weak_cues: frozenset[str]
    facility_short_heads: frozenset[str]
    facility_chains: frozenset[str]
    job_name_cues: frozenset[str]
    role_name_followers: frozenset[str]
    device_heads: frozenset[str]
    clinical_short_forms: frozenset[str]
    score_cues: frozenset[str]
    found_cues: frozenset[str]
    landmark_heads: frozenset[str]
    facility_type_words: frozenset[str]
    generic_facility_words: frozenset[str]
    facility_place_words: frozenset[str]


def parse_nursing_words(doc: object, where: str) -> NursingWords:
    """Validate a parsed ``nursing_words.yml`` document; RL202 names ``where`` and the key."""
    return parse_word_lists(doc, where, NursingWords)


def load_nursing_words(path: str | Path | None = None) -> NursingWords:
    """The shipped word lists, or those of ``path`` (same schema)."""
    return load_word_lists(NursingWords, "nursing_words.yml", path)


_YEAR = r"(?:19[3-9]\d|20[0-3]\d)"
# what may follow a year: no unit, no clock range, no decimal
_YEAR_END = (
    r"(?![\d:/.,]\d|[ \t]*-[ \t]*\d|[ \t]*(?:hrs?|hours|h|ml|mls|cc|mg|mcg|g|gm|gms|kg|lbs?|feet|ft|units?|u"
    r"|kcal|cal|calories|l|%)\b)"
)
_YEAR_END_RX = re.compile(_YEAR_END)
# a history context on the same line before a year that could be a clock time ("PSH: 2011 R TKR")
_HISTORY_BEFORE = re.compile(r"\b(?:pmh|psh|phx|hx|history|h/o|s/p)\b[^\n]*$")
_FIRST_WORD = re.compile(r"[a-z]+")
# cheap pre-checks: a year-like number, an m/d number, a day ordinal
_YEAR_HINT = re.compile(r"(?:19[3-9]|20[0-3])\d")
_MD_HINT = re.compile(r"\d/\d")
_MD_DASH_HINT = re.compile(r"\d-\d")
# round 7 --------------------------------------------------------------------------------------------
_AGE_NUMBER = (
    r"(?:9\d|1[01]\d|ninety(?:[ \t-]+(?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|(?:one[ \t]+|a[ \t]+)?hundred"
    r"(?:[ \t]+(?:and[ \t]+)?(?:one|two|three|four|five|six|seven|eight|nine|ten))?)"
)
_AGE_NUMBER_WORDS = frozenset({"ninety", "hundred"})
_AGE_VERB_WORDS = frozenset({"died", "passed", "who", "will", "he", "she", "age", "aged", "lived"})
# "92yoF", "94yoM", "99y.o.m.", "91yrF": an age glued to its unit and the sex
_AGE_GLUED = re.compile(r"(?<![\w.])(?P<v>9\d|1[01]\d)(?:yo|y/o|y\.o\.|yr|yrs)(?:[mf]\.?)?(?![a-z])")
# "died at 96", "who is 98", "will be one hundred", "age ninety", "he's 100"
_AGE_AFTER_VERB = re.compile(
    r"\b(?:died[ \t]+at|passed(?:[ \t]+away)?[ \t]+at|who[ \t]+is|will[ \t]+be|he['’]s|she['’]s|aged?"
    r"|lived[ \t]+to)"
    r"[ \t]+(?:now[ \t]+)?(?P<v>" + _AGE_NUMBER + r")"
    r"(?=[ \t]*(?:[,);]|\.(?!\d)|$|(?:and|but|yo|y/o|years?|yrs?|next|this|in|of|from)\b))"
)
# an m/d range: "Vanc 3/2-3/9", "8/1 - 8/4"
_MD = r"(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])"
_MD_RANGE = re.compile(r"(?<![\w/.])(?P<a>" + _MD + r")[ \t]*[-–][ \t]*(?P<b>" + _MD + r")(?![\w/]|\.\d)")
_MD_RANGE_HINT = re.compile(r"\d/\d{1,2}[ \t]*[-–][ \t]*\d")
# "Worcester County", "Essex County sheriff"
_COUNTY = re.compile(r"\b(?P<n>[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)?)[ \t]+County\b")
# "Drs. Patel and Cho", "Drs Kim, Lowe and Gupta"
_DRS_LIST = re.compile(
    r"\bDrs\.?[ \t]+(?P<names>[A-Z][A-Za-z'’-]+(?:[ \t]*,[ \t]*[A-Z][A-Za-z'’-]+)*"
    r"(?:[ \t]*,?[ \t]+(?:and|&)[ \t]+[A-Z][A-Za-z'’-]+)?)"
)
_BY_VERBS = frozenset(
    {"done", "seen", "placed", "drawn", "changed", "given", "reviewed", "witnessed", "checked"}
)
_INITIALS_AFTER_BY = re.compile(
    r"\b(?i:done|seen|placed|drawn|changed|given|reviewed|witnessed|checked)[ \t]+(?i:by)[ \t]+"
    r"(?P<v>[A-Z]{2,3})(?![\w.])"
)
# decade ages: "early nineties", "in his 90's", "her mid-90s" (no vitals: a person's decade only)
_DECADE_CUES = frozenset({"his", "her", "their", "early", "mid", "late"})
_AGE_DECADE = re.compile(
    r"\b(?:(?:his|her|their)[ \t]+(?:early[ \t]+|mid[ \t-]*|late[ \t]+)?|(?:early|mid|late)[ \t-]+)"
    r"(?P<v>nineties|90['’]?s)\b"
)
# an identifier mixing letters and digits after "#" or a plate cue ("machine #DS500-7734A", "plate 7KXB412")
_PLATE_CUES = frozenset({"plate", "plates", "vin", "permit", "license", "licence", "tag"})
_ALNUM = r"(?P<v>(?=[A-Z0-9-]*[A-Z])(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,}[A-Z0-9])(?![\w-])"
_HASH_ALNUM_ID = re.compile(r"#[ \t]*" + _ALNUM)
_PLATE_ID = re.compile(
    r"(?<![\w/])(?i:plate|plates|vin|permit|license|licence|tag)[ \t]*(?:#|no\.?|number)?[ \t]*:?[ \t]*"
    + _ALNUM
)
# a phone number with letters ("(413) 555-TOWN", "1-800-FLOWERS")
_PHONE_LETTERS = re.compile(
    r"(?<![\w-])(?:1-)?(?:\(\d{3}\)[ \t]?|\d{3}-)(?:\d{3}-[A-Z]{4}|[A-Z]{7})(?![\w-])"
)
_PHONE_LETTERS_HINT = re.compile(r"-[A-Z]{4}|\)[ \t]?[A-Z]{7}")
# a phone number read out in words ("eight one two five five five oh one nine three", "six one seven - 555")
_DIGIT_WORDS = frozenset("zero oh one two three four five six seven eight nine".split())
_DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_PHONE_SPOKEN = re.compile(
    r"\b" + _DIGIT_WORD + r"(?:[ \t]*-?[ \t]*(?:" + _DIGIT_WORD + r"\b|\d{1,4}(?!\d|\.\d)))+"
)
# a line break and a capitalised word (where a wrapped cue's name may stand), and that name
# a first name at a line end and its surname on the next line ("Dr. Theodore\nAbernethy-Lowe")
_NAME_OVER_LINE = re.compile(
    r"(?<![\w'’-])(?P<a>[A-Z][a-z]+)[ \t]*\r?\n[ \t]*(?P<b>[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?)"
    r"(?=[ \t]*(?:$|[,.;:(]|\n))",
    re.M,
)
_WRAP_TITLES = frozenset({"dr", "drs", "doctor", "mr", "mrs", "ms"})
_NEXT_LINE_NAME = re.compile(r"\n[ \t]*(?=[A-Z][a-z])")
_WRAPPED_NAME = re.compile(r"(?P<v>[A-Z][a-z'’-]+(?:[ \t]+[A-Z][a-z'’-]+)?)(?![\w'’-])")
_NICKNAME_CUES = frozenset({"nickname", "goes", "prefers", "likes", "calls"})
_NICKNAME = re.compile(
    r"(?<![\w/])(?i:nickname(?:[ \t]+is)?|goes[ \t]+by|prefers[ \t]+(?:to[ \t]+be[ \t]+called[ \t]+)?"
    r"|likes[ \t]+to[ \t]+be[ \t]+called|calls[ \t]+(?:him|her)(?:self)?)[ \t:,]*"
    r"[\"“'‘](?P<v>[A-Z][a-z]+(?:[ \t][A-Z][a-z]+)?)[\"”'’]"
)
# a copied-forward log line that opens with its date: "2/3 - extubated", "11/14: family mtg"
_LOG_LINE_DATE = re.compile(
    r"^[ \t]*(?:[-*•][ \t]*)?(?P<v>(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01]))"
    r"[ \t]*(?:[-–:]|--)[ \t]*[A-Za-z]",
    re.M,
)


def _score_like(md: str) -> bool:
    """ "5/5", "3/10", "2/6", "2/2": a strength, pain, murmur or bottle count (value over its scale)."""
    a, b = md.split("/")
    return int(b) in (2, 4, 5, 6, 10) and int(a) <= int(b)


_LOG_HINT = re.compile(r"(?m)^[ \t]*(?:[-*•][ \t]*)?\d{1,2}/\d")
# an acronym of a medical center: capitals ending in "MC" ("MVMC", "BMC"; not "IMC", "CMC": unit, joint)
_MC_ACRONYM = re.compile(r"(?=[A-Z])(?<![\w-])(?P<v>[A-Z]{1,4}MC)(?![\w-])")
# a numbered road: "Route 9", "Rte 128", "Hwy 1", "I-95"
_ROUTE = re.compile(
    r"\b(?:Route|Rte\.?|Highway|Hwy\.?|Interstate)[ \t]+\d{1,3}[A-Z]?\b"
    r"|\b(?:on|off|via|from|near|onto|exit|down|up)[ \t]+(?P<i>I-\d{1,3})\b"
)
_ROUTE_WORDS = frozenset({"route", "rte", "highway", "hwy", "interstate", "i"})
# 1960-1999 cannot be a clock time (19:60 and on): a year unless a quantity it is ("1980 cc")
_YEAR_NO_CLOCK = re.compile(r"(?=1)(?<![\w/@.$#:,+-])(?P<y>19[6-9]\d)(?![\w%]|[.,:/]\d|[ \t]*[-/][ \t]*\d)")
_YEAR_NO_CLOCK_HINT = re.compile(r"19[6-9]\d")
# what may follow a two-digit year in a history list: a separator, the end, a joining word
_YY_END = r"(?=[ \t]*(?:[,;:)]|\.(?!\d)|$|and\b|&|w/|with\b|for\b|at\b|after\b|when\b|complicated\b|s/p\b))"
# what may not follow an m-d date with a dash: a count or unit ("2-3 days", "1-2 L", "2-4 mg"),
# a plural noun ("3-4 episodes"; not "was", "is", "has", "as", "this", "his", "us"), a score or ratio
_MD_DASH_END = (
    r"(?![\w/+%-]|\.\d|[ \t]*(?i:[-+x/%]|(?!(?:was|is|has|as|this|his|us)\b)[a-z]+s\b|"
    r"(?:mg|mcg|ml|cc|l|lpm|g|kg|lb|meq|units?|u|amps?|min|mins|h|hr|hrs|hour|day|wk|week|mo|month|yr|year"
    r"|time|dose|tab|point|beat|breath|liter|litre|bag|unit|cm|mm|cmh2o|cmh20|mmhg|inch|ft|fr|french|gy|out|of|or|to)\b))"
)
_AGE_HINT = re.compile(r"(?<!\d)(?:9\d|1[01]\d)(?!\d)")
# the words before "the" and a day ordinal ("until the 3rd"); the rule is tried where one stands
_ORDINAL_CUES = tuple("for on until till til by before after since from".split())
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
_DIRECTIONS = frozenset({"north", "south", "east", "west", "central", "downtown", "back", "old", "new"})
# what follows "ROLE name in" or "ROLE name (" when the name is a person: "tech raj in @ 0545", "rt dev in,"
_AFTER_IN = re.compile(r"[ \t]*(?:[,.;:@\n(]|$|\d|(?:to|for|at|and|w/|with)\b|&|-)")
_PROC_HINTS = ("ectom", "otom", "ostom", "plast", "pexy", "oscop")  # "in" tests, faster than a regex
_NAME_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’.&-]*")
_CAP_WORD = re.compile(r"[A-Z][a-z'’&-]+")
_FACILITY_END = re.compile(r"[ \t]*(?:[.,;:)(!?\n]|$)")


def _cued_on_text(
    rx: re.Pattern[str], text: str, low: str, words: frozenset[str], firsts: frozenset[str] | None
) -> Iterator[re.Match[str]]:
    """``rx.finditer(text)`` for a pattern led by a case-insensitive cue (``(?i:...)``), tried only where a
    cue's first word stands (:func:`cue_matches`). Only for an ASCII text: ``re`` folds 'ſ', 'K', 'İ' and
    'ı' to ASCII letters that ``low`` does not hold there, so any other text gets the whole-text scan."""
    if text.isascii():
        return cue_matches(rx, low, words, firsts, text)
    return rx.finditer(text)


def _cms_short_names(
    lex: Lexicon, heads: frozenset[str]
) -> tuple[frozenset[tuple[str, ...]], frozenset[str]]:
    """Short names and acronyms of the CMS hospital list (``hospitals_cms.txt``).

    A short name is the two or three words before the first facility word of a list name ("good
    samaritan" of "Good Samaritan Medical Center") that are no clinical or stop word and no town; an
    acronym is the initials of a list name of three or four words ("bmc" of "Boston Medical Center"),
    kept when it is no clinical abbreviation, ordinary word or stop word. One-word short names are
    the hospital list's own head words (``hospital_list.py``)."""
    key = (id(lex), heads)
    hit = _SHORT_CACHE.get(key)
    if hit is not None:
        return hit
    from .hospital_list import TOKEN, norm_token

    shorts: set[tuple[str, ...]] = set()
    acronyms: set[str] = set()
    path = data_path("rules", "deid", "hospitals_cms.txt")
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if not line:
            continue
        toks = [norm_token(t) for t in TOKEN.findall(line.split(",")[0].split(" - ")[0])]
        k = 0
        while k < len(toks) and toks[k] not in heads:
            k += 1
        short = tuple(toks[:k])
        if (
            2 <= len(short) <= 3
            and all(len(t) >= 2 and t not in lex.clinical and t not in lex.stop for t in short)
            and " ".join(short) not in lex.places
        ):
            shorts.add(short)
        sig = [t for t in toks if t not in ("of", "the", "and", "inc", "&")]
        if 3 <= len(sig) <= 4:
            a = "".join(t[0] for t in sig)
            if a.isalpha() and a not in lex.clinical and a not in lex.stop and a not in lex.ordinary:
                acronyms.add(a)
    out = (frozenset(shorts), frozenset(acronyms))
    _SHORT_CACHE.clear()
    _SHORT_CACHE[key] = out
    return out


_SHORT_CACHE: dict[tuple[int, frozenset[str]], tuple[frozenset[tuple[str, ...]], frozenset[str]]] = {}


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
        self.re_year = re.compile(r"(?=[12])(?<![\w/@.-])(?P<y>" + _YEAR + r")\b" + _YEAR_END)
        self.re_event_before = re.compile(
            r"(?<![\w/])" + cue_alt(w.year_event_cues) + r"(?:[ \t]+x[ \t]*\d)?"
            r"(?:[ \t]+(?:to|of)[ \t]+(?:the[ \t]+)?[a-z][a-z/-]*)?[ \t]*[,:]?[ \t]+$"  # "pci to rca 2009"
        )
        self._event_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.year_event_cues)
        # an m/d number first (rare), then its event cue in the 60 characters before it
        self.re_md = re.compile(
            r"(?=\d)(?<![\w/])(?P<v>(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01]))"
            r"(?![\w/]|\.\d|[ \t]*(?:strength|murmur|pain))"
        )
        self.re_md_event_before = re.compile(
            r"(?<![\w/])(?i:" + cue_alt(w.md_event_cues) + r"(?:[ \t]+(?:on|from|to|at|in|for))?)"
            r"(?:[ \t]+[A-Z][A-Za-z'’-]+){0,3}[ \t]*:?[ \t]+$"
        )
        self._md_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.md_event_cues)
        # a year right before an event ("1987 CABG", "2009 colectomy")
        self.re_year_before_event = re.compile(
            r"(?=[12])(?<![\w/@.$#:,+-])(?P<y>"
            + _YEAR
            + r")[ \t]+"
            + cue_alt(w.year_event_cues)
            + r"(?![\w-])"
        )
        self.re_quantity_before = re.compile(
            r"(?<![\w/])" + cue_alt(w.quantity_cues | w.vital_cues) + r"(?![\w])[^.;\n]{0,24}$"
        )
        # two-digit years right after a procedure or a diagnosis ("cabg 98", "appy '76", "mi 92.")
        self.re_event_yy = re.compile(
            r"(?<![\w/])" + cue_alt(w.two_digit_year_event_cues) + r"(?:[ \t]+x[ \t]*\d)?[ \t]*,?[ \t]+"
            r"(?:in[ \t]+)?(?P<y>['’]?\d{2})(?![\w'’%]|[./-]\w)" + _YY_END,
            re.M,
        )
        self._yy_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.two_digit_year_event_cues)
        self._yy_at = lead_firsts(w.two_digit_year_event_cues)  # tried where a cue's first word stands
        # m-d with a dash after an event or a date word ("extubated 3-4", "on 2-14", "Date: 11-28")
        self.re_md_dash = re.compile(
            r"(?=\d)(?<![\w/.-])(?P<v>(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01]))" + _MD_DASH_END
        )
        self.re_md_dash_before = re.compile(
            r"(?<![\w/])(?i:"
            + cue_alt(w.md_event_cues | w.md_dash_cues)
            + r"(?:[ \t]+(?:on|from|to|at|in|for))?)"
            r"(?:[ \t]+[A-Z][A-Za-z'’-]+){0,3}[ \t]*:?[ \t]+$"
        )
        self._md_dash_first = self._md_first | frozenset(_FIRST_WORD.findall(c)[0] for c in w.md_dash_cues)
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
            r"(?P<v>[A-Z](?<![\w.].)(?:\.(?:[A-Z]\.){1,2}|[A-Z]{1,2}))[ \t]*,?[ \t]+(?i:"
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
        # an age over 89 in apposition to a person ("mother (97, lives w/ her)", "dad, 94, at bedside")
        self.re_apposed_age = re.compile(
            r"\b" + cue_alt(relative_words | w.age_person_words) + r"(?:[ \t]*\([ \t]*|[ \t]*,[ \t]*"
            r"|[ \t]+(?:is|was|turns|turned|will[ \t]+be|just[ \t]+turned)[ \t]+(?:now[ \t]+)?)"
            r"(?P<v>9\d|1[01]\d)(?:[ \t]*(?:yo|y/o|y\.o\.|yrs?(?:[ \t]+old)?|years?[ \t]+old))?[ \t]*"
            r"(?=[,);]|\.(?!\d)|[ \t]+(?:and|but|&|w/|with|yesterday|today|this|last|next|on)\b|$)"
        )
        self._age_person_first = frozenset(
            _FIRST_WORD.findall(c)[0] for c in relative_words | w.age_person_words if _FIRST_WORD.findall(c)
        )
        self._age_person_at = lead_firsts(relative_words | w.age_person_words)
        # a word that names an identifier before "#" ("machine #DS500-7734A", "claim # WC-2023-1184")
        self.re_hash_cue_before = re.compile(
            r"\b"
            + cue_alt(w.hash_id_cues | {"machine", "device", "equipment", "implant", "unit"})
            + r"[ \t:]*$"
        )
        # initials right after a relative word ("son JS", "dtr K.M.")
        self.re_relative_initials = re.compile(
            r"(?<![\w/])(?i:" + cue_alt(relative_words) + r")[ \t]+(?:\([ \t]*)?"
            r"(?P<v>(?:[A-Z]\.[ \t]?){1,2}[A-Z]\.|[A-Z]{2,3})(?![\w.])"
        )
        # names before their relative word in parentheses: "Bill (husband)", "Ann, Tom and Lucy (children)"
        self.relative_words_all = frozenset(relative_words) | w.relatives_plural
        name = r"[A-Za-z][a-z'’]+"
        self.re_name_before_relative = re.compile(
            r"(?<![\w'’])(?P<a>" + name + r")(?:[ \t]*,[ \t]*(?P<b>" + name + r"))?"
            r"(?:[ \t]*,?[ \t]+(?:and|&)[ \t]+(?P<c>" + name + r"))?[ \t]*$"
        )
        self.re_relative_paren = re.compile(r"\([ \t]*(?i:" + cue_alt(self.relative_words_all) + r")[ \t]*\)")
        # a cue at the end of a line and the name on the next line (hard-wrapped notes): "seen by Dr.\nSmith",
        # "called wife\nMary"; the name capitalised, two words at most
        wrap_cues = (
            {"dr", "dr.", "drs", "drs.", "doctor", "mr", "mr.", "mrs", "mrs.", "ms", "ms."}
            | set(relative_words)
            | w.name_role_cues
            | {"with", "w/", "per", "by", "called", "paged", "notified", "d/w", "c/w", "s/w"}
        )
        self.re_wrapped_cue = re.compile(r"(?<![\w/])(?i:" + cue_alt(wrap_cues) + r")[ \t]*,?[ \t]*\r?$")
        # initials right after a staff role ("day RN JK at 1900", "per NP AB")
        self.re_staff_initials = re.compile(
            r"(?<![\w/])(?i:" + cue_alt(w.staff_initials_roles) + r")[ \t]+(?P<v>[A-Z]{2,3})(?![\w.])"
        )
        self._staff_role_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.staff_initials_roles)
        self._staff_role_at = lead_firsts(w.staff_initials_roles)
        self._relative_at = lead_firsts(relative_words)
        self.re_day_ordinal = re.compile(
            r"\b(?:" + "|".join(_ORDINAL_CUES) + r")[ \t]+the[ \t]+"
            r"(?P<v>(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th))\b"
            r"(?=[ \t]*(?:[.,;:()!?]|$|\n|-|–|and\b|or\b|at\b|w/|with\b|but\b|so\b|when\b|if\b|as\b"
            r"|(?:showed|revealed|noted|was|were|is|done|performed|scheduled|planned)\b))",
            re.M,
        )
        self._ordinal_at = lead_firsts(_ORDINAL_CUES)
        self.re_clergy = re.compile(
            r"(?<![\w.])(?:" + "|".join(re.escape(t.capitalize()) for t in sorted(w.clergy_titles)) + r")\.?"
            r"[ \t]+(?P<v>[A-Z][a-z'’-]+(?:[ \t]+[A-Z][a-z'’-]+)?)"
        )
        # an identifier shape first, then a specimen cue up to 40 characters before it
        self.re_specimen_id = re.compile(
            r"(?=[A-Z])(?<![\w-])(?P<v>[A-Z]{1,3}-?\d{2}-\d{3,8}|[A-Z]{1,3}\d{6,10})(?![\w-])"
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
        cues = set(relative_words) | w.name_role_cues | w.job_name_cues
        self.re_cue_name = re.compile(
            r"(?<![\w/-])"
            + cue_alt(cues)
            + r"\.?(?:[ \t]*[,:]?[ \t]+(?P<p>\(?)|[ \t]*(?P<q>\())[ \t]*(?P<v>[a-z][a-z'’]*[a-z])(?![\w/'’-])"
            r"(?P<a>[ \t]*(?:\)|\(|,|;|&|and\b|[a-z/]+))?"
        )
        self._cue_first = frozenset(_FIRST_WORD.findall(c)[0] for c in cues)
        self._cue_at = lead_firsts(cues)  # tried where a cue's first word stands (word_index)
        self._role_cues = w.name_role_cues | w.job_name_cues

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
        self._at_to = frozenset({"at", "to"})  # tried where "at" or "to" stands as a word (word_index)
        self.re_transfer_cue = re.compile(r"(?<![\w/])" + cue_alt(w.transfer_cues) + r"(?![\w])")
        self._transfer_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.transfer_cues)
        self.re_lower_facility_cue = re.compile(r"(?<![\w/])" + cue_alt(w.lower_facility_cues) + r"[ \t]+$")
        self.re_role_after = re.compile(r"[ \t]+(?i:" + roles + r")(?![\w])")

        # round 4 -----------------------------------------------------------
        # a facility after a cue: strong cues take one to three words in any case, weak ones ("at")
        # a chain, a capitalised CMS short name, a list acronym or "X Children's"
        self._short_names, self._acronyms = _cms_short_names(lex, w.facility_name_heads)
        self._chains = {tuple(c.split()) for c in w.facility_chains}
        fac_cues = w.facility_strong_cues | w.facility_weak_cues
        self.re_facility_cue = re.compile(
            r"(?<![\w/])(?i:" + cue_alt(fac_cues) + r")[ \t]+(?:the[ \t]+)?"
            r"(?P<v>[A-Za-z][A-Za-z'’.&-]*(?:[ \t]+[A-Za-z][A-Za-z'’&-]*){0,2})"
        )
        self._strong_cue_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.facility_strong_cues)
        self._strong_literals = tuple(sorted(w.facility_strong_cues))  # "in" tests before the regex
        self.re_strong_cue = re.compile(r"(?<![\w/])" + cue_alt(w.facility_strong_cues) + r"[ \t]+")
        # the words that can start a facility after a weak cue, everyday words left out ("greater", "st"):
        # their names need a strong cue
        self._weak_keys = frozenset(
            k
            for k in (
                {c[0].rstrip(".") for c in self._chains}
                | {n[0] for n in self._short_names}
                | self._acronyms
                | {h.replace("'", "").replace("’", "") for h in w.facility_short_heads}
                | {"children"}
            )
            if k not in lex.frequent
        )
        self.re_weak_cue_before = re.compile(
            r"(?<![\w/])(?:at|from|to)[ \t]+(?:the[ \t]+)?(?:[a-z'’-]+[ \t]+)?$"
        )
        self._not_facility_word = (
            w.nursing_vocabulary | w.residence_not_first | relative_words | _MONTH_SET | _WEEKDAY_SET
        )
        # "(BMC)" right after a capitalised facility name whose initials it is: the parenthesis first
        self.re_paren_caps = re.compile(r"\([ \t]*[A-Z]{2,5}[ \t]*\)")
        self.re_paren_acronym = re.compile(
            r"(?<![\w'’])(?P<n>(?:[A-Z][A-Za-z'’]+[ \t]+){1,4}[A-Z][A-Za-z'’]+)"
            r"[ \t]*\([ \t]*(?P<v>[A-Z]{2,5})[ \t]*\)"
        )
        # lower-case dotted initials after a role word ("charge rn j.s. aware"): the initials first
        self.re_dotted_low = re.compile(r"(?<=[ \t])[a-z]\.[ \t]?[a-z]\.(?:[ \t]?[a-z]\.)?(?![\w])")
        self.re_role_dotted = re.compile(
            r"(?<![\w])" + roles + r"[ \t]+(?P<v>[a-z]\.[ \t]?[a-z]\.(?:[ \t]?[a-z]\.)?)(?![\w])"
        )
        # a signature of two or three letters on a dash-led line, before a role word ("- kp rn") or alone
        # on the last line of the note ("- JKM")
        self.re_sig_initials = re.compile(
            r"^[ \t]*-{1,3}[ \t]*(?P<v>[A-Za-z]{2,3})(?:[ \t]*,?[ \t]+(?i:" + roles + r")\.?)?[ \t]*$", re.M
        )
        # a year after a procedure named by its suffix ("thymectomy 2015", "tracheostomy 2019")
        self.re_procedure_year = re.compile(
            r"(?<![\w/])[a-z]+(?:ectomy|otomy|ostomy|plasty|pexy|oscopy|ectomies)[ \t]*[,:]?[ \t]+$"
        )
        # a landmark where a patient was found ("found down near south station", "found outside Fenway
        # Park"): one or two name words and a landmark head
        self.re_landmark = re.compile(
            r"(?<![\w])(?i:" + cue_alt(w.found_cues) + r")[ \t]+(?:the[ \t]+)?"
            r"(?P<v>[A-Za-z][A-Za-z'’-]*(?:[ \t]+[A-Za-z][A-Za-z'’-]*)?[ \t]+(?i:"
            + cue_alt(w.landmark_heads)
            + r"))(?![\w'’-])"
        )
        # a facility name before its type word ("from Pine Ridge NH", "at sunrise assisted living")
        self.re_named_type = re.compile(
            r"(?<![\w/])(?i:at|from|to|of|in)[ \t]+(?:the[ \t]+)?"
            r"(?P<v>[A-Za-z][A-Za-z'’-]*(?:[ \t]+[A-Za-z][A-Za-z'’-]*){0,2}?)[ \t]+"
            r"(?i:" + cue_alt(w.facility_type_words) + r")(?![\w'’-])"
        )
        self._type_first = frozenset(_FIRST_WORD.findall(c)[0] for c in w.facility_type_words)
        # a comma form "Town, ST" after a place cue ("driving from Scranton, PA")
        self.re_place_cue_before = re.compile(
            r"(?i:\b(?:from|in|of|near|lives[ \t]+in|moved[ \t]+(?:to|from)|resident[ \t]+of))[ \t]+$"
        )

    # -------------------------------------------------------------- rules
    def spans(
        self, text: str, low: str, words: frozenset[str], relative_names: Iterable[str] = ()
    ) -> Iterator[NursingSpan]:
        events = bool(words & self._event_first)
        procs = any(h in low for h in _PROC_HINTS)
        if (events or procs or ")" in text) and _YEAR_HINT.search(text):
            for m in self.re_year.finditer(low):
                b, e = m.start("y"), m.end("y")
                if (events and self.re_event_before.search(low, max(0, b - 40), b)) or (
                    procs and self.re_procedure_year.search(low, max(0, b - 40), b)
                ):
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
        if "-" in text and words & self._md_dash_first and _MD_DASH_HINT.search(text):
            for m in self.re_md_dash.finditer(text):
                if self.re_md_dash_before.search(text, max(0, m.start() - 60), m.start()):
                    yield m.start("v"), m.end("v"), "DATE", "md_dash_event", 75
        if _YEAR_NO_CLOCK_HINT.search(text):
            for m in _YEAR_NO_CLOCK.finditer(low):
                b = m.start("y")
                if not _YEAR_END_RX.match(low, m.end()) or self.re_quantity_before.search(
                    low, max(0, b - 34), b
                ):
                    continue
                yield b, m.end(), "DATE", "year_no_clock", 67
        if events and _YEAR_HINT.search(text):
            for m in self.re_year_before_event.finditer(low):
                y = m.group("y")
                if (
                    int(y[2:]) < 60
                    and int(y[:2]) < 24
                    and not _HISTORY_BEFORE.search(low, max(0, m.start() - 80), m.start())
                ):
                    continue  # "2030 passed large BM", "2000 stroke alert": a clock time opens the line
                yield m.start("y"), m.end("y"), "DATE", "year_before_event", 67
        if words & self._yy_first:
            for m in cue_matches(self.re_event_yy, low, words, self._yy_at):
                yield m.start("y"), m.end("y"), "DATE", "event_two_digit_year", 68
        yield from self._relatives(text, low, words, relative_names)
        yield from self._initials(text, words)
        yield from self._dates_round2(text, low, words)
        yield from self._places_ids_ages(text, low, words)
        yield from self._round3(text, low, words)
        yield from self._round4(text, low, words)
        yield from self._round6(text, low, words)
        yield from self._round7(text, low, words)
        for m in (
            self.re_birthday.finditer(low) if ("birthday" in low or "bday" in low or "turn" in low) else ()
        ):
            g = "v" if m.group("v") else "t"
            yield m.start(g), m.end(g), "AGE", "birthday_age", 73
        if words & self.relative_words:
            for m in _cued_on_text(self.re_relative_initials, text, low, words, self._relative_at):
                v = m.group("v")
                lw = v.replace(".", "").replace(" ", "").lower()
                if lw not in self._not_initials and ("." in v or not self._word_in_caps(lw, text)):
                    yield m.start("v"), m.end("v"), "NAME", "relative_initials", 60
        if (
            ("(" in text or "," in text or " is " in low or " was " in low or " turn" in low or " be " in low)
            and (words & self._age_person_first)
            and _AGE_HINT.search(text)
        ):
            for m in cue_matches(self.re_apposed_age, low, words, self._age_person_at):
                yield m.start("v"), m.end("v"), "AGE", "apposed_age", 73
        if " the " in low and _ORDINAL_HINT.search(low):
            for m in cue_matches(self.re_day_ordinal, low, words, self._ordinal_at):
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
                members = [g for g in ("a", "b", "c") if m.group(g)]
                firsts = [g for g in members if m.group(g) in lex.first_names]
                # a first name that is also a stop word ("Will", "June", "May") counts when another
                # member of the list is a first name that is no stop word ("children Will, Hope, and June")
                anchored = any(m.group(g) not in lex.stop for g in firsts)
                for g in firsts:
                    v = m.group(g)
                    if (v not in lex.stop or (anchored and len(firsts) == len(members))) and (
                        v not in self.relative_words
                    ):
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
            cue = low[m.start() : m.start("v")].rstrip(" \t(,:.")
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
            if (
                role
                and a in w.role_name_followers
                and v not in lex.frequent
                and _AFTER_IN.match(low, m.end())
            ):
                confirmed = True  # "rt dev in, ...", "atty. walsh (508-...)"; not "rt vent in use"
            elif a == "(":
                confirmed = False
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
                    ok = (
                        known
                        and (
                            last not in lex.names
                            or (  # "driving from Scranton, PA": a comma and a place cue before the town
                                "," in text[t.start("t") : b]
                                and not any(x.lower() in lex.first_names for x in town)  # "Tom Cameron, MD"
                                and self.re_place_cue_before.search(
                                    text, max(0, t.start("t") - 30), t.start("t")
                                )
                                is not None
                            )
                        )
                    )
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
            for m in cue_matches(self.re_at_to_word, low, words, self._at_to, text):
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

    def _round7(self, text: str, low: str, words: frozenset[str]) -> Iterator[NursingSpan]:
        """Round 7 (a phenomenon battery): more age forms, m/d ranges, a name before its relative word in
        parentheses, counties, "Drs." lists, initials after "done by", nicknames."""
        if ("yo" in low or "y/o" in low or "y.o" in low or "yr" in low) and _AGE_HINT.search(text):
            for m in _AGE_GLUED.finditer(low):
                yield m.start("v"), m.end("v"), "AGE", "age_glued", 73
        if words & _AGE_VERB_WORDS and (_AGE_HINT.search(text) or words & _AGE_NUMBER_WORDS):
            for m in cue_matches(_AGE_AFTER_VERB, low, words, _AGE_VERB_WORDS):
                yield m.start("v"), m.end("v"), "AGE", "age_after_verb", 73
        if "/" in text and _MD_RANGE_HINT.search(text):
            for m in _MD_RANGE.finditer(text):
                a, b = m.group("a").split("/"), m.group("b").split("/")
                if a[1] == b[1] and int(a[0]) <= int(a[1]) and int(b[0]) <= int(b[1]):
                    continue  # "4/5-5/5", "3/10-5/10", "TOF 2/4-4/4": a range of scores
                yield m.start("a"), m.end("a"), "DATE", "md_range", 74
                yield m.start("b"), m.end("b"), "DATE", "md_range", 74
        if "(" in text and words & self.relative_words_all:
            for p in self.re_relative_paren.finditer(text):
                m = self.re_name_before_relative.search(text, max(0, p.start() - 60), p.start())
                if not m:
                    continue
                for g in ("a", "b", "c"):
                    v = m.group(g)
                    if v and v.lower() in self.lex.first_names and v.lower() not in self.relative_words_all:
                        yield m.start(g), m.end(g), "NAME", "name_before_relative", 60
        if "County" in text:
            for m in _COUNTY.finditer(text):
                if not self.lex.is_blocked(m.group("n").split()[0]):
                    yield m.start(), m.end(), "LOCATION", "county", 66
        if "Drs" in text:
            for m in _DRS_LIST.finditer(text):
                for part in re.finditer(r"[A-Z][A-Za-z'’-]+", m.group("names")):
                    lp = part.group().lower()
                    if not self.lex.is_vocabulary(lp) or lp in self.lex.names:
                        b = m.start("names") + part.start()
                        yield b, b + len(part.group()), "NAME", "drs_list", 62
        if words & _BY_VERBS and " by " in low:
            for m in _cued_on_text(_INITIALS_AFTER_BY, text, low, words, _BY_VERBS):
                if m.group("v").lower() not in self._not_initials:
                    yield m.start("v"), m.end("v"), "NAME", "initials_after_by", 60
        for m in _NAME_OVER_LINE.finditer(text) if "\n" in text else ():
            a, b = m.group("a"), m.group("b")
            la, lb = a.lower(), b.lower()
            if (
                la in self.lex.first_names
                and not self.lex.is_vocabulary(la)
                and not self.lex.is_vocabulary(lb.split("-")[0])
                and lb.split("-")[0] in self.lex.last_names
            ):
                yield m.start("a"), m.end("a"), "NAME", "name_over_line", 60
                yield m.start("b"), m.end("b"), "NAME", "name_over_line", 60
        for nl in _NEXT_LINE_NAME.finditer(text) if "\n" in text else ():
            m = _WRAPPED_NAME.match(text, nl.end())
            cue = self.re_wrapped_cue.search(text, max(0, nl.start() - 24), nl.start()) if m else None
            if not m or not cue:
                continue
            title = cue.group().strip(" \t,\r").rstrip(".").lower() in _WRAP_TITLES
            if not title and m.group("v").split()[0].lower() not in self.lex.names:
                continue  # after a role or a verb a line away, a listed name only
            keep: list[str] = []
            for t in m.group("v").split():
                lt = t.lower()
                if self.lex.is_blocked(lt) or (self.lex.is_vocabulary(lt) and lt not in self.lex.names):
                    break
                keep.append(t)
            if keep:
                b = m.start("v")
                yield b, b + len(" ".join(keep)), "NAME", "wrapped_cue_name", 60
        if "nineties" in low or "90s" in low or "90's" in low or "90’s" in low:
            for m in cue_matches(_AGE_DECADE, low, words, _DECADE_CUES):
                yield m.start("v"), m.end("v"), "AGE", "age_decade", 72
        for m in _HASH_ALNUM_ID.finditer(text) if "#" in text else ():
            if self.re_hash_cue_before.search(low, max(0, m.start() - 24), m.start()):
                yield m.start("v"), m.end("v"), "ID", "alnum_id", 64
        for m in _cued_on_text(_PLATE_ID, text, low, words, _PLATE_CUES) if words & _PLATE_CUES else ():
            yield m.start("v"), m.end("v"), "ID", "alnum_id", 64
        if "-" in text and _PHONE_LETTERS_HINT.search(text):
            for m in _PHONE_LETTERS.finditer(text):
                yield m.start(), m.end(), "PHONE", "phone_letters", 66
        if len(words & _DIGIT_WORDS) >= 2:
            for m in _PHONE_SPOKEN.finditer(low):
                digits = sum(
                    len(t) if t.isdigit() else 1 for t in re.findall(r"\d+|[a-z]+", m.group()) if t != "-"
                )
                if digits in (7, 10, 11) and len(_DIGIT_WORDS.intersection(m.group().split())) >= 2:
                    yield m.start(), m.end(), "PHONE", "phone_spoken", 66
        if words & _NICKNAME_CUES and ('"' in text or "'" in text or "“" in text or "‘" in text):
            for m in _cued_on_text(_NICKNAME, text, low, words, _NICKNAME_CUES):
                yield m.start("v"), m.end("v"), "NAME", "nickname", 61

    def _word_in_caps(self, lw: str, text: str) -> bool:
        """Two or three capitals that are a word ("RN GOT REPORT", "NP SAW PT", "Son EMT"), or any
        capitals in a note written in capitals: no initials."""
        if lw in self.lex.stop or lw in self.lex.english or lw in self.lex.clinical:
            return True
        letters = [c for c in text if c.isalpha()]
        return sum(c.isupper() for c in letters) > 0.6 * len(letters)

    def _round6(self, text: str, low: str, words: frozenset[str]) -> Iterator[NursingSpan]:
        """Round 6 (sparse notes): dated log lines, "...MC" hospital acronyms, numbered routes, initials
        after a staff role."""
        if "/" in text and _LOG_HINT.search(text):
            found = list(_LOG_LINE_DATE.finditer(text))
            if len(found) >= 2 and not all(_score_like(m.group("v")) for m in found):
                for m in found:
                    yield m.start("v"), m.end("v"), "DATE", "log_line_date", 74
        if "MC" in text:
            for m in _MC_ACRONYM.finditer(text):
                if m.group("v").lower() not in self._not_initials:
                    yield m.start("v"), m.end("v"), "FACILITY", "medical_center_acronym", 58
        if words & _ROUTE_WORDS:
            for m in _ROUTE.finditer(text):
                g = "i" if m.group("i") else 0
                yield m.start(g), m.end(g), "ADDRESS", "numbered_route", 66
        if words & self._staff_role_first:
            for m in _cued_on_text(self.re_staff_initials, text, low, words, self._staff_role_at):
                v = m.group("v")
                if v.lower() not in self._not_initials and not self._word_in_caps(v.lower(), text):
                    yield m.start("v"), m.end("v"), "NAME", "staff_role_initials", 60

    def _round4(self, text: str, low: str, words: frozenset[str]) -> Iterator[NursingSpan]:
        """Facilities without a facility word after a cue, "(BMC)" after a facility name, lower-case
        dotted initials after a role word, two- or three-letter signatures (half C2 of the nursing notes)."""
        starts = []
        if words & self._strong_cue_first and any(c in low for c in self._strong_literals):
            starts = [m.start() for m in self.re_strong_cue.finditer(low)]
        for k in words & self._weak_keys:  # the cue right before a key word, or one word before it
            i = low.find(k)
            while i >= 0:
                c = self.re_weak_cue_before.search(low, max(0, i - 40), i)
                if c and (i + len(k) == len(low) or not low[i + len(k)].isalnum()):
                    starts.append(c.start())
                i = low.find(k, i + len(k))
        if starts:
            yield from self._facilities(text, low, sorted(set(starts)))
        if words & self._type_first:
            yield from self._named_types(text)
        if "found" in words or "picked" in words:
            for m in self.re_landmark.finditer(text):
                names = m.group("v").split()[:-1]
                lows = [t.lower() for t in names]
                capitalised = all(t[0].isupper() for t in names)
                if any(
                    (t in self.lex.clinical and not capitalised)
                    or t in self.lex.stop
                    or t in self._not_facility_word
                    for t in lows
                ):
                    continue  # "found near his bed", "found in ED station"
                if not (
                    all(t[0].isupper() for t in names)
                    or lows[0] in _DIRECTIONS
                    or any(t not in self.lex.ordinary for t in lows)
                ):
                    continue  # "found near the nurses station", "at bus station": no name
                yield m.start("v"), m.end("v"), "LOCATION", "found_landmark", 60
        for p in self.re_paren_caps.finditer(text) if "(" in text else ():
            pa = self.re_paren_acronym.search(text, max(0, p.start() - 80), p.end())
            if pa is not None and pa.end() == p.end():
                v = pa.group("v")
                names = pa.group("n").split()
                if len(v) <= len(names) and "".join(t[0] for t in names[-len(v) :]).upper() == v:
                    last = names[-1].lower()
                    if last in self.w.facility_name_heads or last in ("center", "centre", "hospital"):
                        yield pa.start("v"), pa.end("v"), "HOSPITAL", "facility_acronym", 62
        for d in self.re_dotted_low.finditer(text) if "." in text and words & self._role_first else ():
            rd = self.re_role_dotted.search(low, max(0, d.start() - 24), d.end())
            if rd is not None and rd.end("v") == d.end():
                v = rd.group("v")
                if v.replace(".", "").replace(" ", "") not in self._not_initials:
                    yield rd.start("v"), rd.end("v"), "NAME", "initials_role_nursing", 64
        if text.lstrip().startswith("-") or "\n-" in text or "\n -" in text:
            last_line = text.rstrip().rsplit("\n", 1)[-1]
            for m in self.re_sig_initials.finditer(text):
                v = m.group("v")
                lv = v.lower()
                if lv in self._not_initials or lv in self.lex.clinical or lv in self.lex.stop:
                    continue
                role = m.end("v") < m.end() and text[m.end("v") : m.end()].strip(" \t,.") != ""
                if role or (v.isupper() and text[m.start() : m.end()].strip() == last_line.strip()):
                    yield m.start("v"), m.end("v"), "NAME", "signature_initials", 64

    def _facilities(self, text: str, low: str, starts: list[int]) -> Iterator[NursingSpan]:
        """A named facility after a cue: a chain or a CMS short name (any case after a strong cue,
        capitalised after "at"/"from"/"to"), a list acronym, "X Children's" and X again, and after a
        strong cue one to three capitalised words or one lower-case word that is no everyday word."""
        lex, w = self.lex, self.w
        repeat: set[str] = set()
        pos = 0
        for st in starts:  # cues may chain ("goes to dialysis at fresenius")
            if st < pos:
                continue
            m = self.re_facility_cue.match(text, st)
            if m is None:
                continue
            cue = low[m.start() : m.start("v")].split()
            is_strong = " ".join(cue[:-1] if cue[-1] == "the" else cue) in w.facility_strong_cues
            b = m.start("v")
            toks = [(t.start(), t.end(), t.group()) for t in _NAME_TOKEN.finditer(m.group("v"))]
            toks = [(b + s, b + e, t.rstrip(".")) for s, e, t in toks]
            lows = [t.lower() for *_, t in toks]
            hit = None
            for k in (3, 2, 1):  # a chain or a list short name, longest first
                if len(lows) < k:
                    continue
                key = tuple(lows[:k])
                caps = all(t[2][0].isupper() for t in toks[:k])
                chain = key in self._chains and (
                    is_strong
                    or caps
                    or not any(t in lex.english or t in lex.ordinary or t in lex.clinical for t in key)
                )  # "expanded to encompass", "compared to benchmark": words, no chain
                if chain or (k >= 2 and key in self._short_names and (is_strong or caps)):
                    hit = (toks[0][0], toks[k - 1][1], "HOSPITAL", "facility_short_name")
                    break
            if hit is None and len(toks) >= 2 and lows[1].replace("’", "'") in w.facility_short_heads:
                x = lows[0]
                if not lex.is_vocabulary(x) and x not in self._not_facility_word and len(x) >= 4:
                    hit = (toks[0][0], toks[1][1], "HOSPITAL", "facility_short_head")
                    repeat.add(x)
            if hit is None and toks and toks[0][2].isupper() and 3 <= len(toks[0][2]) <= 4:
                a = lows[0]
                if a in self._acronyms and a not in self._not_initials and a not in w.clinical_short_forms:
                    hit = (toks[0][0], toks[0][1], "HOSPITAL", "facility_acronym")
            if hit is None and is_strong:
                hit = self._strong_cue_name(toks, lows)
            if hit is not None:
                pos = hit[1]
                yield hit[0], hit[1], hit[2], hit[3], 61
        for x in repeat:  # "followed at hasbro children's ... dr adeyemi at hasbro"
            i = low.find(x)
            while i >= 0:
                e = i + len(x)
                if (i == 0 or not (low[i - 1].isalnum() or low[i - 1] in "'’-")) and (
                    e == len(low) or not (low[e].isalnum() or low[e] in "'’-")
                ):
                    yield i, e, "HOSPITAL", "facility_short_repeat", 60
                i = low.find(x, e)

    def _strong_cue_name(
        self, toks: list[tuple[int, int, str]], lows: list[str]
    ) -> tuple[int, int, str, str] | None:
        """After a strong cue: capitalised words up to the first lower-case, clinical or generic word
        ("resident of Heritage Hall nursing home"), or one lower-case word that is no everyday word
        ("respite for him at hearthstone")."""
        lex = self.lex
        bad = self._not_facility_word
        if not toks:
            return None
        if all(t in self.w.generic_facility_words or t in lex.clinical for t in lows):
            return None  # "transferred from Outside Hospital"
        if any(" ".join(lows[:n]) in lex.places for n in (3, 2)):
            return None  # "transferred from Coeur d'Alene": a town, the place rules' call
        if toks[0][2][0].isupper():
            k = 0
            while (
                k < len(toks)
                and _CAP_WORD.fullmatch(toks[k][2])
                and lows[k] not in bad
                and lows[k] not in lex.clinical
                and lows[k] not in lex.stop
            ):
                k += 1
            if k == 0 or (k == 1 and (lows[0] in lex.places or lows[0] in lex.frequent)):
                return None
            if all(lex.is_vocabulary(t) and t not in lex.names for t in lows[:k]) and k == 1:
                return None
            return toks[0][0], toks[k - 1][1], "FACILITY", "facility_strong_cue"
        v = lows[0]
        if (
            toks[0][2].islower()
            and len(v) >= 4
            and v.isalpha()
            and v not in bad
            and v not in lex.ordinary
            and v not in lex.clinical
            and v not in lex.stop
            and v not in lex.allow
            and v not in lex.places
            and v not in lex.first_names
        ):
            return toks[0][0], toks[0][1], "FACILITY", "facility_strong_cue"
        return None

    def _named_types(self, text: str) -> Iterator[NursingSpan]:
        """The name before a facility type word: capitalised words that are no stop or generic word, or
        lower-case words of which one at least is no everyday word ("sunrise assisted living" yes, "local
        rehab" no)."""
        lex = self.lex
        pos = 0
        while (m := self.re_named_type.search(text, pos)) is not None:
            pos = m.start("v")
            names = m.group("v").split()
            lows = [t.lower() for t in names]
            if any(
                t in lex.stop or t in self._not_facility_word or t in self.w.facility_type_words for t in lows
            ):
                continue
            caps = all(t[0].isupper() and not t.isupper() for t in names)
            if not caps and (
                any(t in lex.clinical for t in lows)
                or all(t in lex.frequent for t in lows)
                or not names[0].islower()
            ):
                continue  # "at cardiology rehab", "at local rehab", "to ICU rehab"
            if caps and all(t in lex.clinical for t in lows):
                continue  # "at Cardiac Rehab"
            pos = m.end("v")
            yield m.start("v"), m.end("v"), "FACILITY", "facility_named_type", 61
