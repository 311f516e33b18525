"""Stage 1: section detection (FINDINGS, IMPRESSION, INDICATION, ...).

A thin factory over medspaCy's :class:`~medspacy.section_detection.Sectionizer`, with the
radiology header rules of ``rules/sections.yml`` compiled to token patterns: a header matches at
the start of a line, in any case, followed by a colon; without a colon it must be written in
capitals or stand alone on its line ("IMPRESSION No acute..." / "Impression\\n..."). Each token
gets ``token._.section_category`` (medspaCy's attribute); text before any header is ``unknown``.
"""

from collections.abc import Callable, Iterable

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import ensure_path

from . import extensions  # noqa: F401  (registers Span/Doc attributes)
from .section_rules import header_words, load_section_rules


def _header_patterns(phrase: str, tokenize: Callable[[str], list[str]]) -> list[list[dict] | None]:
    """Patterns for one header phrase: 'Phrase:' in any case (None = medspaCy's fast phrase
    matching of the literal), 'PHRASE' in capitals, and 'Phrase' alone before a line break.
    ``tokenize`` splits each word as the pipeline's tokenizer does ("x-ray" -> x, -, ray)."""
    tokens = [t for w in header_words(phrase) for t in tokenize(w)]
    lower = [{"LOWER": t.lower()} for t in tokens]
    upper = [{"TEXT": t.upper()} if t.isalpha() else {"LOWER": t.lower()} for t in tokens]
    # plain attribute values only: REGEX/IN predicates run in Python and are slow
    return [None, upper, lower + [{"IS_SPACE": True}]]


def section_rules_for_medspacy(rules: dict, tokenize: Callable[[str], list[str]] = str.split):
    from medspacy.section_detection import SectionRule

    out = []
    for category, phrases in rules["sections"].items():
        for phrase in phrases:
            for pattern in _header_patterns(phrase, tokenize):
                if pattern is None:
                    out.append(SectionRule(literal=f"{phrase}:", category=category))
                else:
                    out.append(SectionRule(literal=phrase, category=category, pattern=pattern))
    return out


def _line_start_sectionizer():
    """medspaCy's Sectionizer, with "start of a line" meaning only white space before the header
    on its line (medspaCy's own test misses headers on an indented first line, as in MIMIC)."""
    from medspacy.section_detection import Sectionizer

    class LineStartSectionizer(Sectionizer):
        def filter_start_lines(self, doc, matches):
            text = doc.text
            out = []
            for match in matches:
                idx = doc[match[1]].idx
                line_start = text.rfind("\n", 0, idx) + 1
                if not text[line_start:idx].strip():
                    out.append(match)
            return out

    return LineStartSectionizer


class SectionDetector:
    """Wraps medspaCy's Sectionizer; rules are kept as data and saved with the pipeline."""

    def __init__(self, nlp: Language, name: str, rules: str | None, labeled: list[str] | None):
        self.name = name
        self.nlp = nlp
        self.rules_path = rules
        self._build(load_section_rules(rules))
        if labeled is not None:
            self.labeled = list(labeled)

    def _build(self, rules: dict) -> None:
        self.rules = rules
        self.labeled = list(rules["labeled"])
        self._sectionizer = _line_start_sectionizer()(
            self.nlp,
            name=f"{self.name}_medspacy",
            rules=None,
            require_start_line=True,
            input_span_type=None,
            span_attrs=None,
        )
        self._sectionizer.add(
            section_rules_for_medspacy(rules, lambda w: [t.text for t in self.nlp.make_doc(w)])
        )

    def __call__(self, doc: Doc) -> Doc:
        return self._sectionizer(doc)

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128):
        for doc in docs:
            yield self(doc)

    # -- serialisation: the rules travel with the pipeline ----------------------------
    def to_disk(self, path, exclude=tuple()):
        import srsly

        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "section_rules.json", {**self.rules, "labeled": self.labeled})

    def from_disk(self, path, exclude=tuple()):
        import srsly

        rules = srsly.read_json(ensure_path(path) / "section_rules.json")
        self._build(rules)
        self.labeled = list(rules["labeled"])
        return self


@Language.factory(
    "reportlab_sections",
    default_config={"rules": None, "labeled": None},
)
def make_section_detector(
    nlp: Language, name: str, rules: str | None, labeled: list[str] | None
) -> SectionDetector:
    """``rules``: a sections YAML path (default: the shipped ``rules/sections.yml``);
    ``labeled``: section categories whose mentions are labeled (default from the rules file)."""
    return SectionDetector(nlp, name, rules, labeled)


def section_of_span(span) -> str:
    """Section category of a span; text before any header is ``unknown``."""
    cat = span[0]._.section_category if len(span) and span[0].has_extension("section_category") else None
    return cat or "unknown"
