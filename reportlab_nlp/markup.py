"""Stripping HTML or RTF markup from report text, with a map back to the text the user gave.

Modes (``strip_markup=``): ``"none"`` leaves every text alone; ``"html"`` parses every text as
HTML; ``"rtf"`` converts every text that starts with ``{\\rtf`` (others are left alone);
``"auto"`` decides per record and is conservative (see :func:`detect_markup`).

* HTML goes through the standard library's :class:`html.parser.HTMLParser` with
  ``convert_charrefs=False``, so every piece of output text has an exact source position.
  Block elements and ``<br>`` become a newline (at most one in a row), so "No pneumothorax"
  after ``<br/>`` or ``</p>`` starts its own line; inline tags (``<b>``, ``<span>``) vanish;
  entities and character references are decoded (``&nbsp;`` to a plain space, so "2&nbsp;cm"
  stays two words); ``<script>``/``<style>`` content, comments
  and declarations are dropped; whitespace of the source is kept as it is.
* RTF goes through ``striprtf`` (BSD-3-Clause), which turns ``\\par`` and ``\\line`` into
  newlines. It gives no source positions, so an RTF :class:`OffsetMap` is not ``exact``:
  offsets can only index the stripped text.

:class:`OffsetMap` maps a span of the stripped text to the span of the source text it came
from (``to_source``); a text that markup stripping left unchanged gets no map (``None``).
"""

from __future__ import annotations

import html
import re
from array import array
from dataclasses import dataclass
from html.parser import HTMLParser

from .errors import InputOptionError, MarkupError

MARKUP_MODES = ("none", "auto", "html", "rtf")

# Elements after or before which rendered text starts on a new line.
BLOCK_ELEMENTS = frozenset(
    "address article aside blockquote body br caption center dd div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 head header hr html li main nav ol p pre section table tbody td tfoot th thead "
    "title tr ul".split()
)
SKIPPED_ELEMENTS = frozenset(("script", "style"))

_RTF_START = re.compile(r"\A\s*\{\\rtf", re.ASCII)
# Tags of common HTML elements. Single-letter elements (<b>, <i>, <p>, <u>, <a>) count as markup
# only when their closing tag is there too; "<" in "size < 2 cm" or "<2 cm" never matches.
_HTML_NAMES = (
    "html|head|body|title|meta|div|span|br|hr|table|thead|tbody|tr|td|th|ul|ol|li|dl|dt|dd|h[1-6]|font|pre"
    "|strong|em|sub|sup|center|section|article|header|footer|blockquote|img|style|script|caption"
)
_HTML_MARKUP = re.compile(
    rf"<!doctype\s+html\b|<!--|</?(?:{_HTML_NAMES})(?:\s[^<>]*)?/?>|</[abipu]>", re.IGNORECASE
)


@dataclass(frozen=True)
class OffsetMap:
    """Where each character of a stripped text came from in its source text.

    ``starts[i]``/``ends[i]`` are the source span of stripped character ``i`` (a decoded entity
    or a newline made from a tag covers the whole entity or tag). ``exact`` is False when the
    stripper gives no positions (RTF): then only ``len(source)`` is known and :meth:`to_source`
    raises :class:`MarkupError` — offsets index the stripped text.
    """

    kind: str  # "html" or "rtf"
    source_length: int
    text_length: int
    starts: array | None = None
    ends: array | None = None

    @property
    def exact(self) -> bool:
        return self.starts is not None

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        """The source span of the stripped span ``[start, end)`` (end exclusive)."""
        if self.starts is None or self.ends is None:
            raise MarkupError(
                f"{self.kind.upper()} offsets index the stripped text; no source positions are known"
            )
        if not 0 <= start <= end <= self.text_length:
            raise MarkupError(f"span {start}:{end} is outside the stripped text (length {self.text_length})")
        if start == end:  # an empty span sits just before character `start` (or at the end)
            pos = self.starts[start] if start < self.text_length else self.source_length
            return pos, pos
        return self.starts[start], self.ends[end - 1]


def detect_markup(text: str) -> str:
    """``"rtf"``, ``"html"`` or ``"none"`` for one text, conservatively.

    RTF: the text starts with ``{\\rtf``. HTML: a tag of a common HTML element (``<br>``,
    ``<div ...>``, ``</td>``, a closing ``</b>``...), an HTML comment or ``<!DOCTYPE html``.
    A bare ``<`` or ``>`` ("size < 2 cm", "<2 cm", "a <b"), an entity alone or an unknown
    tag-like word does not make a text HTML.
    """
    if _RTF_START.match(text):
        return "rtf"
    if "<" in text and _HTML_MARKUP.search(text):
        return "html"
    return "none"


def span_in_source(omap: OffsetMap | None, start: int, end: int) -> tuple[int, int, str]:
    """``(start, end, indexes)`` for a span of a (possibly stripped) text, for evidence/spans.

    ``indexes`` is ``"source"`` when the span points into the text the user gave (no markup
    was stripped, or the map is exact) and ``"stripped"`` when it can only index the stripped
    text (RTF); the span is then returned unchanged.
    """
    if omap is None:
        return start, end, "source"
    if not omap.exact:
        return start, end, "stripped"
    s, e = omap.to_source(start, end)
    return s, e, "source"


class _Collector(HTMLParser):
    """Records every parser event with its absolute source offset."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.events: list[tuple[int, str, str]] = []

    def _at(self) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def handle_data(self, data: str) -> None:
        self.events.append((self._at(), "data", data))

    def handle_entityref(self, name: str) -> None:
        self.events.append((self._at(), "ref", name))

    def handle_charref(self, name: str) -> None:
        self.events.append((self._at(), "ref", name))

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.events.append((self._at(), "start", tag))

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.events.append((self._at(), "startend", tag))

    def handle_endtag(self, tag: str) -> None:
        self.events.append((self._at(), "end", tag))

    def handle_comment(self, data: str) -> None:
        self.events.append((self._at(), "skip", ""))

    def handle_decl(self, decl: str) -> None:
        self.events.append((self._at(), "skip", ""))

    def handle_pi(self, data: str) -> None:
        self.events.append((self._at(), "skip", ""))

    def unknown_decl(self, data: str) -> None:
        self.events.append((self._at(), "skip", ""))


def strip_html(text: str) -> tuple[str, OffsetMap]:
    """The text of an HTML document and the exact map back to ``text``."""
    parser = _Collector(text)
    parser.feed(text)
    parser.close()
    events = parser.events
    out: list[str] = []
    starts, ends = array("q"), array("q")
    skipping: str | None = None
    last_newline = True  # no newline before the first text

    def emit(piece: str, s: int, e: int, exact_chars: bool) -> None:
        nonlocal last_newline
        if not piece:
            return
        out.append(piece)
        if exact_chars:
            starts.extend(range(s, s + len(piece)))
            ends.extend(range(s + 1, s + len(piece) + 1))
        else:
            starts.extend([s] * len(piece))
            ends.extend([e] * len(piece))
        last_newline = piece.endswith("\n")

    for k, (pos, kind, value) in enumerate(events):
        end = events[k + 1][0] if k + 1 < len(events) else len(text)
        if kind in ("start", "startend", "end") and value in SKIPPED_ELEMENTS:
            skipping = value if kind == "start" else None
            continue
        if skipping:
            continue
        if kind == "data":
            emit(value, pos, end, exact_chars=text.startswith(value, pos) and len(value) == end - pos)
        elif kind == "ref":
            source = text[pos:end]
            emit(html.unescape(source).replace("\xa0", " "), pos, end, exact_chars=False)  # &nbsp; is a space
        elif kind in ("start", "startend", "end") and value in BLOCK_ELEMENTS and not last_newline:
            emit("\n", pos, end, exact_chars=False)
    stripped = "".join(out)
    return stripped, OffsetMap("html", len(text), len(stripped), starts, ends)


def strip_rtf(text: str) -> tuple[str, OffsetMap]:
    """The text of an RTF document; the map is not exact (striprtf gives no positions)."""
    from striprtf.striprtf import rtf_to_text

    try:
        stripped = rtf_to_text(text, errors="ignore")
    except Exception as err:  # striprtf raises several types on broken input
        raise MarkupError(f"RTF cannot be converted ({type(err).__name__})") from None
    return stripped, OffsetMap("rtf", len(text), len(stripped))


def strip_markup(text: str, mode: str) -> tuple[str, OffsetMap | None]:
    """Strip the markup ``mode`` asks for; ``(text, None)`` when the text stays as it is."""
    if mode == "none":
        return text, None
    kind = detect_markup(text) if mode == "auto" else mode
    if kind == "rtf" and not _RTF_START.match(text):
        return text, None  # "rtf" mode leaves a plain-text record alone
    if kind == "html":
        stripped, omap = strip_html(text)
    elif kind == "rtf":
        stripped, omap = strip_rtf(text)
    elif kind == "none":
        return text, None
    else:
        raise InputOptionError(f"unknown markup mode {mode!r}; expected one of {', '.join(MARKUP_MODES)}")
    if stripped == text:
        return text, None
    return stripped, omap
