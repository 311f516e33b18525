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
from collections.abc import Sequence
from pathlib import Path

from spacy.language import Language

from . import aggregation, assertion, mentions, sentences  # noqa: F401  (register factories)
from . import sections as _sections  # noqa: F401  (registers reportlab_sections)
from .nlp_base import blank_pipeline
from .schema import load_taxonomy

__all__ = ["blank_pipeline", "load"]

log = logging.getLogger(__name__)


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
