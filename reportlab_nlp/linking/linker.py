"""The concept linker: exact/normalised lookups first, scispaCy candidate generation second.

Per mention, strict to loose (the first stage that finds a concept decides):

1. ``exact``    the normalised text (or its abbreviation expansion) is an alias: score 1.0;
2. ``singular`` plural/singular variant of an alias: score 1.0;
3. ``bag``      same content words in another order ("effusion, pleural"): score 0.95;
4. ``core``     the same after dropping modifiers (size, side, severity, time): score 0.9;
5. ``head``     the longest final word sequence that is an alias ("right lower lobe
                pneumonia" -> "pneumonia"): score 0.9;
6. ``fuzzy``    scispaCy's ``CandidateGenerator`` over the char-3-gram TF-IDF + nmslib index
                (misspellings, partial matches): score = mean of the TF-IDF cosine and the
                edit-similarity ratio to the best alias (see :func:`_blend`).

A concept that feeds the mention's observation id (``span._.observation``) gets
``observation_bonus`` added (capped at 1.0) and wins ties; concepts of that observation are
also scored directly so a hint can rescue a mention whose wording is far from every alias.
Nothing at or above ``threshold``: ``cui``/``score`` are None (the candidates show what came
closest among the aliases allowed). Results are cached per (text, observation, ...), so repeated
forms cost a dict lookup.

Guards against confident wrong links:

* the fuzzy stage is skipped for a normality statement ("cardiomediastinal silhouette is within
  normal limits": its words name a structure, and the nearest finding alias, "mediastinal mass",
  would be wrong) and for a mention whose observation no concept of a hinted KB feeds (the nearest
  alias would name another finding);
* words that name only a qualifier ("mild") or only an organ the observation's concepts do not
  include ("normal heart size") are scored against the observation's own concepts, without the
  bonus;
* a mention whose head is a generic word ("abnormality", "bony abnormalities", "changes") never
  fuzzy-matches an alias that adds a word of meaning to it ("rib abnormality").

Unlinked rule mentions take their observation's primary concept in the spaCy component.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.fuzz import ratio as _ratio

from ..resources import load_word_lists
from . import index as _index
from .concepts import Concept, load_concepts, resolve_kb
from .normalize import LINKING_WORDS, STOPWORDS, bag, norm, singular

log = logging.getLogger("reportlab_nlp.linking")

DEFAULT_THRESHOLD = 0.7
DEFAULT_K = 10
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_WORDS = load_word_lists(LINKING_WORDS, ("modifiers", "generic_heads"))
# Modifiers dropped by the ``core`` stage (and ignored when judging whether an alias narrows a query).
_BASE_MODIFIERS: frozenset[str] = frozenset(_WORDS["modifiers"])


@dataclass(frozen=True)
class LinkResult:
    cui: str | None
    preferred_name: str | None
    score: float | None
    candidates: tuple[tuple[str, float], ...]
    method: str  # exact / singular / bag / core / head / fuzzy / none

    def as_dict(self, linker: ConceptLinker, phrase: str | None = None) -> dict:
        d = {} if phrase is None else {"phrase": phrase}
        d.update(
            cui=self.cui,
            preferred_name=self.preferred_name,
            score=None if self.score is None else round(self.score, 4),
            candidates=[
                {"cui": c, "preferred_name": linker.preferred_name(c), "score": round(s, 4)}
                for c, s in self.candidates
            ],
        )
        return d


_NONE = LinkResult(None, None, None, (), "none")
_MIN_FUZZY_CHARS = 4


# Head words that name no particular finding: a query ending in one ("no acute cardiopulmonary
# abnormality", "bony abnormalities") says less than any alias that adds a word to it ("rib
# abnormality"), so the fuzzy stage does not stretch it that way (ConceptLinker._narrows).
_GENERIC_HEADS: frozenset[str] = frozenset(_WORDS["generic_heads"])


def _generic_words(query: str) -> list[str] | None:
    """The query's words when its head (last word) is generic, else None."""
    words = query.split()
    return words if words and words[-1] in _GENERIC_HEADS else None


def _same_word(a: str, b: str) -> bool:
    """Two forms or spellings of one word ("abnormality" / "abnormalities", "mass" / "mas")."""
    return a == b or (len(a) >= 5 and len(b) >= 5 and a[:5] == b[:5]) or _ratio(a, b) >= 80


def _blend(query: str, alias: str, cosine: float) -> float:
    """Fuzzy score: mean of the char-3-gram TF-IDF cosine and the edit-based similarity ratio.

    The cosine alone over-rates short strings that share one rare trigram ("xyzzy" ~ "dizzy");
    the ratio alone ignores word order. Together they separate misspellings from noise. The
    ratio is rapidfuzz's normalised Indel similarity, 2 * LCS / (len(a) + len(b)).
    """
    return 0.5 * (float(cosine) + _ratio(query, alias) / 100.0)


class ConceptLinker:
    """Links mention strings to the concepts of one KB. Loading (and index building) is lazy."""

    def __init__(
        self,
        kb: str | Path | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        k: int = DEFAULT_K,
        max_candidates: int = 5,
        observation_bonus: float = 0.25,
        ef_search: int = 100,
        cache_size: int = 200_000,
    ):
        self.kb_file = resolve_kb(kb)
        self.threshold = float(threshold)
        self.k = int(k)
        self.max_candidates = int(max_candidates)
        self.observation_bonus = float(observation_bonus)
        self.ef_search = int(ef_search)
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._loaded = False

    # ------------------------------------------------------------------ loading
    def load(self) -> ConceptLinker:
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True
        return self

    def _load(self) -> None:
        from scispacy.candidate_generation import CandidateGenerator
        from scispacy.linking_utils import Entity, KnowledgeBase

        concepts = load_concepts(self.kb_file)
        self.concepts: dict[str, Concept] = {c.cui: c for c in concepts}
        self.rank = {c.cui: i for i, c in enumerate(concepts)}
        self._exact: dict[str, list[str]] = {}
        self._singular: dict[str, list[str]] = {}
        self._bag: dict[str, list[str]] = {}
        self._abbr: dict[str, str] = {}
        self.by_observation: dict[str, list[str]] = {}
        modifiers = set(_BASE_MODIFIERS)
        vocab: set[str] = set(_BASE_MODIFIERS) | set(STOPWORDS)
        entities = []
        for c in concepts:
            aliases: list[str] = []
            for s in [c.name, *c.synonyms, *c.abbreviations]:
                n = norm(s)
                if n and n not in aliases:
                    aliases.append(n)
            for n in aliases:
                self._add(self._exact, n, c.cui)
                self._add(self._singular, singular(n), c.cui)
                b = bag(n)
                if b:
                    self._add(self._bag, b, c.cui)
            for a in c.abbreviations:
                self._abbr.setdefault(a.lower(), c.cui)
            for o in c.observations:
                self._add(self.by_observation, o, c.cui)
            vocab.update(t for n in aliases for t in n.split())
            entities.append(
                Entity(concept_id=c.cui, canonical_name=c.name, aliases=aliases, types=c.semantic_types)
            )
        self.modifiers = frozenset(modifiers)
        self.vocab = frozenset(vocab)
        self._hint_sets = {o: frozenset(cuis) for o, cuis in self.by_observation.items()}
        self.kb = KnowledgeBase(entities)
        all_aliases = sorted({a for e in entities for a in e.aliases})
        directory = _index.index_dir(self.kb_file)
        if not _index.is_built(directory):
            log.info("building the linking index for %s (%d aliases)", self.kb_file.name, len(all_aliases))
            _index.build_index(all_aliases, directory)
        ann_aliases, vectorizer, ann = _index.load_index(directory, ef_search=self.ef_search)
        vectorizer = _index.FastCharTfidf(vectorizer)
        ann = _index.SingleThreadANN(ann)
        self.index_dir = directory
        self.vectorizer = vectorizer
        self.generator = CandidateGenerator(ann, vectorizer, ann_aliases, self.kb)
        self._obs_vectors: dict[str, tuple] = {}

    @staticmethod
    def _add(d: dict[str, list[str]], key: str, cui: str) -> None:
        lst = d.setdefault(key, [])
        if cui not in lst:
            lst.append(cui)

    # ------------------------------------------------------------------ lookups
    def preferred_name(self, cui: str) -> str | None:
        self.load()
        c = self.concepts.get(cui)
        return c.name if c else None

    def expand_abbreviations(self, text: str) -> str:
        """Replace upper-case tokens that are known abbreviations (PTX, ETT, R IJ CVC) by the concept name."""
        self.load()
        out, changed = [], False
        for tok in _TOKEN.findall(text):
            cui = self._abbr.get(tok.lower()) if (tok.isupper() and len(tok) >= 2) else None
            if cui:
                out.append(norm(self.concepts[cui].name))
                changed = True
            else:
                out.append(tok.lower())
        return " ".join(out) if changed else ""

    def link(
        self,
        text: str,
        observation: str | None = None,
        long_form: str | None = None,
        *,
        statement: bool = False,
    ) -> LinkResult:
        """Link one mention. ``long_form``: the in-document expansion of an abbreviation, if known.

        ``statement``: the mention is a normality statement ("heart size is within normal
        limits"): only the exact stages run (its words name a structure, not the finding, and a
        fuzzy match to some finding would be wrong); the caller falls back to the observation.
        """
        self.load()
        key = (text, observation, long_form, statement)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        result = self._link(text, observation, long_form, statement)
        self._cache[key] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result

    def clear_cache(self) -> None:
        """Forget the cached link results (the index stays loaded)."""
        self._cache.clear()

    def link_many(self, texts: list[str], observations: list[str | None] | None = None) -> list[LinkResult]:
        obs = observations or [None] * len(texts)
        return [self.link(t, o) for t, o in zip(texts, obs)]

    def _hinted(self, observation: str | None) -> frozenset[str]:
        return self._hint_sets.get(observation, frozenset()) if observation else frozenset()

    def _order(self, cuis, observation):
        hinted = self._hinted(observation)
        return sorted(cuis, key=lambda c: (c not in hinted, self.rank.get(c, 1 << 30)))

    def _finish(
        self, scored: dict[str, float], observation: str | None, method: str, bonus: bool = True
    ) -> LinkResult:
        hinted = self._hinted(observation)
        if hinted:  # a rule-found mention names a finding/device, never a bare qualifier
            scored = {c: s for c, s in scored.items() if self.concepts[c].category != "qualifier"}
        add = self.observation_bonus if bonus else 0.0
        final = {c: min(1.0, s + (add if c in hinted else 0.0)) for c, s in scored.items()}
        ranked = sorted(
            final.items(), key=lambda cs: (-cs[1], cs[0] not in hinted, self.rank.get(cs[0], 1 << 30))
        )
        cands = tuple((c, float(s)) for c, s in ranked[: self.max_candidates])
        if not ranked or ranked[0][1] < self.threshold:
            return LinkResult(None, None, None, cands, "none")
        best, score = ranked[0]
        return LinkResult(best, self.concepts[best].name, float(score), cands, method)

    def _exact_stage(self, forms: list[str], raw_parts: list[str]) -> tuple[list[str], float, str] | None:
        for f in forms:
            if f in self._exact:
                return self._exact[f], 1.0, "exact"
        for f in forms:
            s = singular(f)
            if s in self._singular:
                return self._singular[s], 1.0, "singular"
        for f in forms:
            b = bag(f)
            if b in self._bag:
                return self._bag[b], 0.95, "bag"
        for f in forms:
            core = bag(f, drop=self.modifiers)
            if core and core in self._bag:
                return self._bag[core], 0.9, "core"
        # "head": a part of the mention is an alias and every word left out is a known word
        # (a misspelt word is never dropped: "tortous aorta" goes to fuzzy, not to "aorta")
        heads: list[tuple[str, list[str]]] = []
        for raw in raw_parts:  # "pneumonia, right middle lobe": the first comma part first
            heads.append((raw, []))
        for f in forms:
            if " of " in f:  # "degenerative changes of the spine": the head is before "of"
                head, rest = f.split(" of ", 1)
                heads.append((head, rest.split()))
            toks = f.split()
            for i in range(1, len(toks)):
                heads.append((" ".join(toks[i:]), toks[:i]))
        for head, dropped in heads:
            if len(head) < 3 or not all(t in self.vocab for t in dropped):
                continue
            if head in self._exact:
                return self._exact[head], 0.9, "head"
            s = singular(head)
            if s in self._singular:
                return self._singular[s], 0.9, "head"
        return None

    def _link(
        self, text: str, observation: str | None, long_form: str | None, statement: bool = False
    ) -> LinkResult:
        forms: list[str] = []
        for f in (norm(long_form) if long_form else "", norm(text), self.expand_abbreviations(text)):
            if f and f not in forms:
                forms.append(f)
        if not forms:
            return _NONE
        parts = [norm(p) for p in text.split(",")] if "," in text else []
        exact = self._exact_stage(forms, [p for p in parts if p])
        if (
            exact is not None
            and observation
            and self.by_observation
            and self._names_only_a_part(exact[0], observation)
        ):
            # "mild" found by the cardiomegaly rule names the rule's finding, not the qualifier, and
            # "normal heart size" or "enlargement of the cardiac silhouette" name the finding, not
            # the heart: only the observation's own concepts are candidates (never the nearest other
            # finding); a statement takes the observation's primary concept (see the component)
            if statement or observation not in self.by_observation:
                return _NONE
            # no bonus here: the hint must not lift one specific diagnosis over the threshold
            # ("aortic" is no aortic aneurysm); nothing close enough -> the primary concept
            queries = [q for q in forms if len(q) >= _MIN_FUZZY_CHARS] or forms
            return self._finish(
                self._observation_scores(observation, queries), observation, "fuzzy", bonus=False
            )
        if exact is not None:
            cuis, score, method = exact
            ordered = self._order(cuis, observation)
            return self._finish({c: score - 0.001 * i for i, c in enumerate(ordered)}, observation, method)
        if statement:
            return _NONE
        if observation and self.by_observation and observation not in self.by_observation:
            # the rules found a finding this KB has no concept for ("hyperinflation"): a fuzzy
            # match could only name some other finding ("low lung volumes"), so leave it unlinked
            return _NONE
        # fuzzy: the full forms and their modifier-free cores, one batched nmslib query
        queries = list(forms)
        for f in forms:
            core = " ".join(t for t in f.split() if t not in self.modifiers)
            if core and core not in queries:
                queries.append(core)
        queries = [q for q in queries if len(q) >= _MIN_FUZZY_CHARS]
        if not queries:
            return _NONE
        scored: dict[str, float] = {}
        for q, cands in zip(queries, self.generator(queries, self.k)):
            generic = _generic_words(q)
            for cand in cands:
                # the best of the concept's aliases found (aliases with equal cosine, such as
                # "hiatal hernia" / "hernia hiatal", differ in edit similarity)
                s = max(
                    (
                        _blend(q, a, sim)
                        for a, sim in zip(cand.aliases, cand.similarities)
                        if generic is None or not self._narrows(generic, a)
                    ),
                    default=-1.0,
                )
                if s > scored.get(cand.concept_id, -1.0):
                    scored[cand.concept_id] = s
        if observation and observation in self.by_observation:
            for cui, s in self._observation_scores(observation, queries).items():
                if s > scored.get(cui, -1.0):
                    scored[cui] = s
        return self._finish(scored, observation, "fuzzy")

    def _narrows(self, words: list[str], alias: str) -> bool:
        """True when the alias holds a word of meaning that is neither a modifier nor a form of a
        query word: "abnormality" -> "rib abnormality", "bony abnormality" -> "rib abnormality"
        (but "abnormalities" -> "abnormality" is a form of the same word)."""
        return any(
            w not in self.modifiers and not any(_same_word(w, q) for q in words) for w in alias.split()
        )

    def _names_only_a_part(self, cuis: list[str], observation: str) -> bool:
        """True when an exact match found only qualifiers, or only anatomy the observation's concepts
        do not include: the words then name a part of the finding the rule found, not the finding."""
        categories = {self.concepts[c].category for c in cuis}
        if categories == {"qualifier"}:
            return True
        return categories == {"anatomy"} and self._hinted(observation).isdisjoint(cuis)

    def _observation_scores(self, observation: str, queries: list[str]) -> dict[str, float]:
        """Cosine similarity of the queries to every alias of the observation's concepts."""
        if observation not in self._obs_vectors:
            owners, aliases = [], []
            for cui in self.by_observation[observation]:
                for a in self.kb.cui_to_entity[cui].aliases:
                    owners.append(cui)
                    aliases.append(a)
            self._obs_vectors[observation] = (owners, aliases, self.vectorizer.transform(aliases))
        owners, aliases, mat = self._obs_vectors[observation]
        sims = (self.vectorizer.transform(queries) @ mat.T).toarray()
        out: dict[str, float] = {}
        for qi, q in enumerate(queries):
            row = sims[qi]
            generic = _generic_words(q)
            for j in row.argsort()[::-1][:5]:  # edit ratio only for the 5 closest aliases (speed)
                if generic is not None and self._narrows(generic, aliases[j]):
                    continue
                s = _blend(q, aliases[j], float(row[j]))
                if s > out.get(owners[j], -1.0):
                    out[owners[j]] = s
        return out


_LINKERS: dict[tuple, ConceptLinker] = {}
_LINKERS_LOCK = threading.Lock()


def get_linker(kb: str | Path | None = None, **options) -> ConceptLinker:
    """A shared (per KB file, content and options) linker, so pipelines reuse one loaded index."""
    kb_file = resolve_kb(kb)
    key = (str(kb_file.resolve()), _index.index_key(kb_file), tuple(sorted(options.items())))
    with _LINKERS_LOCK:
        linker = _LINKERS.get(key)
        if linker is None:
            linker = _LINKERS[key] = ConceptLinker(kb_file, **options)
    return linker
