"""Checks and cleaning of one record's id and text, shared by the file reader and DataFrames.

* Control characters (C0 except tab, newline and carriage return; DEL; C1; U+FFFE/U+FFFF) are
  replaced, not deleted, so offsets into the cleaned text are offsets into the source text:
  VT, FF, FS, GS, RS and NEL by a newline, the others (NUL included) by a space.
* A text is a report only if it holds an alphabetic word of :data:`MIN_WORD_LETTERS` (2) or
  more letters in a row (any script; digits and ``_`` are not letters): "123", "4.5", "x",
  "--" or control characters alone are rejected (``RL112``); "Normal.", "No acute disease.",
  "NAD", "WNL" pass.
* A text with an unpaired surrogate is rejected (``RL116``); markup is stripped on request
  (:mod:`reportlab_nlp.markup`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import REJECT_BAD_UNICODE, REJECT_MARKUP, REJECT_NO_WORDS, E, InputOptionError, MarkupError
from .markup import MARKUP_MODES, OffsetMap
from .markup import strip_markup as _strip_markup
from .text_decoding import SURROGATE

MIN_WORD_LETTERS = 2

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_LINE_CONTROLS = frozenset("\x0b\x0c\x1c\x1d\x1e\x85")
_UNUSUAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")  # one scan for both
_WORD = re.compile(rf"[^\W\d_]{{{MIN_WORD_LETTERS},}}")
_NOT_A_REPORT = "(nothing that could be a report)"


@dataclass
class Reject:
    """A record that could not be processed; ``reason`` never contains report text."""

    record_id: str
    reason: str
    code: str = E.RL102


@dataclass
class PreparedRecords:
    """The outcome of :func:`prepare_records`: positions kept, their cleaned texts, rejects."""

    keep: list[int]
    texts: list[str]
    offset_maps: list[OffsetMap | None]
    rejects: list[Reject]
    control_chars: int = 0


def clean_controls(text: str) -> tuple[str, int]:
    """``text`` with control characters replaced (length kept) and how many there were."""
    if not _CONTROL.search(text):
        return text, 0
    return _CONTROL.subn(lambda m: "\n" if m.group() in _LINE_CONTROLS else " ", text)


def has_words(text: str) -> bool:
    """Whether ``text`` could be a report: it holds an alphabetic word of 2+ letters."""
    return _WORD.search(text) is not None


def _record_id(rid: object) -> str:
    return "" if rid is None or (isinstance(rid, float) and rid != rid) else str(rid)


def prepare_records(
    ids: list, texts: list, row_labels: list, seen_ids: set[str], *, strip_markup: str = "none"
) -> PreparedRecords:
    """Check, clean and strip records; a :class:`Reject` for each unusable one (input order).

    A record needs a non-empty id not seen before (``seen_ids`` is updated), a string text
    without unpaired surrogates that, once control characters are replaced and markup is
    stripped, is not empty and holds an alphabetic word (see the module docstring).
    ``row_labels`` name rows without an id (``<row N>``).
    """
    if strip_markup not in MARKUP_MODES:
        raise InputOptionError(
            f"unknown markup mode {strip_markup!r}; expected one of {', '.join(MARKUP_MODES)}"
        )
    out = PreparedRecords([], [], [], [])
    rejects, keep, kept_texts, maps = out.rejects, out.keep, out.texts, out.offset_maps
    unusual_search, word_search, markup = _UNUSUAL.search, _WORD.search, strip_markup != "none"
    for i, (rid, text) in enumerate(zip(ids, texts)):
        rid_s = rid if type(rid) is str else _record_id(rid)
        if not rid_s or rid_s.isspace():
            rejects.append(Reject(f"<row {row_labels[i]}>", "missing record id", E.RL103))
            continue
        if rid_s in seen_ids:
            rejects.append(Reject(rid_s, "duplicate record id", E.RL104))
            continue
        if type(text) is not str:
            if text is None or (isinstance(text, float) and text != text):
                rejects.append(Reject(rid_s, "report text is missing", E.RL105))
                continue
            if not isinstance(text, str):
                reason = f"report text is a {type(text).__name__}, not a string"
                rejects.append(Reject(rid_s, reason, E.RL106))
                continue
        cleaned, n_controls, omap = text, 0, None
        if unusual_search(text) is not None:
            bad = SURROGATE.search(text)
            if bad:
                reason = (
                    f"report text holds an unpaired surrogate (invalid Unicode) at character {bad.start()}"
                )
                rejects.append(Reject(rid_s, reason, REJECT_BAD_UNICODE))
                continue
            cleaned, n_controls = clean_controls(text)
        if markup:
            try:
                cleaned, omap = _strip_markup(cleaned, strip_markup)
            except MarkupError as err:
                rejects.append(Reject(rid_s, err.message, REJECT_MARKUP))
                continue
        if word_search(cleaned) is not None:
            seen_ids.add(rid_s)
            keep.append(i)
            kept_texts.append(cleaned)
            maps.append(omap)
            out.control_chars += n_controls
        elif cleaned and not cleaned.isspace():
            reason = f"report text has no alphabetic word of {MIN_WORD_LETTERS}+ letters {_NOT_A_REPORT}"
            rejects.append(Reject(rid_s, reason, REJECT_NO_WORDS))
        elif n_controls:
            reason = f"report text holds only control characters and spaces {_NOT_A_REPORT}"
            rejects.append(Reject(rid_s, reason, REJECT_NO_WORDS))
        else:
            reason = "report text is empty" + (" once markup is stripped" if omap is not None else "")
            rejects.append(Reject(rid_s, reason, E.RL107))
    return out


def validate_records(
    ids: list, texts: list, row_labels: list, seen_ids: set[str], *, strip_markup: str = "none"
) -> tuple[list[int], list[Reject]]:
    """Positions of usable records and a Reject for each other one (in input order).

    The checks of :func:`prepare_records` (id, text type, Unicode, emptiness, content); use
    that function to get the cleaned texts and offset maps as well.
    """
    prepared = prepare_records(ids, texts, row_labels, seen_ids, strip_markup=strip_markup)
    return prepared.keep, prepared.rejects
