"""Stage 3: mentions of observations, from ``rules/observations.yml`` and a taxonomy file.

Patterns are written in a small phrase language (documented at the top of
``rules/observations.yml``) and expanded to token sequences matched with spaCy's
:class:`~spacy.matcher.PhraseMatcher` (gapped ones chained by :class:`GapMatcher`), so they
match tokens, not substrings: plurals (:mod:`reportlab_nlp.inflection`), hyphenation variants
and word order are handled by the patterns. Overlapping matches resolve to the longest; "normality"
statements (``assertion: absent``) only count where no ordinary mention overlaps them.

Mentions become ``doc.ents`` with ``span._.observation`` / ``span._.labels`` set. Only sections
listed as labeled (default FINDINGS, IMPRESSION and header-less text) are searched.
"""

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import ensure_path, filter_spans

from . import extensions  # noqa: F401
from .errors import RulesError
from .inflection import english
from .resources import load_yaml
from .schema import Taxonomy, load_taxonomy


@dataclass(frozen=True)
class Observation:
    id: str
    patterns: tuple[Any, ...]
    finding: bool = True


def _inflections(word: str) -> list[str]:
    """The word and its plurals (the package's one English inflector)."""
    return english().plural_forms(word)


def _expand_hyphens(word: str) -> list[list[str]]:
    """'post-op' -> [['post-op'], ['post', '-', 'op'], ['post', 'op'], ['postop']]"""
    if "-" not in word.strip("-") or word.startswith("="):
        return [[word]]
    parts = [p for p in word.split("-") if p]
    return [
        [word],
        list(itertools.chain.from_iterable((p, "-") for p in parts))[:-1],
        parts,
        ["".join(parts)],
    ]


@dataclass(frozen=True)
class Gap:
    """Up to ``n`` arbitrary tokens (no punctuation) inside a pattern."""

    n: int


MAX_EXPANSIONS = 20000


def _token_alternatives(token: str, inflect: bool = True) -> list[list[str]]:
    """All token sequences one phrase-language token stands for ([] = omitted)."""
    optional = token.endswith("?") and len(token) > 1
    if optional:
        token = token[:-1]
    seqs: list[list[str]] = []
    for alt in token.split("|"):
        exact = alt.startswith("=")
        if exact:
            alt = alt[1:]
        for parts in _expand_hyphens(alt):
            if len(parts) == 1:
                words = (
                    [parts[0].lower()] if exact or not inflect or "-" in parts[0] else _inflections(parts[0])
                )
                seqs.extend([w] for w in words)
            else:
                # inflect only the last part: "pleural-based" / "pleural - based" / ...
                head = [p.lower() for p in parts[:-1]]
                last = parts[-1]
                for w in [last.lower()] if exact or not inflect else _inflections(last):
                    seqs.append(head + [w])
    if optional:
        seqs.append([])
    unique: list[list[str]] = []
    for sq in seqs:
        if sq not in unique:
            unique.append(sq)
    return unique


def expand_phrase(phrase: str) -> list[list]:
    """Expand one pattern of the phrase language into token sequences (str tokens and Gap)."""
    tokens = phrase.split()
    if not tokens:
        raise RulesError("empty pattern")
    options: list[list[list]] = []
    literal_idx = [i for i, t in enumerate(tokens) if not re.fullmatch(r"\*\d*", t)]
    last_literal = literal_idx[-1] if literal_idx else -1
    for i, tok in enumerate(tokens):
        if re.fullmatch(r"\*\d*", tok):
            options.append([[Gap(int(tok[1:] or 3))]])
        else:
            # only the last word (the head noun of an English noun phrase) is inflected
            options.append(_token_alternatives(tok, inflect=(i == last_literal)))
    total = 1
    for o in options:
        total *= len(o)
    if total > MAX_EXPANSIONS:
        raise RulesError(f"pattern expands to {total} variants (more than {MAX_EXPANSIONS}); split it")
    out = []
    for combo in itertools.product(*options):
        seq = [t for part in combo for t in part]
        if any(isinstance(t, str) for t in seq):
            # drop leading/trailing gaps: they cannot change what is matched
            while seq and isinstance(seq[0], Gap):
                seq.pop(0)
            while seq and isinstance(seq[-1], Gap):
                seq.pop()
            if seq not in out:
                out.append(seq)
    return out


class GapMatcher:
    """Matches token sequences with bounded gaps ("heart size *4 normal") quickly.

    Each literal segment is found with a :class:`~spacy.matcher.PhraseMatcher` (hash lookups),
    then segments are chained left to right within the allowed gap (gap tokens must not be
    punctuation or line breaks). Equivalent to a spaCy Matcher pattern with ``{0,n}`` wildcard
    tokens, but without the per-token state explosion that makes those slow.
    """

    def __init__(self, vocab):
        self.vocab = vocab
        self.phrases = PhraseMatcher(vocab, attr="LOWER")
        self._seg_keys: dict[tuple[str, ...], str] = {}
        self.by_first: dict[str, list[tuple[str, list, frozenset]]] = {}
        self.size = 0

    def _seg(self, words: tuple[str, ...]) -> str:
        key = self._seg_keys.get(words)
        if key is None:
            key = f"seg{len(self._seg_keys)}"
            self._seg_keys[words] = key
            self.phrases.add(key, [Doc(self.vocab, words=list(words))])
        return key

    def add(self, label: str, seq: list) -> None:
        parts: list = []  # alternating segment keys and gap sizes
        cur: list[str] = []
        for t in seq:
            if isinstance(t, Gap):
                parts.append(self._seg(tuple(cur)))
                parts.append(t.n)
                cur = []
            else:
                cur.append(t)
        parts.append(self._seg(tuple(cur)))
        self.by_first.setdefault(parts[0], []).append((label, parts, frozenset(parts[2::2])))
        self.size += 1

    def __len__(self) -> int:
        return self.size

    def __call__(self, doc: Doc) -> list[tuple[str, int, int, int]]:
        """(label, start, end, end of the first literal segment) for every match."""
        found: dict[str, list[tuple[int, int]]] = {}
        strings = self.vocab.strings
        for mid, start, end in self.phrases(doc):
            found.setdefault(strings[mid], []).append((start, end))
        if not found:
            return []
        # tokens a gap may not cross
        blocked = [t.is_punct or t.is_space for t in doc]
        out = []
        present = set(found)
        for first, firsts in found.items():
            for label, parts, later in self.by_first.get(first, ()):
                if not later <= present:
                    continue  # a later segment of this pattern is nowhere in the doc
                for s0, e0 in firsts:
                    ends = [e0]
                    for k in range(1, len(parts), 2):
                        gap, seg = parts[k], parts[k + 1]
                        nxt = []
                        for e in ends:
                            for s, e2 in found.get(seg, ()):
                                if e <= s <= e + gap and not any(blocked[e:s]):
                                    nxt.append(e2)
                        ends = nxt
                        if not ends:
                            break
                    if ends:
                        out.append((label, s0, max(ends), e0))
        return out


def load_observations(path: str | Path) -> dict[str, Observation]:
    raw = load_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("observations"), dict):
        raise RulesError(f"{path} needs a top-level 'observations' mapping")
    out: dict[str, Observation] = {}
    for oid, spec in raw["observations"].items():
        if not isinstance(spec, dict) or not isinstance(spec.get("patterns"), list) or not spec["patterns"]:
            raise RulesError(f"{path}: observation {oid!r} needs a non-empty 'patterns' list")
        out[str(oid)] = Observation(str(oid), tuple(spec["patterns"]), bool(spec.get("finding", True)))
    return out


class MentionMatcher:
    """Finds observation mentions in the labeled sections and sets ``doc.ents``."""

    def __init__(self, nlp: Language, name: str, taxonomy: str, sections: list[str] | None):
        self.nlp = nlp
        self.name = name
        self.taxonomy_name = taxonomy
        self.sections = sections
        self._build(load_taxonomy(taxonomy))

    def _build(self, taxonomy: Taxonomy, observations: dict[str, Observation] | None = None) -> None:
        self.taxonomy = taxonomy
        self.observations = (
            observations if observations is not None else load_observations(taxonomy.observations_file)
        )
        missing = {o for l in taxonomy.labels for o in l.observations} - set(self.observations)
        if missing:
            raise RulesError(
                f"taxonomy {taxonomy.path.name} refers to unknown observations: {', '.join(sorted(missing))}"
            )
        self.matcher = GapMatcher(self.nlp.vocab)
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.normal_matcher = GapMatcher(self.nlp.vocab)
        self.normal_phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for obs in self.observations.values():
            plain: list = []
            normal: list = []
            for i, p in enumerate(obs.patterns):
                if isinstance(p, dict):
                    phrase, assertion = p.get("pattern"), p.get("assertion")
                    if not isinstance(phrase, str) or assertion not in ("absent",):
                        raise RulesError(
                            f"observation {obs.id!r}: pattern #{i + 1} needs 'pattern' and "
                            "'assertion: absent'"
                        )
                    target = normal
                elif isinstance(p, str):
                    phrase, target = p, plain
                else:
                    raise RulesError(
                        f"observation {obs.id!r}: pattern #{i + 1} must be a string or a mapping"
                    )
                try:
                    target.extend(expand_phrase(phrase))
                except RulesError as err:
                    raise RulesError(f"observation {obs.id!r}: pattern #{i + 1}: {err.message}") from None
            for seqs, matcher, phrases in (
                (plain, self.matcher, self.phrases),
                (normal, self.normal_matcher, self.normal_phrases),
            ):
                for sq in seqs:
                    if any(isinstance(t, Gap) for t in sq):
                        matcher.add(obs.id, sq)
                literal = [
                    Doc(self.nlp.vocab, words=sq) for sq in seqs if not any(isinstance(t, Gap) for t in sq)
                ]
                if literal:
                    phrases.add(obs.id, literal)

    def _allowed(self, doc: Doc) -> list[tuple[int, int]] | None:
        """Token ranges of the labeled sections; None means the whole doc."""
        if self.sections is None or not len(doc) or not doc[0].has_extension("section_category"):
            return None
        allowed = set(self.sections)
        ranges: list[tuple[int, int]] = []
        for sec in doc._.sections:
            cat = sec.category or "unknown"
            if cat in allowed:
                start = sec.body_start if sec.body_start is not None else sec.section_span[0]
                ranges.append((start, sec.section_span[1]))
        if not doc._.sections and "unknown" in allowed:
            return None
        # text before the first header is "unknown"
        if doc._.sections and "unknown" in allowed:
            first = doc._.sections[0].section_span[0]
            if first > 0:
                ranges.append((0, first))
        return ranges

    def __call__(self, doc: Doc) -> Doc:
        ranges = self._allowed(doc)
        if ranges is not None and not ranges:
            doc.ents = []
            return doc
        vocab = self.nlp.vocab
        spans = []
        for match_id, start, end in self.phrases(doc):
            spans.append(Span(doc, start, end, label=vocab.strings[match_id]))
        for label, start, end, _first in self.matcher(doc):
            spans.append(Span(doc, start, end, label=label))
        kept = filter_spans(spans)
        occupied = set()
        for s in kept:
            occupied.update(range(s.start, s.end))
        normal = []
        normal_matches = [
            (vocab.strings[m], a, b, b) for m, a, b in self.normal_phrases(doc)
        ] + self.normal_matcher(doc)
        normal_matches = [m for m in normal_matches if not occupied.intersection(range(m[1], m[2]))]
        # Coordinated statements ("heart size and mediastinal contours are normal") match twice,
        # overlapping; the earlier one is cut back to its subject so that both are kept.
        normal_matches.sort(key=lambda m: (m[1], -(m[2] - m[1])))
        trimmed = []
        for i, (label, start, end, first_end) in enumerate(normal_matches):
            later = [m for m in normal_matches[i + 1 :] if m[1] > start and m[1] < end and m[0] != label]
            if later and first_end <= min(m[1] for m in later):
                end = first_end
            trimmed.append(Span(doc, start, end, label=label))
        normal = filter_spans(trimmed)
        for s in normal:
            s._.assertion_override = "absent"  # normality statement: absent unless a stronger cue
            s._.normality_statement = True
        ents = sorted(kept + normal, key=lambda s: s.start)
        if ranges is not None:
            ents = [s for s in ents if any(a <= s.start and s.end <= b for a, b in ranges)]
        # a mention must not cross a sentence boundary
        if any(len(s) > 1 for s in ents):
            starts = doc.to_array("SENT_START")
            ents = [
                s for s in ents if len(s) == 1 or not any(starts[k] == 1 for k in range(s.start + 1, s.end))
            ]
        for s in ents:
            oid = s.label_
            u = s._
            u.observation = oid
            u.labels = self.taxonomy.labels_for(oid)
            u.is_finding = self.observations[oid].finding
        doc.ents = ents
        return doc

    # -- serialisation -----------------------------------------------------------------
    def to_disk(self, path, exclude=tuple()):
        import srsly

        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        tax = load_yaml(self.taxonomy.path)
        obs = load_yaml(self.taxonomy.observations_file)
        srsly.write_yaml(path / "taxonomy.yml", {**tax, "observations_file": "observations.yml"})
        srsly.write_yaml(path / "observations.yml", obs)
        srsly.write_json(path / "cfg.json", {"sections": self.sections})

    def from_disk(self, path, exclude=tuple()):
        import srsly

        path = ensure_path(path)
        self.taxonomy_name = str(path / "taxonomy.yml")
        self.sections = srsly.read_json(path / "cfg.json")["sections"]
        self._build(load_taxonomy(self.taxonomy_name))
        return self


@Language.factory("reportlab_mentions", default_config={"taxonomy": "chexpert", "sections": None})
def make_mention_matcher(
    nlp: Language, name: str, taxonomy: str, sections: list[str] | None
) -> MentionMatcher:
    """``taxonomy``: ``chexpert``, ``nih14`` or a taxonomy YAML path; ``sections``: section
    categories to search (None = every section)."""
    return MentionMatcher(nlp, name, taxonomy, sections)
