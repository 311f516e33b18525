"""Stage 6: one row per report, CheXpert semantics.

Each mention contributes the value of its assertion (``rules/labels.yml``: present 1,
absent 0, possible -1; historical, hypothetical and other leave the label blank) to every
taxonomy label its observation feeds. Several mentions of one label combine by precedence
positive > uncertain > negative. A cue category can set its own value (``category_values`` in
``rules/assertion/context.yml``: "old healed fracture" is historical but still positive).
"No Finding" is 1 only when no finding other than those of labels with
``counts_as_finding: false`` (Support Devices) is positive, uncertain or possible, counting findings
outside the taxonomy; otherwise it is blank.
"""

from collections.abc import Iterable

from spacy.language import Language
from spacy.tokens import Doc, Span

from . import extensions  # noqa: F401
from .schema import LABEL_SCHEMA, Taxonomy, empty_row, load_taxonomy


def mention_value(span: Span) -> float | None:
    """The label value one mention contributes (its assertion's, or its cue category's)."""
    u = span._
    if u.value_override is not None:
        return LABEL_SCHEMA.values[u.value_override]
    return LABEL_SCHEMA.value_of_assertion(u.assertion or "present")


def aggregate_mentions(mentions: Iterable[Span], taxonomy: Taxonomy) -> dict[str, float | None]:
    """Report row from mentions that carry ``_.labels``, ``_.assertion`` and ``_.is_finding``."""
    per_label: dict[str, list[float | None]] = {}
    blocks_no_finding = False
    non_finding_labels = {l.name for l in taxonomy.labels if not l.counts_as_finding}
    blocking = (LABEL_SCHEMA.POSITIVE, LABEL_SCHEMA.UNCERTAIN)
    value_of = {a: LABEL_SCHEMA.value_of_assertion(a) for a in LABEL_SCHEMA.assertions}
    values = LABEL_SCHEMA.values
    for m in mentions:
        u = m._  # one Underscore object per mention (each `m._` builds a new one)
        labels = u.labels
        value = (
            values[u.value_override] if u.value_override is not None else value_of[u.assertion or "present"]
        )
        for label in labels:
            per_label.setdefault(label, []).append(value)
        # a possible finding keeps No Finding blank even when its own label stays blank
        # ("may represent atelectasis": SUGGESTIVE, value not_mentioned)
        if (value in blocking or u.assertion == "possible") and not blocks_no_finding:
            if labels:
                if any(l not in non_finding_labels for l in labels):
                    blocks_no_finding = True
            elif u.is_finding:
                blocks_no_finding = True
    row = empty_row(taxonomy.label_names)
    for label, vals in per_label.items():
        row[label] = LABEL_SCHEMA.combine(vals)
    if taxonomy.no_finding is not None:
        row[taxonomy.no_finding] = LABEL_SCHEMA.BLANK if blocks_no_finding else LABEL_SCHEMA.POSITIVE
    return row


class ReportAggregator:
    def __init__(self, nlp: Language, name: str, taxonomy: str):
        self.name = name
        self.taxonomy = load_taxonomy(taxonomy)

    def __call__(self, doc: Doc) -> Doc:
        doc._.report_labels = aggregate_mentions(doc.ents, self.taxonomy)
        doc._.taxonomy = self.taxonomy.name
        return doc

    # the taxonomy travels with the pipeline, so a saved pipeline loads anywhere
    def to_disk(self, path, exclude=tuple()):
        import srsly
        from spacy.util import ensure_path

        from .resources import load_yaml

        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_yaml(
            path / "taxonomy.yml", {**load_yaml(self.taxonomy.path), "observations_file": "observations.yml"}
        )
        srsly.write_yaml(path / "observations.yml", load_yaml(self.taxonomy.observations_file))

    def from_disk(self, path, exclude=tuple()):
        from spacy.util import ensure_path

        self.taxonomy = load_taxonomy(str(ensure_path(path) / "taxonomy.yml"))
        return self


@Language.factory("reportlab_aggregate", default_config={"taxonomy": "chexpert"})
def make_aggregator(nlp: Language, name: str, taxonomy: str) -> ReportAggregator:
    return ReportAggregator(nlp, name, taxonomy)
