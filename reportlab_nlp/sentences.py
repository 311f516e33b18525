"""Stage 2: sentence splitting tuned for radiology reports.

Rule-based, token-level and fast (no parser). Boundaries: sentence-final punctuation followed
by a new sentence (a capital, a digit, a list number, a header or the end), section headers,
numbered list items ("1. ...", "2) ..."), blank lines, and line breaks after a finished sentence
or a header. Not boundaries: decimals ("2.5 cm", which the tokenizer keeps whole), abbreviations
("approx.", "e.g.", "Dr.", "vs."), redaction tokens ("XXXX", "___") and line wraps inside a
sentence (MIMIC-style hard-wrapped text).
"""

import re

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from .resources import load_yaml, resolve

_LIST_ITEM = re.compile(r"^\(?\d{1,2}[.)]$")
_NUMBER = re.compile(r"^\d{1,2}$")
_FINAL = frozenset({".", "?", "!"})
_CLOSERS = frozenset({'"', "'", ")", "]"})


class SentenceSplitter:
    def __init__(self, abbreviations: list[str]):
        self.abbreviations = frozenset(a.lower().rstrip(".") for a in abbreviations)

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if n == 0:
            return doc
        toks = list(doc)
        text = [t.text for t in toks]
        space = [t.is_space for t in toks]
        ws = [t.whitespace_ for t in toks]
        abbrev = self.abbreviations
        starts = [False] * n
        starts[0] = True

        def list_start(i: int) -> bool:
            t = text[i]
            if _LIST_ITEM.match(t):
                return True
            return (
                bool(_NUMBER.match(t))
                and i + 1 < n
                and text[i + 1] in (".", ")")
                and bool(ws[i + 1] or (i + 2 < n and space[i + 2]))
            )

        def is_abbrev(i: int) -> bool:
            return text[i].lower().rstrip(".") in abbrev

        if doc.has_extension("sections"):
            for sec in doc._.sections or ():
                for k in (sec.title_start, sec.body_start):
                    if k is not None and 0 <= k < n:
                        starts[k] = True
        for i in range(n):
            t = text[i]
            if space[i]:
                if "\n" in t and i + 1 < n:
                    nxt = i + 1
                    prev = text[i - 1] if i > 0 else ""
                    prev_done = prev in _FINAL or prev == ":" or (prev.endswith(".") and not is_abbrev(i - 1))
                    nt = text[nxt]
                    if (
                        t.count("\n") >= 2
                        or prev_done
                        or list_start(nxt)
                        or (nt.isupper() and len(nt) > 1 and nt != "XXXX")
                    ):
                        starts[nxt] = True
                continue
            if t in _FINAL or (
                len(t) > 1 and t.endswith(".") and not is_abbrev(i) and not _LIST_ITEM.match(t)
            ):
                j = i + 1
                while j < n and text[j] in _CLOSERS:
                    j += 1
                while j < n and space[j]:
                    j += 1
                if j >= n:
                    continue
                if t == "." and i > 0 and is_abbrev(i - 1) and not toks[j].is_title:
                    continue
                if (
                    t == "."
                    and i > 0
                    and list_start(i - 1)
                    and (
                        i == 1 or starts[i - 1] or space[i - 2] or text[i - 2] in _FINAL or text[i - 2] == ":"
                    )
                ):
                    continue  # the "." of a list number "1." does not end a sentence
                nt = text[j]
                if not nt[:1].islower():
                    starts[j] = True  # capital, digit, list number, punctuation, XXXX
                elif t == "." and not (i > 0 and is_abbrev(i - 1)):
                    starts[j] = True  # terse reports start sentences in lower case too
            elif i > 0 and not starts[i] and list_start(i):
                p = text[i - 1]
                if space[i - 1] or p in _FINAL or p == ":" or (p.endswith(".") and not toks[i - 1].like_num):
                    starts[i] = True
        arr = numpy.fromiter((1 if x else -1 for x in starts), dtype="int32", count=n).reshape(n, 1)
        doc.from_array([SENT_START], arr.astype("uint64"))
        return doc


def load_abbreviations(path: str | None = None) -> list[str]:
    raw = load_yaml(resolve("rules", path or "abbreviations.yml"))
    return [str(a) for a in (raw.get("abbreviations") or [])]


@Language.factory("reportlab_sentences", default_config={"abbreviations": None})
def make_sentence_splitter(nlp: Language, name: str, abbreviations: str | None) -> SentenceSplitter:
    """``abbreviations``: YAML file with an ``abbreviations`` list (default ``rules/abbreviations.yml``)."""
    return SentenceSplitter(load_abbreviations(abbreviations))
