"""The detector's word lists (``rules/deid/detector_words.yml``), loaded once and validated.

The file's schema is written at its top: ``version: 1`` and a fixed set of keys, each a
non-empty list of non-empty strings. A missing, unknown or malformed key is a
:class:`~reportlab_nlp.errors.RulesError` (RL202) naming the file and the key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from ..errors import E, RulesError
from ..resources import data_path, load_yaml

SCHEMA_VERSION = 1
W = TypeVar("W")


@dataclass(frozen=True)
class DetectorWords:
    """Each field holds the words of the key of the same name (lower case unless noted)."""

    phone_cue_words: frozenset[str]
    id_cue_words: frozenset[str]
    url_words: frozenset[str]
    domain_suffixes: frozenset[str]
    ssn_words: frozenset[str]
    age_words: frozenset[str]
    zip_words: frozenset[str]
    city_field_words: frozenset[str]
    weekdays: tuple[str, ...]
    place_prefixes: frozenset[str]
    ambiguous_state_abbreviations: frozenset[str]  # upper case
    country_aliases: frozenset[str]
    country_stop: frozenset[str]
    facility_generic_words: frozenset[str]
    facility_words_after: frozenset[str]
    facility_head_cues: tuple[str, ...]
    scale_cues_before: frozenset[str]
    scale_cues_after: frozenset[str]
    vital_cues: frozenset[str]
    two_digit_year_cues: frozenset[str]
    year_cues: frozenset[str]
    seasons_holidays: frozenset[str]
    month_cues: frozenset[str]


_KEEP_CASE = frozenset({"ambiguous_state_abbreviations"})


def parse_word_lists(doc: object, where: str, cls: type[W], keep_case: frozenset[str] = frozenset()) -> W:
    """Validate a parsed word-list document against the dataclass ``cls``: ``version: 1`` and exactly
    its fields, each a non-empty list of non-empty strings (lower-cased unless in ``keep_case``; a
    ``tuple`` field keeps the file's order). RL202 names ``where`` and the key. Shared by
    ``detector_words.yml``, ``note_words.yml`` and ``nursing_words.yml``."""
    if not isinstance(doc, dict):
        raise RulesError(f"{where}: must be a mapping of word lists", code=E.RL202)
    if doc.get("version") != SCHEMA_VERSION:
        raise RulesError(
            f"{where}: unsupported version {doc.get('version')!r} (expected {SCHEMA_VERSION})", code=E.RL202
        )
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(map(str, doc)) - set(names) - {"version"})
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(unknown)}", code=E.RL202)
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        raw = doc.get(f.name)
        if raw is None:
            raise RulesError(f"{where}: key {f.name!r} is missing", code=E.RL202)
        if not isinstance(raw, list) or not raw:
            raise RulesError(f"{where}: key {f.name!r} must be a non-empty list of words", code=E.RL202)
        words = []
        for k, w in enumerate(raw):
            if not isinstance(w, str) or not w.strip():
                raise RulesError(f"{where}: {f.name}[{k}] must be a non-empty string", code=E.RL202)
            words.append(w.strip() if f.name in keep_case else w.strip().lower())
        values[f.name] = tuple(words) if str(f.type).startswith("tuple") else frozenset(words)
    return cls(**values)


def parse_detector_words(doc: object, where: str) -> DetectorWords:
    """Validate a parsed ``detector_words.yml`` document; RL202 names ``where`` and the key."""
    return parse_word_lists(doc, where, DetectorWords, _KEEP_CASE)


def cue_alt(words: Iterable[str]) -> str:
    """A regex alternation of whole cue phrases, longest first; a space matches a run of blanks."""
    items = sorted(set(words), key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w).replace(r"\ ", "[ \t]+") for w in items) + ")"


def load_word_lists(
    cls: type[W], filename: str, path: str | Path | None = None, keep_case: frozenset[str] = frozenset()
) -> W:
    """The shipped ``rules/deid/<filename>`` validated against ``cls`` (``parse_word_lists``), or the file
    at ``path`` (same schema); read once per file and class."""
    p = Path(path) if path is not None else data_path("rules", "deid", filename)
    return _load_cached(cls, str(p), keep_case)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=16)
def _load_cached(cls: type, path: str, keep_case: frozenset[str]) -> Any:
    return parse_word_lists(load_yaml(path), Path(path).name, cls, keep_case)


def load_detector_words(path: str | Path | None = None) -> DetectorWords:
    """The shipped word lists, or those of ``path`` (same schema)."""
    return load_word_lists(DetectorWords, "detector_words.yml", path, _KEEP_CASE)
