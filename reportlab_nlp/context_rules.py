"""The assertion cue rules: medspaCy's default ConText rules as the base, radiology rules on top.

``rules/assertion/context.yml`` holds the radiology layer and the list of ``overrides``: base
rules that are dropped because the radiology layer gives the same phrase another meaning, each
with its reason. A base phrase that the radiology layer redefines without a listed override is a
:class:`~reportlab_nlp.errors.RulesError`, so no general cue is lost silently.

Base rules written as token patterns (``{"LOWER": {"IN": [...]}, "OP": "?"}``) are expanded to
the literal phrases they match, so that every cue is matched by spaCy's PhraseMatcher (token
patterns with ``IN`` predicates are evaluated in Python on every token and are slow).
"""

from __future__ import annotations

import functools
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import RulesError
from .resources import load_yaml, resolve
from .schema import LABEL_SCHEMA

DEFAULT_CONTEXT_RULES = "assertion/context.yml"
ONE_WAY = {"FORWARD", "BACKWARD", "BIDIRECTIONAL"}
DIRECTIONS = ("FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO")


@dataclass(frozen=True)
class Cue:
    """One literal cue phrase (lower case, tokens joined by single spaces)."""

    phrase: str
    category: str
    direction: str
    source: str  # "base:<medspaCy rule literal>" or "radiology"


def medspacy_default_rules_path() -> Path:
    """medspaCy's English default ConText rules (``resources/en/context_rules.json``)."""
    import medspacy

    path = Path(medspacy.__file__).resolve().parents[1] / "resources" / "en" / "context_rules.json"
    if not path.is_file():
        raise RulesError(f"medspaCy's default ConText rules are missing ({path.name}); reinstall medspacy")
    return path


def _token_options(tok: dict) -> list[list[str]]:
    value = tok.get("LOWER", tok.get("TEXT"))
    if isinstance(value, str):
        words = [value.lower()]
    elif isinstance(value, dict) and isinstance(value.get("IN"), list):
        words = [str(v).lower() for v in value["IN"]]
    else:
        raise RulesError(f"medspaCy default rule token {tok!r} cannot be expanded to phrases")
    # an IN alternative holding a space can never equal one token: the pattern does not match it
    options = [[w] for w in words if " " not in w]
    if tok.get("OP") == "?":
        options.append([])
    elif tok.get("OP") not in (None, "!"):
        raise RulesError(f"medspaCy default rule token {tok!r}: operator {tok['OP']!r} is not supported")
    return options


def expand_pattern(pattern: list[dict]) -> list[str]:
    """The literal phrases a medspaCy token pattern matches."""
    phrases = []
    for combo in itertools.product(*(_token_options(t) for t in pattern)):
        words = [w for part in combo for w in part]
        if words:
            phrase = " ".join(words)
            if phrase not in phrases:
                phrases.append(phrase)
    return phrases


@functools.lru_cache(maxsize=4)
def _base_rule_dicts(path: str) -> tuple[dict, ...]:
    with open(path, encoding="utf-8") as fh:
        return tuple(json.load(fh)["context_rules"])


def base_rule_dicts(path: str | Path | None = None) -> tuple[dict, ...]:
    """medspaCy's default rules as they are written (literal, category, direction, pattern)."""
    return _base_rule_dicts(str(path or medspacy_default_rules_path()))


def base_cues(path: str | Path | None = None) -> dict[str, list[Cue]]:
    """medspaCy's default rules as cues, grouped by the rule's literal (its name)."""
    out: dict[str, list[Cue]] = {}
    for rule in base_rule_dicts(path):
        literal = str(rule["literal"]).lower()
        phrases = expand_pattern(rule["pattern"]) if rule.get("pattern") else [" ".join(literal.split())]
        out.setdefault(literal, [])
        out[literal].extend(
            Cue(p, rule["category"].upper(), rule["direction"].upper(), f"base:{literal}") for p in phrases
        )
    return out


def load_context_rules(path: str | Path | None = None) -> dict:
    """The radiology layer and its settings (``rules/assertion/context.yml``), validated."""
    p = resolve("rules", path or DEFAULT_CONTEXT_RULES)
    raw = load_yaml(p)
    for key in ("categories", "priority", "rules"):
        if key not in raw:
            raise RulesError(f"ConText rules {p} need a {key!r} entry")
    for category, by_dir in raw["rules"].items():
        for direction, phrases in (by_dir or {}).items():
            if direction.split()[0].upper() not in DIRECTIONS:
                raise RulesError(f"ConText rules {p}: {category} has an unknown direction {direction!r}")
            for phrase in phrases or ():
                if not isinstance(phrase, str):
                    raise RulesError(
                        f"ConText rules {p}: {category}/{direction} has a non-text entry {phrase!r} "
                        '(quote words such as "no" in YAML)'
                    )
    for cat, value in (raw.get("category_values") or {}).items():
        if value not in LABEL_SCHEMA.values:
            raise RulesError(
                f"ConText rules {p}: category_values.{cat} is {value!r}, "
                f"not one of {', '.join(LABEL_SCHEMA.values)}"
            )
    for cat, status in raw["categories"].items():
        if status not in LABEL_SCHEMA.assertions:
            raise RulesError(f"ConText rules {p}: category {cat} maps to unknown status {status!r}")
    for item in raw.get("overrides") or ():
        if not isinstance(item, dict) or not item.get("base") or not str(item.get("reason") or "").strip():
            raise RulesError(f"ConText rules {p}: every override needs a 'base' rule literal and a 'reason'")
    return raw


def expand_alternatives(phrase: str) -> list[str]:
    """'is|was not seen|noted' -> ['is not seen', 'is not noted', 'was not seen', 'was not noted']."""
    words = phrase.lower().split()
    return [" ".join(c) for c in itertools.product(*(w.split("|") if len(w) > 1 else [w] for w in words))]


def radiology_cues(raw: dict) -> list[Cue]:
    """The radiology layer's cues; a phrase listed FORWARD and BACKWARD is one BIDIRECTIONAL cue."""
    out = []
    for category, by_dir in raw["rules"].items():
        dirs: dict[str, str] = {}
        for direction, phrases in (by_dir or {}).items():
            d = direction.split()[0].upper()  # "BACKWARD postposed": a named group of BACKWARD cues
            for key in (k for phrase in phrases or () for k in expand_alternatives(str(phrase))):
                prev = dirs.get(key)
                both = prev is not None and prev != d and {prev, d} <= ONE_WAY
                dirs[key] = "BIDIRECTIONAL" if both else d
        out.extend(Cue(phrase, category.upper(), d, "radiology") for phrase, d in dirs.items())
    seen: dict[str, str] = {}
    for cue in out:
        if seen.setdefault(cue.phrase, cue.category) != cue.category:
            raise RulesError(
                f"ConText rules: {cue.phrase!r} is listed under both {seen[cue.phrase]} and {cue.category}"
            )
    return out


def _compatible(base: Cue, category: str, direction: str) -> bool:
    """Whether a radiology cue keeps a base cue's meaning: the same category and direction;
    terminators are terminators whatever their category."""
    if base.direction == "TERMINATE" or direction == "TERMINATE":
        return base.direction == direction
    return category == base.category and direction == base.direction


def layered_cues(raw: dict, base_path: str | Path | None = None) -> list[Cue]:
    """Base cues (minus the listed overrides) followed by the radiology cues.

    Raises RulesError when the radiology layer gives a base phrase another category or direction
    and that base rule is not listed under ``overrides`` (or an override names no base rule)."""
    base = base_cues(base_path)
    dropped = {str(o["base"]).lower() for o in raw.get("overrides") or ()}
    unknown = dropped - set(base)
    if unknown:
        raise RulesError(
            "ConText overrides name rules medspaCy's defaults do not have: " + ", ".join(sorted(unknown))
        )
    radiology = radiology_cues(raw)
    meaning = {}
    for cue in radiology:
        meaning.setdefault(cue.phrase, set()).add((cue.category, cue.direction))
    conflicts = []
    for literal, cues in base.items():
        if literal in dropped:
            continue
        for cue in cues:
            other = meaning.get(cue.phrase)
            if other and not any(_compatible(cue, cat, d) for cat, d in other):
                conflicts.append(f"{cue.phrase!r} (base rule {literal!r}: {cue.category} {cue.direction})")
    if conflicts:
        raise RulesError(
            "the radiology ConText layer redefines base cues without a listed override: "
            + "; ".join(sorted(set(conflicts)))
        )
    kept = [c for literal, cues in base.items() if literal not in dropped for c in cues]
    # a phrase both layers define (compatibly) is the radiology layer's: one rule per phrase, as
    # two rules on the same words would be pruned to one arbitrarily
    return [c for c in kept if c.phrase not in meaning] + radiology


class ClauseBound:
    """``on_modifies`` check of a cue that looks back: it reaches a finding before it only over
    that finding's own clause. A clause verb ("is", "was", "shows") between the finding and the
    cue means the finding belongs to another clause ("The heart is enlarged and effusion is not
    seen"), unless the verb is the cue's own auxiliary, at most ``aux_window`` tokens before it
    ("effusion is again not seen"). A finding matched with its own verb ("the heart is
    enlarged") is a clause of its own and is never reached."""

    def __init__(self, verbs: list[str], aux_window: int = 2):
        self.verbs = frozenset(v.lower() for v in verbs)
        self.aux_window = aux_window

    def __call__(self, target, modifier, span_between) -> bool:
        if target.end > modifier.start:
            return True  # the cue is before the finding: its scope is ConText's
        doc = target.doc
        if any(t.lower_ in self.verbs for t in target):
            return False  # the finding is a clause of its own ("the heart is enlarged")
        last = modifier.start - self.aux_window
        return not any(doc[k].lower_ in self.verbs for k in range(target.end, last))


def to_medspacy(cues: list[Cue], clause_verbs: list[str] | None = None):
    """ConTextRule objects (one per distinct phrase and meaning); cues that look back are
    bounded to their clause when ``clause_verbs`` are given."""
    from medspacy.context import ConTextRule

    bound = ClauseBound(clause_verbs) if clause_verbs else None
    return [
        ConTextRule(
            literal=c.phrase,
            category=c.category,
            direction=c.direction,
            on_modifies=bound if c.direction in ("BACKWARD", "BIDIRECTIONAL") else None,
        )
        for c in cues
    ]
