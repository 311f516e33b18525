"""The de-id tests' view of a detector's output: (text, category) pairs in text order."""

from __future__ import annotations

from reportlab_nlp.deid import Detector


def found(det: Detector, text: str) -> list[tuple[str, str]]:
    """Each detected span of ``text`` as (its text, its category)."""
    return [(text[s.start : s.end], s.category) for s in det.detect(text)]
