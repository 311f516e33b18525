"""De-identification of radiology report text.

>>> from reportlab_nlp.deid import Deidentifier                         # doctest: +SKIP
>>> Deidentifier("mask").deidentify("Seen by Dr. Smith on 01/02/2019.")   # doctest: +SKIP
'Seen by Dr. [NAME] on [DATE].'

Modules: ``detect`` (patterns, cues, dictionaries, allow-list, optional spaCy NER),
``surrogate`` (masks and HMAC-seeded surrogates with per-group date shift), ``pipeline``
(strings, DataFrames, archives; fail closed; audit), ``evaluate`` (token/instance metrics),
``synthetic`` (synthetic reports with PHI offsets: training data and benchmark; templates in
``rules/deid/synthetic.yml``), ``model_signal`` (the optional token classifier and its union with the
rules; imports torch only when used), ``training`` (``deid train``).
"""

from __future__ import annotations

from .detect import CATEGORIES, Detector, Span
from .evaluate import evaluate_spans, format_report, read_spans
from .pipeline import MODES, Audit, Deidentifier, FrameResult, deidentify_archive, read_secret
from .surrogate import Surrogator, mask_text

__all__ = [
    "CATEGORIES",
    "MODES",
    "Audit",
    "Deidentifier",
    "Detector",
    "FrameResult",
    "Span",
    "Surrogator",
    "deidentify_archive",
    "evaluate_spans",
    "format_report",
    "mask_text",
    "read_secret",
    "read_spans",
]
