"""Assembling the labeling pipeline: ``reportlab_nlp.load()``.

Stages (each a registered spaCy factory, defined in its own module):

1. ``reportlab_sections``   (sections.py)   medspaCy Sectionizer with radiology header rules
2. ``reportlab_sentences``  (sentences.py)  report-aware sentence splitting
3. ``reportlab_mentions``   (mentions.py)   taxonomy observation mentions -> ``doc.ents``
4. ``reportlab_assertion``  (assertion.py)  medspaCy ConText -> ``span._.assertion``
5. ``reportlab_linker``     (linking/)      UMLS CUI per mention (optional, ``link=True``)
6. ``reportlab_aggregate``  (aggregation.py) CheXpert row -> ``doc._.report_labels``
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import spacy
from spacy.language import Language

from . import aggregation, assertion, mentions, sections, sentences  # noqa: F401  (register factories)
from .schema import load_taxonomy

log = logging.getLogger(__name__)

# keep medspaCy's own chatter out of the logs
for _name in ("PyRuSH", "medspacy"):
    logging.getLogger(_name).setLevel(logging.WARNING)
# medspaCy keeps an empty token Matcher beside its PhraseMatcher when all rules are phrases
warnings.filterwarnings("ignore", message=r".*\[W036\]")


def blank_pipeline() -> Language:
    """A blank English tokenizer (no statistical model is needed for labeling).

    URL matching is switched off: reports hold no URLs worth keeping whole, and the regex runs
    on every token (about a fifth of tokenizer time)."""
    nlp = spacy.blank("en")
    nlp.tokenizer.url_match = None
    return nlp


def load(
    taxonomy: str | Path = "chexpert",
    *,
    sections: Sequence[str] | None = None,
    all_sections: bool = False,
    link: bool = False,
    kb: str | Path | None = None,
) -> Language:
    """Build the rule labeling pipeline.

    Args:
        taxonomy: ``"chexpert"``, ``"nih14"`` or a taxonomy YAML path.
        sections: section categories to label (default: ``labeled`` in ``rules/sections.yml``,
            i.e. findings, impression and header-less text).
        all_sections: label every section, INDICATION and HISTORY included.
        link: add the UMLS concept linker (``span._.cui``, ``preferred_name``, ``link_score``).
        kb: knowledge-base folder built by ``reportlab-nlp ontology build`` (default: shipped ontology).
    """
    load_taxonomy(str(taxonomy))  # fail early with a clear error
    nlp = blank_pipeline()
    sec = nlp.add_pipe("reportlab_sections")
    nlp.add_pipe("reportlab_sentences")
    labeled = None if all_sections else list(sections) if sections is not None else list(sec.labeled)
    nlp.add_pipe("reportlab_mentions", config={"taxonomy": str(taxonomy), "sections": labeled})
    nlp.add_pipe("reportlab_assertion")
    if link or kb is not None:
        import reportlab_nlp.linking  # noqa: F401  (registers reportlab_linker)

        nlp.add_pipe("reportlab_linker", config={"kb": None if kb is None else str(kb)})
    nlp.add_pipe("reportlab_aggregate", config={"taxonomy": str(taxonomy)})
    return nlp
