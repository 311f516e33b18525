"""reportlab_nlp: radiology reports to CheXpert-style labels with evidence.

>>> import reportlab_nlp
>>> nlp = reportlab_nlp.load(taxonomy="chexpert")          # doctest: +SKIP
>>> doc = nlp("FINDINGS: Small left pleural effusion.")    # doctest: +SKIP
>>> doc._.report_labels["Pleural Effusion"]                # doctest: +SKIP
1.0

Heavy libraries load lazily: importing this package is cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "load": ("reportlab_nlp.pipeline", "load"),
    "label_dataframe": ("reportlab_nlp.labeler", "label_dataframe"),
    "label_texts": ("reportlab_nlp.labeler", "label_texts"),
    "label_archive": ("reportlab_nlp.labeler", "label_archive"),
    "assert_target": ("reportlab_nlp.assertion", "assert_target"),
    "load_taxonomy": ("reportlab_nlp.schema", "load_taxonomy"),
    "LABEL_SCHEMA": ("reportlab_nlp.schema", "LABEL_SCHEMA"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'reportlab_nlp' has no attribute {name!r}")


__all__ = [*_LAZY, "__version__"]
