"""Stage 4: assertion status of every mention with medspaCy ConText and radiology rules.

Statuses (``rules/labels.yml``): present, absent, possible, historical, hypothetical, other.
ConText cue rules live in ``rules/assertion/context.yml``; when several cues reach one mention
the ``priority`` list there decides. A mention found by a normality pattern ("heart size is
normal") starts as absent. ``span._.trigger`` keeps the cue that decided.

:func:`assert_target` classifies one given character span of a text (the NegEx use case).
"""

import functools
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import ensure_path

from . import extensions  # noqa: F401
from .errors import ArgumentError, RulesError
from .resources import load_yaml, resolve
from .schema import LABEL_SCHEMA

DEFAULT_CONTEXT_RULES = "assertion/context.yml"


def load_context_rules(path: str | Path | None = None) -> dict:
    p = resolve("rules", path or DEFAULT_CONTEXT_RULES)
    raw = load_yaml(p)
    for key in ("categories", "priority", "rules"):
        if key not in raw:
            raise RulesError(f"ConText rules {p} need a {key!r} entry")
    for category, by_dir in raw["rules"].items():
        for direction, phrases in (by_dir or {}).items():
            for phrase in phrases or ():
                if not isinstance(phrase, str):
                    raise RulesError(
                        f"ConText rules {p}: {category}/{direction} has a non-text entry {phrase!r} (quote words such as \"no\" in YAML)"
                    )
    for cat, value in (raw.get("category_values") or {}).items():
        if value not in LABEL_SCHEMA.values:
            raise RulesError(f"ConText rules {p}: category_values.{cat} is {value!r}, not one of {', '.join(LABEL_SCHEMA.values)}")
    for cat, status in raw["categories"].items():
        if status not in LABEL_SCHEMA.assertions:
            raise RulesError(f"ConText rules {p}: category {cat} maps to unknown status {status!r}")
    return raw


def context_rules_for_medspacy(raw: dict):
    from medspacy.context import ConTextRule

    terminated_by = {k.upper(): {v.upper() for v in vs} for k, vs in (raw.get("terminated_by") or {}).items()}
    out = []
    for category, by_dir in raw["rules"].items():
        # a phrase listed both FORWARD and BACKWARD is one BIDIRECTIONAL cue (two rules on the
        # same span would be pruned to one arbitrarily)
        dirs: dict[str, str] = {}
        for direction, phrases in by_dir.items():
            for phrase in phrases:
                key = str(phrase).lower()
                prev = dirs.get(key)
                d = direction.upper()
                dirs[key] = "BIDIRECTIONAL" if prev is not None and prev != d and {prev, d} <= {"FORWARD", "BACKWARD", "BIDIRECTIONAL"} else d
        for phrase, direction in dirs.items():
            if True:
                out.append(
                    ConTextRule(
                        literal=phrase,
                        category=category.upper(),
                        direction=direction.upper(),
                        terminated_by=set(terminated_by.get(category.upper(), ())) or None,
                    )
                )
    return out


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
        )
        self.context.add(context_rules_for_medspacy(raw))

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
            if rank < best_rank or (rank == best_rank and trigger is not None and abs(s - span.start) < abs(trigger.start - span.start)):
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
    from .pipeline import blank_pipeline

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
        raise ArgumentError(f"span {start}:{end} is outside the text (length {len(text)})", code="RL121")
    nlp = _target_pipeline()
    doc = nlp.make_doc(text)
    span = doc.char_span(start, end, label="TARGET", alignment_mode="expand")
    if span is None:
        raise ArgumentError(f"span {start}:{end} does not align with tokens", code="RL122")
    doc.ents = [span]
    for name, proc in nlp.pipeline:
        doc = proc(doc)
    return doc.ents[0]._.assertion if doc.ents else "present"
