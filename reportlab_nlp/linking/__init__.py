"""UMLS concept linking for report mentions.

Importing this package registers the ``reportlab_linker`` spaCy factory::

    import reportlab_nlp.linking
    nlp.add_pipe("reportlab_linker", config={"kb": None})   # None: the shipped ontologies/ table

Plain-Python use: ``get_linker(kb).link("plueral efusion")``.
"""

from __future__ import annotations

from .component import ReportLabLinker, make_reportlab_linker
from .concepts import Concept, load_concepts, resolve_kb, write_kb
from .index import cache_root
from .linker import DEFAULT_K, DEFAULT_THRESHOLD, ConceptLinker, LinkResult, get_linker
from .umls import build_from_table, build_from_umls

__all__ = [
    "DEFAULT_K",
    "DEFAULT_THRESHOLD",
    "Concept",
    "ConceptLinker",
    "LinkResult",
    "ReportLabLinker",
    "build_from_table",
    "build_from_umls",
    "cache_root",
    "get_linker",
    "load_concepts",
    "make_reportlab_linker",
    "resolve_kb",
    "write_kb",
]
