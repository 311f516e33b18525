"""spaCy extension attributes shared by the pipeline stages.

Mentions are ``doc.ents``; each mention span carries:

==================  ==============================================================
``span._.observation``   observation id from ``rules/observations.yml`` (e.g. ``pleural_effusion``)
``span._.labels``        taxonomy labels it feeds (empty tuple: a finding outside the taxonomy)
``span._.is_finding``    True if the observation is an abnormal finding (decides No Finding)
``span._.assertion``     present / absent / possible / historical / hypothetical / other
``span._.trigger``       the ConText modifier span that decided the assertion, or None
``span._.value_override``  value name ("positive"...) when the deciding cue's category sets one
``span._.normality_statement``  True for a normality statement ("heart size is normal"): its words
                         name a structure, not the finding (the linker treats it accordingly)
``span._.section_category``  section category (medspaCy's attribute; None before any header = ``unknown``)
``span._.cui``           UMLS CUI from the linking stage, or None
``span._.preferred_name``  the concept's preferred name, or None
``span._.cui_status``    "verified" / "unverified" (ontologies/cui_evidence.tsv; a UMLS-built KB is
                         verified), or None
``span._.link_score``    linker similarity in [0, 1], or None
``span._.candidates``    [(cui, score), …] best first, from the linker
==================  ==============================================================

``doc._.report_labels`` is the aggregated row ``{label: 1.0 | 0.0 | -1.0 | None}``.
``doc._.taxonomy`` is the taxonomy name the row is in.
"""

from __future__ import annotations

from spacy.tokens import Doc, Span

_SPAN_ATTRS = {
    "observation": None,
    "labels": (),
    "is_finding": True,
    "assertion": None,
    "trigger": None,
    "assertion_override": None,
    "normality_statement": False,
    "value_override": None,
    "cui": None,
    "preferred_name": None,
    "cui_status": None,
    "link_score": None,
    "candidates": None,
}


def register_extensions() -> None:
    for name, default in _SPAN_ATTRS.items():
        if not Span.has_extension(name):
            Span.set_extension(name, default=default)
    if not Doc.has_extension("report_labels"):
        Doc.set_extension("report_labels", default=None)
    if not Doc.has_extension("taxonomy"):
        Doc.set_extension("taxonomy", default=None)


register_extensions()
