"""The blank spaCy pipeline every reportlab pipeline starts from.

A module below both ``pipeline`` (the full labeling pipeline) and the stages that build small
pipelines of their own (``assertion.assert_target``), so neither imports the other.
"""

from __future__ import annotations

import logging
import warnings

import spacy
from spacy.language import Language

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
