"""Stage 4: assertion status of every mention with medspaCy ConText: default rules + radiology rules.

Statuses (``rules/labels.yml``): present, absent, possible, historical, hypothetical, other.
The cues are medspaCy's default ConText rules with the radiology layer of
``rules/assertion/context.yml`` on top (:mod:`reportlab_nlp.context_rules`); when several cues
reach one mention the ``priority`` list there decides. A mention found by a normality pattern ("heart size is
normal") starts as absent. ``span._.trigger`` keeps the cue that decided.

:func:`assert_target` classifies one given character span of a text (the NegEx use case).
"""

import functools

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import ensure_path

from . import extensions, sentences  # noqa: F401  (reportlab_sentences for assert_target)
from .context_rules import layered_cues, load_context_rules, to_medspacy
from .errors import ArgumentError, E
from .nlp_base import blank_pipeline

__all__ = ["AssertionClassifier", "assert_target", "load_context_rules"]


class _SentenceBoundMatcher:
    """ConText's cue matcher, with cue matches that cross a sentence boundary dropped *before*
    overlapping matches are pruned ("FINDINGS: No effusion" holds no ": no" cue)."""

    def __init__(self, inner):
        from medspacy.common.util import prune_overlapping_matches

        self.inner = inner
        self.prune = prune_overlapping_matches
        inner._prune = False

    @property
    def rule_map(self):
        return self.inner.rule_map

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __call__(self, doc: Doc):
        matches = self.inner(doc)
        if any(e - s > 1 for _, s, e in matches):
            matches = [
                m
                for m in matches
                if m[2] - m[1] == 1 or not any(doc[k].is_sent_start for k in range(m[1] + 1, m[2]))
            ]
        return self.prune(matches)


class AssertionClassifier:
    def __init__(self, nlp: Language, name: str, rules: str | None):
        self.nlp = nlp
        self.name = name
        self._build(load_context_rules(rules))

    def _build(self, raw: dict) -> None:
        from medspacy.context import ConText

        self.raw = raw
        self.status_of = {k.upper(): v for k, v in raw["categories"].items()}
        self.category_values = {k.upper(): v for k, v in (raw.get("category_values") or {}).items()}
        self.priority = {s: i for i, s in enumerate(raw["priority"])}
        self.context = ConText(
            self.nlp,
            name=f"{self.name}_context",
            rules=None,
            span_attrs=None,
            prune_on_modifier_overlap=True,
            terminating_types={
                k.upper(): [v.upper() for v in vs] for k, vs in (raw.get("terminated_by") or {}).items()
            },
        )
        # general first: medspaCy's default ConText rules, then the radiology layer on top
        self.context.add(to_medspacy(layered_cues(raw), raw.get("clause_verbs")))
        # medspaCy 1.3.1 keeps its matcher in a private attribute; see _SentenceBoundMatcher
        self.context._ConText__matcher = _SentenceBoundMatcher(self.context._ConText__matcher)

    def resolve(self, span: Span) -> tuple[str, Span | None, str | None]:
        """Status, deciding cue and ConText category for one mention, from its modifiers."""
        best, best_rank, trigger, category = None, len(self.priority) + 1, None, None
        u = span._
        override = u.assertion_override
        if override is not None:
            best, best_rank = override, self.priority.get(override, len(self.priority))
        for mod in u.modifiers:
            cat = mod.category.upper()
            status = self.status_of.get(cat)
            if status is None:
                continue
            rank = self.priority.get(status, len(self.priority))
            s, e = mod.modifier_span
            # nearer cue wins among equal ranks
            nearer = trigger is not None and abs(s - span.start) < abs(trigger.start - span.start)
            if rank < best_rank or (rank == best_rank and nearer):
                best, best_rank, trigger, category = status, rank, span.doc[s:e], cat
        return (best or "present"), trigger, category

    def __call__(self, doc: Doc) -> Doc:
        if doc.ents:
            self.context(doc)
            for ent in doc.ents:
                u = ent._
                u.assertion, u.trigger, category = self.resolve(ent)
                u.value_override = self.category_values.get(category) if category else None
        return doc

    def to_disk(self, path, exclude=tuple()):
        import srsly

        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "context_rules.json", self.raw)

    def from_disk(self, path, exclude=tuple()):
        import srsly

        self._build(srsly.read_json(ensure_path(path) / "context_rules.json"))
        return self


@Language.factory("reportlab_assertion", default_config={"rules": None})
def make_assertion_classifier(nlp: Language, name: str, rules: str | None) -> AssertionClassifier:
    """``rules``: a ConText rules YAML (default: the shipped ``rules/assertion/context.yml``)."""
    return AssertionClassifier(nlp, name, rules)


@functools.lru_cache(maxsize=1)
def _target_pipeline():
    nlp = blank_pipeline()
    nlp.add_pipe("reportlab_sentences")
    nlp.add_pipe("reportlab_assertion")
    return nlp


def assert_target(text: str, start: int, end: int) -> str:
    """Assertion status of the phrase ``text[start:end]`` within ``text``.

    >>> assert_target("No pleural effusion.", 3, 19)
    'absent'
    """
    if not isinstance(text, str):
        raise ArgumentError(f"text must be a string, got a {type(text).__name__}")
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ArgumentError(f"{name} must be a whole number, got a {type(value).__name__}")
    if not (0 <= start < end <= len(text)):
        raise ArgumentError(f"span {start}:{end} is outside the text (length {len(text)})", code=E.RL121)
    nlp = _target_pipeline()
    doc = nlp.make_doc(text)
    span = doc.char_span(start, end, label="TARGET", alignment_mode="expand")
    if span is None:
        raise ArgumentError(f"span {start}:{end} does not align with tokens", code=E.RL122)
    doc.ents = [span]
    for _name, proc in nlp.pipeline:
        doc = proc(doc)
    return doc.ents[0]._.assertion if doc.ents else "present"
